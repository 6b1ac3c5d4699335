"""Climatologies: the mean seasonal cycle, anomalies from a base period, and the difference
between the means of two periods (e.g. warming of 2011-2020 over 1850-1900)."""

from __future__ import annotations

import calendar

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field, field_validator

from climcopilot.tools.analysis.timeaxis import get_dataarray, years_in
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool


def monthly(da: xr.DataArray) -> xr.DataArray:
    """Monthly means of a series or field (weekly/daily data averaged; monthly kept)."""
    return da.resample(time="MS").mean().assign_attrs(da.attrs, frequency="monthly")


def deseasonalised_trend(da: xr.DataArray) -> xr.DataArray:
    """The centred 2x12-month moving average of a monthly series (the classical trend)."""
    return da.rolling(time=12, center=True).mean().rolling(time=2).mean().shift(time=-1)


def mean_seasonal_cycle(da: xr.DataArray) -> xr.DataArray:
    """Mean deviation from the 2x12-month moving average by calendar month; dim ``month``."""
    m = monthly(da)
    return (m - deseasonalised_trend(m)).groupby("time.month").mean("time")


class SeasonalCycleInput(BaseModel):
    handle: str = Field(description="handle of a sub-annual series (weekly, daily or monthly)")


class SeasonalCycleResult(ToolResult):
    cycle: list[float]
    month_of_max_name: str
    month_of_min_name: str


@tool("analysis.seasonal_cycle", family="analysis")
def seasonal_cycle(args: SeasonalCycleInput, ctx: ToolContext) -> SeasonalCycleResult:
    """Mean seasonal cycle of a series after removing its trend (centred 2x12-month moving
    average): month of maximum and minimum and peak-to-trough amplitude."""
    da = get_dataarray(ctx, args.handle)
    if da.dims != ("time",):
        raise ToolError(f"{args.handle!r} must be a series (dim 'time' only)")
    cycle = mean_seasonal_cycle(da)
    if cycle.sizes["month"] != 12 or monthly(da).sizes["time"] < 36:
        raise ToolError(f"{args.handle!r} needs at least 3 years of sub-annual data")
    values = cycle.values
    hi, lo = int(np.argmax(values)) + 1, int(np.argmin(values)) + 1
    amplitude = float(values.max() - values.min())
    units = da.attrs.get("units", "?")
    return SeasonalCycleResult(
        summary=f"seasonal cycle of {da.attrs.get('long_name', da.name)}: maximum in "
                f"{calendar.month_name[hi]}, minimum in {calendar.month_name[lo]}, "
                f"peak-to-trough {amplitude:.2f} {units}",
        values={"month_of_max": float(hi), "month_of_min": float(lo), "amplitude": amplitude},
        units={"month_of_max": "month (1-12)", "month_of_min": "month (1-12)",
               "amplitude": units},
        checks=[Check(name="cycle sums to about zero", passed=bool(
            abs(values.mean()) < 0.05 * max(amplitude, 1e-12)),
            detail=f"mean {values.mean():.3g}")],
        cycle=[float(v) for v in values], month_of_max_name=calendar.month_name[hi],
        month_of_min_name=calendar.month_name[lo])


class AnomaliesInput(BaseModel):
    handle: str = Field(description="handle of a series or field with a time dimension")
    base_start: str | None = Field(None, description="first year of the base period")
    base_end: str | None = Field(None, description="last year of the base period")
    by_month: bool = Field(True, description="remove a climatology per calendar month "
                                             "(False: one mean)")


class AnomaliesResult(ToolResult):
    handle: str


@tool("analysis.anomalies", family="analysis")
def anomalies(args: AnomaliesInput, ctx: ToolContext) -> AnomaliesResult:
    """Anomalies from the base-period climatology (per calendar month by default); stored as
    '<handle>_anom' and the climatology as '<handle>_clim'."""
    da = get_dataarray(ctx, args.handle)
    base = da.sel(time=slice(args.base_start, args.base_end))
    if base.sizes["time"] == 0:
        raise ToolError(f"no data in the base period {args.base_start}..{args.base_end}")
    if args.by_month:
        clim = base.groupby("time.month").mean("time")
        anom = (da.groupby("time.month") - clim).drop_vars("month")
    else:
        clim = base.mean("time")
        anom = da - clim
    anom = anom.assign_attrs(da.attrs, long_name=f"{da.attrs.get('long_name', da.name)} anomaly")
    names = [f"{args.handle}_anom", f"{args.handle}_clim"]
    ctx.store.update(zip(names, (anom, clim.assign_attrs(da.attrs))))
    return AnomaliesResult(summary=f"anomalies of {args.handle} stored as {names[0]!r}",
                           handles=names, handle=names[0])


PRE_INDUSTRIAL = (1850, 1900)
"""The base period IPCC AR6 uses as an approximation of pre-industrial."""


class PeriodDifferenceInput(BaseModel):
    handle: str = Field(description="handle of a series (or field) with a time dimension")
    years: list[int] = Field(
        [2011, 2020, *PRE_INDUSTRIAL], min_length=2, max_length=4,
        description="[start, end] of a period compared with 1850-1900, or [start, end, "
                    "base_start, base_end]; the earlier period is the base either way")

    _years = field_validator("years", mode="before")(years_in)


class PeriodDifferenceResult(ToolResult):
    pass


@tool("analysis.period_difference", family="analysis")
def period_difference(args: PeriodDifferenceInput, ctx: ToolContext) -> PeriodDifferenceResult:
    """Mean over the later period minus mean over the earlier one (e.g. the warming of
    2011-2020 over 1850-1900); both must lie inside the data."""
    da = get_dataarray(ctx, args.handle)
    if len(args.years) not in (2, 4):
        raise ToolError(f"give 2 years (a period compared with 1850-1900) or 4 (two periods), "
                        f"not {len(args.years)}: {args.years}")
    a = tuple(args.years[:2])
    b = tuple(args.years[2:]) if len(args.years) == 4 else PRE_INDUSTRIAL
    (base_start, base_end), (start, end) = sorted([a, b])
    years = da["time"].dt.year
    first, last = int(years.min()), int(years.max())
    for lo, hi in ((base_start, base_end), (start, end)):
        if lo > hi or lo < first or hi > last:
            raise ToolError(f"period {lo}-{hi} is not inside the data's span {first}-{last}")
    base = da.where((years >= base_start) & (years <= base_end), drop=True)
    late = da.where((years >= start) & (years <= end), drop=True)
    base_mean, late_mean = float(base.mean()), float(late.mean())
    diff = late_mean - base_mean
    units = da.attrs.get("units", "?")
    label = f"{start}-{end} minus {base_start}-{base_end}"
    return PeriodDifferenceResult(
        summary=f"{label}: {diff:+.2f} {units} ({late_mean:.2f} vs {base_mean:.2f})",
        values={"difference": diff, "base_mean": base_mean, "period_mean": late_mean},
        units={"difference": units, "base_mean": units, "period_mean": units},
        checks=[Check(name="both periods have data", passed=bool(
            base.sizes["time"] and late.sizes["time"]),
            detail=f"{base.sizes['time']} and {late.sizes['time']} time steps")])
