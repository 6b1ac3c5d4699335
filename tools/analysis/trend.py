"""Linear trends with significance that accounts for autocorrelation, and detrending.

The standard error of the OLS slope uses the effective sample size of the residuals,
``n_eff = n (1 - r1) / (1 + r1)`` with r1 their lag-1 autocorrelation (Santer et al. 2000),
and a Student t with ``n_eff - 2`` degrees of freedom. Calendar series give trends per decade
(and per year); paleo records per kyr forward in time (towards the present).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field
from scipy import stats

from climcopilot.tools.analysis.series import lag1_autocorrelation
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.steps import described, with_step
from climcopilot.tools.datamodel.timeaxis import (
    along,
    axis_years,
    get_dataarray,
    is_age_series,
    select_period,
    span,
)


@dataclass(frozen=True)
class LinearTrend:
    """Slope (units per year), its standard error, p-value, 95 % interval, n and n_eff."""

    slope: float
    stderr: float
    p_value: float
    ci95: tuple[float, float]
    n: int
    n_eff: float


def linear_trend(t: np.ndarray, y: np.ndarray) -> LinearTrend:
    """OLS trend of y(t) (t in years, shape (n,)) with an AR(1)-adjusted significance."""
    keep = np.isfinite(y)
    t, y = t[keep], y[keep]
    n = t.size
    if n < 5:
        raise ToolError(f"a trend needs at least 5 finite values, got {n}")
    tc = t - t.mean()
    slope = float(np.dot(tc, y - y.mean()) / np.dot(tc, tc))
    resid = y - y.mean() - slope * tc
    r1 = max(lag1_autocorrelation(resid), 0.0) if resid.std() > 0 else 0.0
    n_eff = float(min(n, max(n * (1 - r1) / (1 + r1), 3.0)))
    dof = n_eff - 2
    stderr = float(np.sqrt(np.dot(resid, resid) / dof / np.dot(tc, tc)))
    p = float(2 * stats.t.sf(abs(slope) / stderr, dof)) if stderr > 0 else 0.0
    half = float(stats.t.ppf(0.975, dof) * stderr)
    return LinearTrend(slope, stderr, p, (slope - half, slope + half), n, n_eff)


def detrended(da: xr.DataArray) -> xr.DataArray:
    """``da`` minus its least-squares line in time or age (per grid point / member; no
    gaps)."""
    dim = along(da)
    t = axis_years(da)
    tc = xr.DataArray(t - t.mean(), dims=dim, coords={dim: da[dim]})
    mean = da.mean(dim)
    slope = ((da - mean) * tc).sum(dim) / float((tc**2).sum())
    return (da - mean - slope * tc).assign_attrs(da.attrs)


class TrendInput(BaseModel):
    handle: str = Field(description="handle of a series, or of series along one extra "
                                    "dimension (e.g. 'model')")
    start: int | None = Field(None, description="first year used (inside the data); default "
                                                "all (calendar series only)")
    end: int | None = Field(None, description="last year used (inside the data); default all")


class TrendResult(ToolResult):
    per_member: dict[str, float] = {}
    largest: str = ""
    smallest: str = ""
    trend_units: str


@tool("analysis.trend", family="analysis")
def trend(args: TrendInput, ctx: ToolContext) -> TrendResult:
    """Linear trend per decade (and per year) with a p-value and 95 % interval from the
    autocorrelation-adjusted effective sample size; paleo records per kyr; over an extra
    dimension (models) it ranks the trends."""
    da = get_dataarray(ctx, args.handle, allow_age=True)
    if is_age_series(da):
        if args.start is not None or args.end is not None:
            raise ToolError(f"{args.handle!r} is a paleo record on an age axis: cut it with "
                            "analysis.subset (oldest_ka, youngest_ka) instead of start/end")
        fit = linear_trend(axis_years(da), da.values.astype(float))
        return _trend_result(da, fit, "kyr", f"towards the present over {span(da)}")
    if args.start is not None or args.end is not None:
        da = select_period(da, args.handle, args.start, args.end).data
    years = da["time"].dt.year
    lo, hi = int(years.min()), int(years.max())
    da = da.load()
    t = axis_years(da)
    units = f"{da.attrs.get('units', '?')} per decade"
    others = [d for d in da.dims if d != "time"]
    if not others:
        return _trend_result(da, linear_trend(t, da.values.astype(float)), "decade",
                             f"over {lo}-{hi}")
    if len(others) > 1:
        raise ToolError(f"{args.handle!r} has dims {da.dims}; reduce it to (time, one other "
                        "dim) first, e.g. with analysis.regional_mean")
    dim = others[0]
    fits = {str(k): linear_trend(t, da.sel({dim: k}).values.astype(float))
            for k in da[dim].values}
    per = {k: 10 * f.slope for k, f in fits.items()}
    top, bottom = max(per, key=per.get), min(per, key=per.get)
    significant = sum(f.p_value < 0.05 for f in fits.values())
    return TrendResult(
        summary=f"{len(per)} {dim}s, {lo}-{hi}: largest trend {per[top]:+.3f} {units} "
                f"({top}), smallest {per[bottom]:+.3f} ({bottom}), mean "
                f"{np.mean(list(per.values())):+.3f}; {significant} significant at 5 %",
        values={"largest_trend": per[top], "smallest_trend": per[bottom],
                "mean_trend": float(np.mean(list(per.values()))),
                "n_members": float(len(per)), "n_significant": float(significant)},
        units={"largest_trend": units, "smallest_trend": units, "mean_trend": units,
               "n_members": "1", "n_significant": "1"},
        checks=[Check(name="all trends finite", passed=bool(np.all(np.isfinite(
            list(per.values())))))],
        per_member=per, largest=top, smallest=bottom, trend_units=units)


_PER = {"decade": 10.0, "kyr": 1000.0}
"""Years in each unit a trend is given per."""


def _trend_result(da: xr.DataArray, fit: LinearTrend, per: str, period: str) -> TrendResult:
    """A series' trend per decade (calendar; also per century) or per kyr (paleo), and per
    year; ``period`` says over what ('over 1951-2000')."""
    base = da.attrs.get("units", "?")
    scale, units = _PER[per], f"{base} per {per}"
    values = {"trend": scale * fit.slope, "trend_per_year": fit.slope,
              "p_value": fit.p_value, "ci95_low": scale * fit.ci95[0],
              "ci95_high": scale * fit.ci95[1], "n": float(fit.n), "n_eff": fit.n_eff}
    value_units = {"trend": units, "trend_per_year": f"{base} per year", "p_value": "1",
                   "ci95_low": units, "ci95_high": units, "n": "1", "n_eff": "1"}
    if per == "kyr":
        values["trend_per_kyr"], value_units["trend_per_kyr"] = values["trend"], units
    else:
        values["trend_per_century"] = 100 * fit.slope
        value_units["trend_per_century"] = f"{base} per century"
    return TrendResult(
        summary=f"trend of {described(da)} {values['trend']:+.4g} {units} {period} (95 % "
                f"interval {values['ci95_low']:+.4g} to {values['ci95_high']:+.4g}, p = "
                f"{fit.p_value:.2g}, n = {fit.n}, n_eff = {fit.n_eff:.0f})",
        values=values, units=value_units,
        checks=[Check(name="interval contains the trend",
                      passed=fit.ci95[0] <= fit.slope <= fit.ci95[1])],
        trend_units=units)


class DetrendInput(BaseModel):
    handle: str = Field(description="handle of a series or field with a time dimension")


class DetrendResult(ToolResult):
    handle: str


@tool("analysis.detrend", family="analysis")
def detrend(args: DetrendInput, ctx: ToolContext) -> DetrendResult:
    """Remove the least-squares linear trend in time (per grid point; paleo records along
    age); stored as '<handle>_detrended' with the step recorded."""
    da = get_dataarray(ctx, args.handle, allow_age=True)
    name = f"{args.handle}_detrended"
    ctx.store[name] = with_step(detrended(da.load()), "linear trend removed").rename(name)
    return DetrendResult(summary=f"linear trend removed from {args.handle}, stored as {name!r}",
                         handles=[name], handle=name)
