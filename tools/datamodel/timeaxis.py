"""Time axes: calendar time of any calendar (numpy datetimes or cftime) and the age axis of
paleo records; decimal years, steps, annual means, period and age-range selection, and
fetching a session DataArray that has a time (or age) dimension.

A paleo record runs along the dimension ``age`` (float, thousands of years before 1950,
ka BP), oldest first, so that its array runs forward in time like a calendar series, and
carries ``attrs["time_axis"] = "age_ka"``. Calendar months, seasons and years do not apply
to it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from climcopilot.tools.base import ToolContext, ToolError

AGE = "age"
"""The dimension of a paleo record: age in ka BP (before 1950), oldest first."""
AGE_AXIS = "age_ka"
"""``attrs["time_axis"]`` of a paleo record."""

RULES = {"weekly": "W", "monthly": "MS", "annual": "YS"}
"""Calendar frequencies the series tools put series on, as pandas resampling rules."""
ORDER = ["weekly", "monthly", "annual"]
"""Calendar frequencies from finest to coarsest."""
LAG_UNIT = {"weekly": "weeks", "monthly": "months", "annual": "years"}
"""The unit of one time step (a lag) at each calendar frequency."""


def is_age_series(da: xr.DataArray) -> bool:
    """True for a paleo record on an age axis (dim ``age``)."""
    return AGE in da.dims


def along(da: xr.DataArray) -> str:
    """The dimension a series runs along: ``age`` for paleo records, else ``time``."""
    return AGE if is_age_series(da) else "time"


def decimal_years(time: xr.DataArray) -> np.ndarray:
    """Time as decimal years (1950.0 = start of 1950), for any calendar; shape (n,)."""
    t = time.values
    if np.issubdtype(t.dtype, np.datetime64):
        ts = pd.DatetimeIndex(t)
        return (ts.year + (ts.dayofyear - 1) / (365 + ts.is_leap_year)).to_numpy(float)
    return np.array([x.year + (x.dayofyr - 1) / _days_in_year(x) for x in t], dtype=float)


def axis_years(da: xr.DataArray) -> np.ndarray:
    """The series' axis in years CE, increasing forward in time (an age of a ka BP is the
    year 1950 - 1000 a); shape (n,)."""
    if is_age_series(da):
        return 1950.0 - 1000.0 * da[AGE].values.astype(float)
    return decimal_years(da["time"])


def _days_in_year(t) -> int:
    """Days in the cftime date's year under its calendar."""
    import cftime

    return cftime.datetime(t.year + 1, 1, 1, calendar=t.calendar).toordinal() - cftime.datetime(
        t.year, 1, 1, calendar=t.calendar).toordinal()


def time_step_years(time: xr.DataArray) -> float:
    """Mean time step in years: the span over the number of steps (a regular axis's spacing;
    a median of monthly steps would give 31/365 instead of 1/12)."""
    years = decimal_years(time)
    return float((years[-1] - years[0]) / (len(years) - 1))


def frequency_of(da: xr.DataArray) -> str:
    """A calendar series' frequency: its ``frequency`` attribute when that is one of
    :data:`RULES`, else guessed from the median time step."""
    freq = da.attrs.get("frequency")
    if freq in RULES:
        return freq
    t = da["time"].values
    if t.size < 2:
        return "annual"
    days = (np.diff(t).astype("timedelta64[s]").astype(float) / 86400 if np.issubdtype(
        t.dtype, np.datetime64) else np.array([(b - a).total_seconds() / 86400
                                               for a, b in zip(t, t[1:])]))
    step = np.median(days)
    return "weekly" if step < 20 else "monthly" if step < 200 else "annual"


def month_label(t) -> str:
    """'YYYY-MM' of a numpy datetime, pandas timestamp or cftime date."""
    return f"{t.year:04d}-{t.month:02d}" if hasattr(t, "month") else f"{pd.Timestamp(t):%Y-%m}"


def span(da: xr.DataArray) -> str:
    """The series' first and last time: '1951-01 to 2003-12' or '805.7 to 0.0 ka BP'."""
    if is_age_series(da):
        age = da[AGE].values
        return f"{age[0]:.1f} to {age[-1]:.1f} ka BP"
    t = da["time"].values
    return f"{month_label(t[0])} to {month_label(t[-1])}"


def period_label(da: xr.DataArray, by_month: bool = False) -> str:
    """The period a calendar series covers: '1980-2000', or '1980-03 to 2000-06'."""
    if by_month:
        return span(da)
    dates = _dates(da["time"].values[[0, -1]])
    return f"{dates[0].year}-{dates[1].year}"


def annual_means(da: xr.DataArray) -> xr.DataArray:
    """Calendar-year means, on a time axis of January 1 timestamps (datetime64)."""
    out = da.groupby("time.year").mean("time")
    years = out["year"].values
    out = out.rename(year="time").assign_coords(
        time=pd.to_datetime({"year": years, "month": 1, "day": 1}).to_numpy())
    return out.assign_attrs(da.attrs, frequency="annual")


def years_in(value):
    """Years from text such as '[1950, 2014]' (a recipe template's list); other values
    unchanged. For pydantic ``field_validator(mode='before')``."""
    if isinstance(value, str):
        return [int(y) for y in re.findall(r"-?\d+", value)]
    return value


def parse_bound(value: str | int | None, name: str) -> tuple[int, int | None] | None:
    """('YYYY' or 'YYYY-MM' or a year) -> (year, month or None); None stays None."""
    if value is None:
        return None
    m = re.fullmatch(r"\s*(-?\d{1,4})(?:-(\d{1,2}))?\s*", str(value))
    if m is None or (m.group(2) and not 1 <= int(m.group(2)) <= 12):
        raise ToolError(f"{name} {value!r} is not a year or 'YYYY-MM'; give e.g. 1980 or "
                        "'1980-06'")
    return int(m.group(1)), int(m.group(2)) if m.group(2) else None


class Selected(NamedTuple):
    """A period cut: the data, the period as text, and what of the asked period the data do
    not cover ('' when they cover all of it)."""

    data: xr.DataArray
    label: str
    short: str = ""


def select_period(da: xr.DataArray, handle: str, start: str | int | None,
                  end: str | int | None, clip: bool = False) -> Selected:
    """``da`` from ``start`` to ``end`` ('YYYY' or 'YYYY-MM', inclusive; a year alone means
    all of it) and the period as text ('1980-2000', '1980-03 to 2000-06'). A bound outside the
    data's span (at the bound's precision) is a ToolError naming the span, unless ``clip``:
    then a period that overlaps the data is cut to the overlap, and ``short`` says why
    ('soi starts 1951-01'); no overlap is an error."""
    lo, hi = parse_bound(start, "start"), parse_bound(end, "end")
    dates = _dates(da["time"].values)
    months = np.array([d.year * 12 + d.month - 1 for d in dates])
    lo_m = months[0] if lo is None else lo[0] * 12 + (lo[1] or 1) - 1
    hi_m = months[-1] if hi is None else hi[0] * 12 + (hi[1] or 12) - 1
    if lo_m > hi_m:
        raise ToolError(f"start {start} is after end {end}")
    early = lo is not None and (lo[0] < dates[0].year if lo[1] is None else lo_m < months[0])
    late = hi is not None and (hi[0] > dates[-1].year if hi[1] is None else hi_m > months[-1])
    by_month = bool(lo and lo[1] or hi and hi[1])
    label = (f"{_month_text(lo_m)} to {_month_text(hi_m)}" if by_month
             else f"{lo_m // 12}-{hi_m // 12}")
    overlaps = lo_m <= months[-1] and hi_m >= months[0]
    if (early or late) and not (clip and overlaps):
        raise ToolError(f"period {label} is outside {handle}'s span {span(da)}; choose "
                        "years inside it")
    kept = da.isel(time=np.flatnonzero((months >= lo_m) & (months <= hi_m)))
    if not (early or late):
        return Selected(kept, label)
    ends = [f"starts {_month_text(months[0])}"] if early else []
    ends += [f"ends {_month_text(months[-1])}"] if late else []
    first, last = max(lo_m, months[0]), min(hi_m, months[-1])
    used = (f"{_month_text(first)} to {_month_text(last)}" if by_month
            else f"{first // 12}-{last // 12}")
    return Selected(kept, used, f"{handle} {' and '.join(ends)}")


def _dates(t: np.ndarray) -> list:
    return list(pd.DatetimeIndex(t)) if np.issubdtype(t.dtype, np.datetime64) else list(t)


def _month_text(month_count: int) -> str:
    return f"{month_count // 12}-{month_count % 12 + 1:02d}"


def select_ages(da: xr.DataArray, handle: str, oldest_ka: float | None,
                youngest_ka: float | None) -> tuple[xr.DataArray, str]:
    """A paleo record between ``oldest_ka`` and ``youngest_ka`` (ka BP, inclusive) and the
    range as text ('400-0 ka BP'); a bound beyond the record (by more than its median
    sample spacing) is a ToolError naming its span."""
    age = da[AGE].values.astype(float)
    slack = float(np.median(np.abs(np.diff(age)))) if age.size > 1 else 0.0
    old = age.max() if oldest_ka is None else oldest_ka
    young = age.min() if youngest_ka is None else youngest_ka
    if old < young:
        raise ToolError(f"oldest_ka {old:g} is younger than youngest_ka {young:g}; the oldest "
                        "age is the larger number (ka BP)")
    if old > age.max() + slack or young < age.min() - slack:
        raise ToolError(f"ages {old:g}-{young:g} ka BP are outside {handle}'s span "
                        f"{span(da)}; choose ages inside it")
    out = da.isel({AGE: np.flatnonzero((age <= old) & (age >= young))})
    if out.sizes[AGE] < 2:
        raise ToolError(f"{handle} has fewer than 2 samples between {old:g} and {young:g} ka "
                        "BP; widen the range")
    return out, f"{old:g}-{young:g} ka BP"


def calendar_only(handle: str, what: str) -> ToolError:
    """The error for a paleo record given to a tool that needs calendar time."""
    return ToolError(f"{handle!r} is a paleo record on an age axis (ka BP): {what} does not "
                     "apply; use analysis.subset with oldest_ka/youngest_ka, analysis.trend, "
                     "describe, extremes, spectrum or autocorrelation")


def get_dataarray(ctx: ToolContext, handle: str, need_time: bool = True,
                  allow_age: bool = False) -> xr.DataArray:
    """The session DataArray ``handle``; a ToolError if it is something else or lacks time
    (with ``allow_age``, a paleo record's age axis counts as time)."""
    da = ctx.get(handle)
    if not isinstance(da, xr.DataArray):
        raise ToolError(f"{handle!r} is a {type(da).__name__}, not a DataArray")
    if need_time and is_age_series(da) and not allow_age:
        raise calendar_only(handle, "a calendar (months, seasons, calendar years)")
    if need_time and "time" not in da.dims and not is_age_series(da):
        raise ToolError(f"{handle!r} has no 'time' dimension (dims: {', '.join(da.dims)})")
    return da
