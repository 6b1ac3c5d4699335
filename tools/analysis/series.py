"""Series diagnostics: put series on a common time axis, lagged correlation.

Significance uses the effective sample size of Bretherton et al. (1999),
``n_eff = n (1 - r1a r1b) / (1 + r1a r1b)`` with the lag-1 autocorrelations r1a, r1b.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, Field
from scipy import stats

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool

_RULES = {"weekly": "W", "monthly": "MS", "annual": "YS"}
_ORDER = ["weekly", "monthly", "annual"]
LAG_UNIT = {"weekly": "weeks", "monthly": "months", "annual": "years"}


def _frequency(da: xr.DataArray) -> str:
    freq = da.attrs.get("frequency")
    if freq in _RULES:
        return freq
    step = np.median(np.diff(da["time"].values).astype("timedelta64[D]").astype(float))
    return "weekly" if step < 20 else "monthly" if step < 200 else "annual"


def align(a: xr.DataArray, b: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray, str]:
    """Both series on their coarser common frequency (means), over the overlap only.

    Returns ``(a, b, frequency)``; the overlap keeps times where both are finite.
    """
    (a2, b2), freq = align_all([a, b])
    return a2, b2, freq


def align_all(series: list[xr.DataArray]) -> tuple[list[xr.DataArray], str]:
    """Every series on the coarsest frequency among them (means), over their common overlap.

    Returns the aligned series and the frequency; kept times are finite in every series.
    """
    freq = max((_frequency(da) for da in series), key=_ORDER.index)
    out = []
    for da in series:
        if _frequency(da) != freq:
            da = da.resample(time=_RULES[freq]).mean().assign_attrs(da.attrs, frequency=freq)
        else:  # snap to period starts so that the time axes match
            t = pd.DatetimeIndex(da["time"].values).to_period(_RULES[freq][0]).to_timestamp()
            da = da.assign_coords(time=t.to_numpy())
        out.append(da)
    out = list(xr.align(*out, join="inner"))
    keep = np.logical_and.reduce([np.isfinite(da.values) for da in out])
    return [da[keep] for da in out], freq


def lag1_autocorrelation(x: np.ndarray) -> float:
    """Lag-1 autocorrelation of a 1-D array."""
    x = x - x.mean()
    return float(np.dot(x[:-1], x[1:]) / np.dot(x, x))


def lagged_correlations(a: np.ndarray, b: np.ndarray, max_lag: int) -> np.ndarray:
    """Pearson r between a(t) and b(t + k) for k = -max_lag..max_lag (k > 0: a leads b)."""
    r = []
    for k in range(-max_lag, max_lag + 1):
        x, y = (a[: len(a) - k], b[k:]) if k >= 0 else (a[-k:], b[: len(b) + k])
        r.append(np.corrcoef(x, y)[0, 1])
    return np.array(r)


class AlignInput(BaseModel):
    a: str = Field(description="handle of the first series in the session")
    b: str = Field(description="handle of the second series in the session")


class AlignResult(ToolResult):
    frequency: str
    start: str
    end: str


@tool("analysis.align", family="analysis")
def align_series(args: AlignInput, ctx: ToolContext) -> AlignResult:
    """Put two series on their common frequency and overlapping period (stored as
    '<a>_aligned' and '<b>_aligned')."""
    a, b, freq = align(time_series(ctx, args.a), time_series(ctx, args.b))
    if a.size < 3:
        raise ToolError(f"{args.a} and {args.b} overlap in only {a.size} {freq} values")
    names = [f"{args.a}_aligned", f"{args.b}_aligned"]
    ctx.store.update(zip(names, (a, b)))
    t = pd.DatetimeIndex(a["time"].values)
    return AlignResult(summary=f"{a.size} common {freq} values, {t[0]:%Y-%m} to {t[-1]:%Y-%m}",
                       values={"n": float(a.size)}, handles=names, frequency=freq,
                       start=f"{t[0]:%Y-%m}", end=f"{t[-1]:%Y-%m}")


def time_series(ctx: ToolContext, handle: str) -> xr.DataArray:
    """The session series ``handle``; a ToolError unless it is a 1-D DataArray along time with
    some finite values."""
    da = ctx.get(handle)
    if not isinstance(da, xr.DataArray) or da.dims != ("time",):
        raise ToolError(f"{handle!r} is not a time series (a DataArray with dim 'time'); "
                        f"reduce a field to an index first (e.g. analysis.regional_mean)")
    if da.size and not np.isfinite(da.values).any():
        raise ToolError(f"{handle!r} holds no finite values")
    return da


class LagCorrelationInput(BaseModel):
    a: str = Field(description="handle of the first series (the candidate leader)")
    b: str = Field(description="handle of the second series")
    max_lag: int = Field(12, ge=0, le=240,
                         description="largest lag tried, in steps of the common frequency")


class LagCorrelationResult(ToolResult):
    lags: list[int]
    r_by_lag: list[float]
    lag_unit: str


@tool("analysis.lag_correlation", family="analysis")
def lag_correlation(args: LagCorrelationInput, ctx: ToolContext) -> LagCorrelationResult:
    """Pearson correlation of two series at lags -max_lag..max_lag on their overlap, with a
    p-value from the autocorrelation-adjusted effective sample size. Positive lag: a leads b."""
    da_a, da_b, freq = align(time_series(ctx, args.a), time_series(ctx, args.b))
    x, y = da_a.values.astype(float), da_b.values.astype(float)
    n = x.size
    if n < 2 * args.max_lag + 10:
        raise ToolError(f"only {n} overlapping {freq} values: too few for max_lag="
                        f"{args.max_lag}; lower max_lag or use longer series")
    if x.std() == 0 or y.std() == 0:
        raise ToolError("a series is constant on the overlap; correlation is undefined")
    lags = list(range(-args.max_lag, args.max_lag + 1))
    r = lagged_correlations(x, y, args.max_lag)
    r0 = float(r[args.max_lag])
    best = int(np.argmax(np.abs(r)))
    ra, rb = lag1_autocorrelation(x), lag1_autocorrelation(y)
    n_eff = float(n * (1 - ra * rb) / (1 + ra * rb))
    dof = max(n_eff - 2, 1.0)
    t_stat = r0 * np.sqrt(dof / max(1 - r0**2, 1e-12))
    p = float(2 * stats.t.sf(abs(t_stat), dof))
    unit = LAG_UNIT[freq]
    figure = _plot(ctx, lags, r, da_a, da_b, unit)
    checks = [Check(name="r in [-1, 1]", passed=bool(np.all(np.abs(r) <= 1 + 1e-12))),
              Check(name="enough independent samples", passed=n_eff >= 10,
                    detail=f"n_eff = {n_eff:.1f}")]
    t = pd.DatetimeIndex(da_a["time"].values)
    order = "a leads b" if lags[best] > 0 else "b leads a" if lags[best] < 0 else "simultaneous"
    return LagCorrelationResult(
        summary=(f"r = {r0:.3f} at lag 0 (n = {n}, n_eff = {n_eff:.0f}, p = {p:.2g}, "
                 f"{t[0]:%Y-%m} to {t[-1]:%Y-%m}); strongest |r| = {abs(r[best]):.3f} at lag "
                 f"{lags[best]} {unit} ({order})"),
        values={"r": r0, "p_value": p, "n": float(n), "n_eff": n_eff,
                "best_lag": float(lags[best]), "r_at_best_lag": float(r[best])},
        units={"r": "1", "p_value": "1", "n": "1", "n_eff": "1", "best_lag": unit,
               "r_at_best_lag": "1"},
        figures=[figure], checks=checks, lags=lags, r_by_lag=[float(v) for v in r],
        lag_unit=unit)


def _plot(ctx: ToolContext, lags: list[int], r: np.ndarray, a: xr.DataArray,
          b: xr.DataArray, unit: str) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.plot(lags, r, marker="o", ms=3)
    ax.set_xlabel(f"lag ({unit}); positive: {a.name} leads {b.name}")
    ax.set_ylabel("Pearson r")
    ax.set_title(f"Lagged correlation: {a.attrs.get('long_name', a.name)} vs "
                 f"{b.attrs.get('long_name', b.name)}", fontsize=9)
    path = ctx.figure_path(f"lagcorr-{a.name}-{b.name}")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return str(path)
