"""Time axes of any calendar (numpy datetimes or cftime): decimal years, steps, annual means,
and fetching a session DataArray that has a time dimension."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import xarray as xr

from climcopilot.tools.base import ToolContext, ToolError


def decimal_years(time: xr.DataArray) -> np.ndarray:
    """Time as decimal years (1950.0 = start of 1950), for any calendar; shape (n,)."""
    t = time.values
    if np.issubdtype(t.dtype, np.datetime64):
        ts = pd.DatetimeIndex(t)
        return (ts.year + (ts.dayofyear - 1) / (365 + ts.is_leap_year)).to_numpy(float)
    return np.array([x.year + (x.dayofyr - 1) / _days_in_year(x) for x in t], dtype=float)


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


def get_dataarray(ctx: ToolContext, handle: str, need_time: bool = True) -> xr.DataArray:
    """The session DataArray ``handle``; a ToolError if it is something else or lacks time."""
    da = ctx.get(handle)
    if not isinstance(da, xr.DataArray):
        raise ToolError(f"{handle!r} is a {type(da).__name__}, not a DataArray")
    if need_time and "time" not in da.dims:
        raise ToolError(f"{handle!r} has no 'time' dimension (dims: {', '.join(da.dims)})")
    return da
