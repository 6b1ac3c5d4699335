"""Evenly spaced values for the statistics that need them (spectra, autocorrelation, lagged
correlation): calendar series are checked for gaps, paleo records (unevenly sampled in age)
are interpolated linearly onto a regular age grid, stated in the result."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from climcopilot.tools.base import ToolError
from climcopilot.tools.datamodel.timeaxis import (
    AGE,
    LAG_UNIT,
    frequency_of,
    is_age_series,
    time_step_years,
)


@dataclass(frozen=True)
class EvenSeries:
    """``values`` (n,) evenly spaced, forward in time; one step is ``lag_step`` in
    ``lag_unit`` ('months', 'years', 'kyr', ...) and ``period_step`` in ``period_unit``
    ('years' for calendar series, 'kyr' for paleo records); ``note`` says how the spacing
    was made even ('' when it already was)."""

    values: np.ndarray
    lag_step: float
    lag_unit: str
    period_step: float
    period_unit: str
    note: str = ""


def nice_step(spacing: float) -> float:
    """The round number (1, 2 or 5 times a power of ten) nearest to ``spacing`` in log."""
    candidates = [m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5)]
    return min(candidates, key=lambda c: abs(np.log(c / spacing)))


def age_grid(youngest: float, oldest: float, step: float) -> np.ndarray:
    """Ages from ``oldest`` down to ``youngest`` (ka BP) on multiples of ``step``, oldest
    first (forward in time)."""
    first = np.floor(oldest / step) * step
    last = np.ceil(youngest / step) * step
    n = int(round((first - last) / step)) + 1
    return first - step * np.arange(n)


def on_ages(da: xr.DataArray, ages: np.ndarray) -> xr.DataArray:
    """A paleo record linearly interpolated to ``ages`` (ka BP, oldest first)."""
    src = da.dropna(AGE)
    x, y = src[AGE].values[::-1], src.values[::-1]  # np.interp needs increasing ages
    values = np.interp(ages, x, y)
    return xr.DataArray(values, dims=AGE, coords={AGE: ages}, name=da.name, attrs=da.attrs)


def median_spacing(da: xr.DataArray) -> float:
    """Median distance between neighbouring samples of a paleo record, in kyr."""
    return float(np.median(np.abs(np.diff(da[AGE].values))))


def evenly_spaced(da: xr.DataArray, handle: str) -> EvenSeries:
    """The series' values on an even axis: a calendar series must have no gaps at its
    frequency (a ToolError says what to do); a paleo record is interpolated onto a grid of
    the round step nearest its median sample spacing."""
    if is_age_series(da):
        age = da[AGE].values
        step = nice_step(median_spacing(da))
        diffs = np.abs(np.diff(age))
        if np.allclose(diffs, diffs[0], rtol=1e-6):
            return EvenSeries(da.values.astype(float), float(diffs[0]), "kyr", float(diffs[0]),
                              "kyr")
        grid = age_grid(float(age.min()), float(age.max()), step)
        grid = grid[(grid <= age.max()) & (grid >= age.min())]
        even = on_ages(da, grid)
        return EvenSeries(even.values, step, "kyr", step, "kyr",
                          f"interpolated linearly to an even {step:g}-kyr age grid "
                          f"({grid.size} points from {da[AGE].size} samples)")
    freq = frequency_of(da)
    gaps = _gaps(da, freq)
    if gaps:
        raise ToolError(f"{handle!r} is not evenly spaced: {gaps} gaps in its {freq} steps "
                        "(missing values, or a season's months only); take one value per "
                        "year first (analysis.subset with seasonal_mean, or "
                        "analysis.annual_mean)")
    return EvenSeries(da.values.astype(float), 1.0, LAG_UNIT[freq],
                      time_step_years(da["time"]), "years")


def _gaps(da: xr.DataArray, freq: str) -> int:
    """Steps of a calendar series longer than one step of ``freq``."""
    t = da["time"].values
    if freq == "weekly":
        days = np.diff(t).astype("timedelta64[D]").astype(int) if np.issubdtype(
            t.dtype, np.datetime64) else np.array([(b - a).days for a, b in zip(t, t[1:])])
        return int((days > 7).sum())
    dates = pd.DatetimeIndex(t) if np.issubdtype(t.dtype, np.datetime64) else t
    count = np.array([d.year * (12 if freq == "monthly" else 1)
                      + (d.month if freq == "monthly" else 0) for d in dates])
    return int((np.diff(count) > 1).sum())
