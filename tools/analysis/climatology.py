"""Calendar operations on series: selecting a period, a season or an age range, season and
annual means, the mean seasonal cycle, anomalies from a base period, standardisation, and the
difference between the means of two periods (e.g. warming of 2011-2020 over 1850-1900).

Each transform stores a new handle and records what it did in ``attrs["steps"]``
(:mod:`climcopilot.tools.datamodel.steps`).
"""

from __future__ import annotations

import calendar
from typing import Annotated

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field, field_validator

from climcopilot.tools.analysis.seasons import (
    ANNUAL,
    Season,
    month_year,
    parse_season,
    season_means,
    season_months,
)
from climcopilot.tools.analysis.vocabulary import SEASONS
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.steps import described, with_step
from climcopilot.tools.datamodel.timeaxis import (
    along,
    calendar_only,
    frequency_of,
    get_dataarray,
    is_age_series,
    parse_bound,
    select_ages,
    select_period,
    span,
    years_in,
)
from climcopilot.tools.vocabulary import aliased


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
    if frequency_of(da) == "annual":
        raise ToolError(f"{args.handle!r} is annual: one value per year has no seasonal "
                        "cycle; use a monthly series")
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
    """Anomalies from the base-period climatology (per calendar month by default: the
    seasonal cycle removed); stored as '<handle>_anom' and the climatology as
    '<handle>_clim'. The base period must lie inside the data."""
    da = get_dataarray(ctx, args.handle)
    base = da.sel(time=slice(args.base_start, args.base_end))
    if base.sizes["time"] == 0:
        raise ToolError(f"no data in the base period {args.base_start}..{args.base_end}; "
                        f"{args.handle} spans {span(da)}")
    if args.base_start or args.base_end:  # a base reaching beyond the data is refused too
        base = select_period(da, args.handle, args.base_start, args.base_end).data
    years = base["time"].dt.year
    label = f"{int(years.min())}-{int(years.max())} base"
    if args.by_month:
        clim = base.groupby("time.month").mean("time")
        anom = (da.groupby("time.month") - clim).drop_vars("month")
        step = f"seasonal cycle removed ({label})"
    else:
        clim = base.mean("time")
        anom = da - clim
        step = f"mean removed ({label})"
    anom = with_step(anom, step, attrs_from=da).assign_attrs(
        long_name=f"{da.attrs.get('long_name', da.name)} anomaly")
    names = [f"{args.handle}_anom", f"{args.handle}_clim"]
    ctx.store.update(zip(names, (anom.rename(names[0]), clim.assign_attrs(da.attrs))))
    return AnomaliesResult(summary=f"anomalies of {args.handle} ({step}) stored as "
                                   f"{names[0]!r}", handles=names, handle=names[0])


class SubsetInput(BaseModel):
    handle: str = Field(description="handle of a series (calendar time or a paleo record)")
    start: str | int | None = Field(None, description="first year ('1980') or month "
                                    "('1980-06') kept; with a season, the first season year")
    end: str | int | None = Field(None, description="last year or month kept (inclusive)")
    last_years: int | None = Field(None, ge=1, description="instead of start/end: the last N "
                                   "calendar years the data have ('the past 30 years')")
    season: Annotated[str | list[int] | None, aliased(SEASONS)] = Field(
        None, description="months kept: initials ('JJAS', 'DJF', 'NDJFM', 'MAM'), a named "
        "season ('boreal winter', 'june-september'), a month ('July') or consecutive month "
        "numbers ([12, 1, 2]); a season crossing the new year belongs to the year of its last "
        "month (DJF 1981 = Dec 1980-Feb 1981)")
    seasonal_mean: bool = Field(False, description="one mean per season year instead of the "
                                                   "season's months")
    complete: bool = Field(True, description="with seasonal_mean, keep only season years "
                                             "with every month present")
    oldest_ka: float | None = Field(None, description="paleo records: oldest age kept, ka BP")
    youngest_ka: float | None = Field(None, description="paleo records: youngest age kept, "
                                                        "ka BP")
    out: str | None = Field(None, description="handle of the result; default from the "
                                              "settings, e.g. 'air_1951_2000_jjas_mean'")


class SubsetResult(ToolResult):
    handle: str
    start: str
    end: str
    steps: list[str]
    short: str = Field("", description="why the data do not cover all of the asked period, "
                                       "e.g. 'soi starts 1951-01' ('' when they do)")


@tool("analysis.subset", family="analysis")
def subset(args: SubsetInput, ctx: ToolContext) -> SubsetResult:
    """Cut a series to a period (years or months; a period reaching beyond the data is cut to
    the overlap and ``short`` says what is missing; no overlap is an error naming the span), a
    season or month set, optionally one mean per season year (complete seasons
    only by default, saying how many were dropped); paleo records are cut by age
    (oldest_ka, youngest_ka). Stored under a new handle with the steps recorded."""
    da = get_dataarray(ctx, args.handle, allow_age=True)
    if da.dims != (along(da),):
        raise ToolError(f"{args.handle!r} must be a series (one dim); reduce a field first "
                        "(e.g. analysis.regional_mean)")
    if args.last_years is not None:
        args = _from_last_years(da, args)
    calendar_args = (args.start, args.end, args.season)
    age_args = (args.oldest_ka, args.youngest_ka)
    if all(a is None for a in (*calendar_args, *age_args)):
        raise ToolError("give a period (start, end), a season, or an age range (oldest_ka, "
                        "youngest_ka) to cut the series to")
    if is_age_series(da):
        if any(a is not None for a in calendar_args):
            raise calendar_only(args.handle, "a calendar period or season (start, end, "
                                "season)")
        out, label = select_ages(da, args.handle, *age_args)
        steps, dropped, short = [label], 0, ""
        tag = f"{_tag(args.oldest_ka)}_{_tag(args.youngest_ka)}ka"
    else:
        if any(a is not None for a in age_args):
            raise ToolError(f"{args.handle!r} is on calendar time; oldest_ka/youngest_ka are "
                            "for paleo records: give start and end instead")
        out, steps, dropped, short = _calendar_subset(da, args)
        parts = [] if args.start is None and args.end is None else [
            f"{args.start or 'first'}_{args.end or 'last'}".replace("-", "")]
        if args.season is not None:
            parts.append(parse_season(args.season).label.lower()
                         + ("_mean" if args.seasonal_mean else ""))
        tag = "_".join(parts)
    name = args.out or f"{args.handle}_{tag}"
    for step in steps:
        out = with_step(out, step)
    ctx.store[name] = out.rename(name)
    first, last = span(out).split(" to ")
    note = f"; {dropped} incomplete season years dropped" if dropped else ""
    note += f"; cut to the data ({short})" if short else ""
    return SubsetResult(
        summary=f"{described(out)}: {out.size} values, {first} to {last}{note}; stored as "
                f"{name!r}",
        values={"n": float(out.size), "n_dropped": float(dropped)},
        units={"n": "1", "n_dropped": "1"}, handles=[name], handle=name, start=first,
        end=last, steps=steps, short=short)


def _tag(age: float | None) -> str:
    return "all" if age is None else f"{age:g}".replace(".", "p")


def _from_last_years(da: xr.DataArray, args: SubsetInput) -> SubsetInput:
    """``args`` with ``last_years`` N turned into a start: the data's last calendar year
    minus N - 1 (a ToolError with start/end, or for a paleo record)."""
    if args.start is not None or args.end is not None:
        raise ToolError("give either last_years or start/end, not both")
    if is_age_series(da):
        raise calendar_only(args.handle, "last_years")
    last = int(month_year(da["time"])[1].max())
    return args.model_copy(update={"start": last - args.last_years + 1, "last_years": None})


def _calendar_subset(da: xr.DataArray, args: SubsetInput
                     ) -> tuple[xr.DataArray, list[str], int, str]:
    """The period and season cut of a calendar series, its steps, the season years dropped
    as incomplete, and what of the asked period the data do not cover (a period reaching
    beyond the data is cut to the overlap). With a season and whole years, the years are
    season years."""
    season = parse_season(args.season) if args.season is not None else None
    has_period = args.start is not None or args.end is not None
    by_month = any(b and b[1] for b in (parse_bound(args.start, "start"),
                                        parse_bound(args.end, "end")))
    steps: list[str] = []
    out, short = da, ""
    if has_period and (season is None or by_month):
        out, period, short = select_period(da, args.handle, args.start, args.end, clip=True)
        steps.append(period)
    if season is None:
        return _nonempty(out, args.handle, steps), steps, 0, short
    if frequency_of(da) == "annual":
        raise ToolError(f"{args.handle!r} is annual: a season needs monthly or finer data")
    out = season_months(out, season)
    if out.sizes["time"] == 0:
        raise ToolError(f"{args.handle!r} has no {season.label} months in {span(da)}")
    if has_period and not by_month:  # a DJF from 1981 starts in December 1980
        out, period, short = _season_years(out, season, args)
        steps.append(period)
    if not args.seasonal_mean:
        steps.append(f"{season.label} months only")
        return _nonempty(out, args.handle, steps), steps, 0, short
    means, dropped = season_means(out, season, args.complete)
    if means.sizes["time"] == 0:
        raise ToolError(f"no complete {season.label} season in {args.handle!r} "
                        f"({span(out)}); widen the period or set complete=false")
    label = f"{season.label} mean per year"
    if season.wraps:
        label += f" (year of its {season.last_month_name})"
    return means, [*steps, label], dropped, short


def _season_years(picked: xr.DataArray, season: Season, args: SubsetInput
                  ) -> tuple[xr.DataArray, str, str]:
    """The months of ``season`` whose season year lies in start..end (whole years; cut to the
    season years the data have), the years as text, and what of them the data lack."""
    months, years = month_year(picked["time"])
    labels = season.season_years(months, years)
    first, last = int(labels.min()), int(labels.max())
    lo = first if args.start is None else int(args.start)
    hi = last if args.end is None else int(args.end)
    if lo > hi:
        raise ToolError(f"start {args.start} is after end {args.end}")
    if hi < first or lo > last:
        raise ToolError(f"{season.label} seasons {lo}-{hi} are outside {args.handle}'s span "
                        f"{span(picked)} (season years {first}-{last}); choose years inside it")
    short = "" if first <= lo and hi <= last else (
        f"{args.handle} has {season.label} season years {first}-{last}")
    lo, hi = max(lo, first), min(hi, last)
    return (picked.isel(time=np.flatnonzero((labels >= lo) & (labels <= hi))), f"{lo}-{hi}",
            short)


def _nonempty(da: xr.DataArray, handle: str, steps: list[str]) -> xr.DataArray:
    if da.sizes["time"] == 0:
        raise ToolError(f"{handle!r} has no values for {'; '.join(steps)}")
    return da


class AnnualMeanInput(BaseModel):
    handle: str = Field(description="handle of a sub-annual (monthly, weekly) series")
    complete: bool = Field(True, description="keep only years with all 12 months present")
    out: str | None = Field(None, description="handle of the result; default "
                                              "'<handle>_annual'")


class AnnualMeanResult(ToolResult):
    handle: str
    start: str
    end: str


@tool("analysis.annual_mean", family="analysis")
def annual_mean(args: AnnualMeanInput, ctx: ToolContext) -> AnnualMeanResult:
    """Calendar-year means of a sub-annual series (complete years only by default, saying
    how many were dropped); stored as '<handle>_annual' with the step recorded."""
    da = get_dataarray(ctx, args.handle)
    if da.dims != ("time",):
        raise ToolError(f"{args.handle!r} must be a series (dim 'time' only)")
    if frequency_of(da) == "annual":
        raise ToolError(f"{args.handle!r} is already annual")
    means, dropped = season_means(da, ANNUAL, args.complete)
    if means.sizes["time"] == 0:
        raise ToolError(f"{args.handle!r} has no complete calendar year; set complete=false")
    name = args.out or f"{args.handle}_annual"
    means = with_step(means, "annual mean per year").rename(name)
    ctx.store[name] = means
    first, last = span(means).split(" to ")
    note = f"; {dropped} incomplete years dropped" if dropped else ""
    return AnnualMeanResult(
        summary=f"{means.size} calendar-year means of {args.handle}{note}; stored as {name!r}",
        values={"n": float(means.size), "n_dropped": float(dropped)},
        units={"n": "1", "n_dropped": "1"}, handles=[name], handle=name, start=first[:4],
        end=last[:4])


class StandardizeInput(BaseModel):
    handle: str = Field(description="handle of a series (calendar time or a paleo record)")


class StandardizeResult(ToolResult):
    handle: str


@tool("analysis.standardize", family="analysis")
def standardize(args: StandardizeInput, ctx: ToolContext) -> StandardizeResult:
    """Standardise a series: subtract its mean and divide by its standard deviation
    (ddof=1); stored as '<handle>_std' (units '1') with the step recorded."""
    da = get_dataarray(ctx, args.handle, allow_age=True)
    if da.dims != (along(da),):
        raise ToolError(f"{args.handle!r} must be a series (one dim)")
    mean, std = float(da.mean()), float(da.std(ddof=1))
    if not std > 0:
        raise ToolError(f"{args.handle!r} is constant; it cannot be standardised")
    name = f"{args.handle}_std"
    units = da.attrs.get("units", "?")
    out = with_step((da - mean) / std, "standardised (mean 0, std 1)", attrs_from=da)
    ctx.store[name] = out.assign_attrs(units="1").rename(name)
    return StandardizeResult(
        summary=f"{args.handle} standardised (mean {mean:.4g}, std {std:.4g} {units}); stored "
                f"as {name!r}",
        values={"mean": mean, "std": std}, units={"mean": units, "std": units},
        handles=[name], handle=name)


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
