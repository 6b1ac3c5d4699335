"""Seasons: runs of consecutive calendar months ('JJAS', 'DJF', 'NDJFM', 'Jul'), which
months and years of a series belong to one, and one mean per season and year.

A season that crosses the new year belongs to the year of its last month: DJF 1981 is
December 1980 to February 1981, NDJFM 1963 is November 1962 to March 1963.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from climcopilot.tools.base import ToolError

_LETTERS = "JFMAMJJASOND"


@dataclass(frozen=True)
class Season:
    """``length`` consecutive months from month ``first`` (1-12), called ``label``."""

    first: int
    length: int
    label: str

    @property
    def months(self) -> tuple[int, ...]:
        return tuple((self.first - 1 + k) % 12 + 1 for k in range(self.length))

    @property
    def wraps(self) -> bool:
        """True when the season crosses the new year (e.g. DJF)."""
        return self.first + self.length - 1 > 12

    @property
    def last_month_name(self) -> str:
        return calendar.month_name[self.months[-1]]

    def season_years(self, months: np.ndarray, years: np.ndarray) -> np.ndarray:
        """The season year of each (month, year): the year of the season's last month."""
        return years + (self.wraps & (months >= self.first))


ANNUAL = Season(1, 12, "annual")
"""The calendar year as a 12-month season."""


def parse_season(spec: str | list[int]) -> Season:
    """A season from month initials ('JJAS', 'DJF', 'NDJFM'; any case), a month name or
    abbreviation ('July', 'jul'), or consecutive month numbers ([12, 1, 2])."""
    if isinstance(spec, list):
        return _from_numbers([int(m) for m in spec])
    text = spec.strip()
    names = {n.lower(): i for i, n in enumerate(calendar.month_name) if n}
    names.update({n.lower(): i for i, n in enumerate(calendar.month_abbr) if n})
    if text.lower() in names:
        month = names[text.lower()]
        return Season(month, 1, calendar.month_abbr[month])
    letters = text.upper()
    if 2 <= len(letters) <= 12 and set(letters) <= set(_LETTERS):
        starts = [i for i in range(12)
                  if all(_LETTERS[(i + k) % 12] == c for k, c in enumerate(letters))]
        if len(starts) == 1:
            return Season(starts[0] + 1, len(letters), letters)
        if len(starts) > 1:
            raise ToolError(f"season {spec!r} could mean {len(starts)} different month runs; "
                            "give more letters or month numbers, e.g. [6, 7]")
    raise ToolError(f"season {spec!r} is not a run of month initials ('JJAS', 'DJF', "
                    "'NDJFM'), a month name ('July') or consecutive month numbers ([12, 1, 2])")


def _from_numbers(months: list[int]) -> Season:
    if not months or len(months) > 12 or any(not 1 <= m <= 12 for m in months):
        raise ToolError(f"months {months} must be 1 to 12 numbers between 1 and 12")
    if any((b - a) % 12 != 1 for a, b in zip(months, months[1:])):
        raise ToolError(f"months {months} are not consecutive; give a run such as [12, 1, 2]")
    letters = "".join(_LETTERS[m - 1] for m in months)
    return Season(months[0], len(months),
                  calendar.month_abbr[months[0]] if len(months) == 1 else letters)


def month_year(time: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """(month 1-12, year) of each time, for any calendar."""
    t = time.values
    dates = pd.DatetimeIndex(t) if np.issubdtype(t.dtype, np.datetime64) else t
    return (np.array([d.month for d in dates]), np.array([d.year for d in dates]))


def season_months(da: xr.DataArray, season: Season) -> xr.DataArray:
    """The values of ``da`` that fall in ``season`` (every year)."""
    months, _ = month_year(da["time"])
    return da.isel(time=np.flatnonzero(np.isin(months, season.months)))


def season_means(da: xr.DataArray, season: Season, complete: bool = True
                 ) -> tuple[xr.DataArray, int]:
    """One mean per season year of a series (dim time; the new time: January 1 of that year)
    and the number of season years dropped: those with no finite value, and with
    ``complete`` those missing a month (a NaN month counts as missing)."""
    inside = season_months(da, season)
    months, years = month_year(inside["time"])
    table = pd.DataFrame({"value": inside.values, "month": months,
                          "year": season.season_years(months, years)})
    groups = table.dropna(subset=["value"]).groupby("year")
    means = groups["value"].mean()
    full = (groups["month"].nunique() == season.length if complete
            else pd.Series(True, index=means.index))
    kept = means[full]
    dropped = table["year"].nunique() - kept.size
    time = pd.DatetimeIndex([pd.Timestamp(year=int(y), month=1, day=1) for y in kept.index])
    out = xr.DataArray(kept.to_numpy(), dims="time", name=da.name,
                       coords={"time": time.to_numpy()})
    return out.assign_attrs(da.attrs, frequency="annual"), int(dropped)
