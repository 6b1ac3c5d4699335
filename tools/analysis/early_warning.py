"""Early-warning signals of a critical transition (critical slowing down), through ewstools.

Before a bifurcation a system recovers ever more slowly from perturbations, so over the record
before the transition the detrended fluctuations grow in variance and lag-1 autocorrelation
(Scheffer et al. 2009; Dakos et al. 2008). ewstools (Bury 2023) detrends the record up to the
transition (Lowess or a Gaussian kernel), computes variance, coefficient of variation, lag-1
autocorrelation and skewness in a rolling window, and the Kendall tau of each against time.

The null model: ``n_surrogates`` Fourier phase-randomised copies of the residuals (the same
periodogram, hence the same autocorrelation function, but stationary; Theiler et al. 1992)
added to the same trend go through the same indicators; the p-value of an indicator is the
two-sided share of surrogate taus at least as large in magnitude, (1 + count) / (1 + n).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from pydantic import BaseModel, Field, model_validator

from climcopilot.tools.analysis.spacing import (
    age_grid,
    evenly_spaced,
    median_spacing,
    nice_step,
    on_ages,
)
from climcopilot.tools.analysis.vocabulary import DETRENDING
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.steps import described
from climcopilot.tools.datamodel.timeaxis import AGE, decimal_years, is_age_series, span
from climcopilot.tools.viz.figures import save_figure
from climcopilot.tools.vocabulary import aliased

if TYPE_CHECKING:
    from ewstools import TimeSeries

INDICATORS = {"variance": "variance", "cv": "coefficient of variation",
              "ac1": "lag-1 autocorrelation", "skew": "skewness"}
"""ewstools' indicator columns and what they are."""

MAX_POINTS = 5_000_000
"""Most points x (surrogates + 1) one call may put through the rolling indicators (about
0.06 ms each, so about five minutes)."""


@dataclass(frozen=True)
class Axis:
    """How a series runs: its own coordinate (n,) with label and unit, and ``sign``, which
    turns it into forward time for ewstools (-1 for ages in ka BP, else +1)."""

    coordinate: np.ndarray
    label: str
    unit: str
    sign: float = 1.0

    @property
    def forward(self) -> np.ndarray:
        """Times increasing towards the present, (n,)."""
        return self.sign * self.coordinate


@dataclass(frozen=True)
class EarlyWarnings:
    """ewstools' output up to the transition: ``state`` (columns state, smoothing,
    residuals; index forward time), ``indicators`` (one column per :data:`INDICATORS`,
    NaN before the first full window), Kendall ``tau`` and surrogate ``p_value`` per
    indicator (empty without surrogates) and the window length in points."""

    state: pd.DataFrame
    indicators: pd.DataFrame
    tau: dict[str, float]
    p_value: dict[str, float]
    window_points: int


def phase_surrogates(x: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` series (count, n) with the periodogram of ``x`` (n,) and random Fourier
    phases: stationary, with the same mean and circular autocorrelation as ``x``."""
    spectrum = np.fft.rfft(x - x.mean())
    phases = rng.uniform(0.0, 2 * np.pi, (count, spectrum.size))
    phases[:, 0] = 0.0
    if x.size % 2 == 0:
        phases[:, -1] = 0.0  # the Nyquist term stays real
    return np.fft.irfft(np.abs(spectrum) * np.exp(1j * phases), n=x.size) + x.mean()


def _indicators(ts: TimeSeries, window: float) -> None:
    """Rolling variance, cv, lag-1 autocorrelation and skewness of ``ts`` and their Kendall
    taus (into ``ts.ews`` and ``ts.ktau``)."""
    ts.compute_var(rolling_window=window)
    ts.compute_cv(rolling_window=window)
    ts.compute_auto(rolling_window=window, lag=1)
    ts.compute_skew(rolling_window=window)
    ts.compute_ktau()


def early_warnings(series: pd.Series, transition: float | None,
                   detrend: Literal["lowess", "gaussian", "none"], span: float,
                   bandwidth: float, window: float, n_surrogates: int = 0,
                   seed: int = 0) -> EarlyWarnings:
    """Indicators of ``series`` (evenly spaced, index forward time) up to ``transition`` (a
    time of the index; None: the whole record); ``span``, ``bandwidth`` and ``window`` are
    fractions of the record before the transition."""
    import ewstools

    ts = ewstools.TimeSeries(data=series, transition=transition)
    if detrend != "none":
        ts.detrend(method="Lowess" if detrend == "lowess" else "Gaussian",
                   bandwidth=bandwidth, span=span)
    _indicators(ts, window)
    pre = ts.state if transition is None else ts.state[ts.state.index <= transition]
    n = len(pre)
    tau = {k: float(ts.ktau[k]) for k in INDICATORS}
    p_value: dict[str, float] = {}
    if n_surrogates:
        noise = pre["residuals"] if detrend != "none" else pre["state"]
        trend = pre["smoothing"].to_numpy() if detrend != "none" else 0.0
        beaten = dict.fromkeys(INDICATORS, 0)
        for fake in phase_surrogates(noise.to_numpy(float), n_surrogates,
                                     np.random.default_rng(seed)):
            null = ewstools.TimeSeries(data=pd.Series(trend + fake, index=pre.index))
            if detrend != "none":
                null.state["smoothing"], null.state["residuals"] = trend, fake
            _indicators(null, window)
            for k in INDICATORS:
                beaten[k] += abs(null.ktau[k]) >= abs(tau[k])
        p_value = {k: (1 + beaten[k]) / (1 + n_surrogates) for k in INDICATORS}
    return EarlyWarnings(state=pre, indicators=ts.ews.loc[pre.index, list(INDICATORS)], tau=tau,
                         p_value=p_value, window_points=int(window * n))


def series_axis(da: xr.DataArray, handle: str, step_kyr: float | None
                ) -> tuple[xr.DataArray, Axis]:
    """``da`` evenly spaced with its :class:`Axis`: a paleo record interpolated linearly to
    an even age grid (``step_kyr``; default the round step nearest its median spacing), a
    calendar series checked for gaps, a simulated series (numeric time) checked for even
    steps."""
    if is_age_series(da):
        step = step_kyr or nice_step(median_spacing(da))
        ages = da[AGE].values
        even = on_ages(da, age_grid(float(ages.min()), float(ages.max()), step))
        return even, Axis(even[AGE].values, "age", "ka BP", -1.0)
    if step_kyr is not None:
        raise ToolError(f"step_kyr applies to paleo records only; {handle!r} runs along time")
    t = da["time"]
    if np.issubdtype(t.dtype, np.number):
        steps = np.diff(t.values.astype(float))
        if steps.size == 0 or not np.allclose(steps, steps[0], rtol=1e-6) or steps[0] <= 0:
            raise ToolError(f"{handle!r} is not evenly spaced in time; resample it first")
        return da, Axis(t.values.astype(float), "time", t.attrs.get("units", "steps"))
    evenly_spaced(da, handle)  # a ToolError when a calendar series has gaps
    return da, Axis(decimal_years(t), "year", "year")


class EarlyWarningInput(BaseModel):
    handle: str = Field(description="handle of a series along time (or age, a paleo record); "
                        "a Dataset needs `variable`")
    variable: str | None = Field(None, description="the variable of a Dataset handle")
    transition: float | None = Field(None, description="when the transition happens, on the "
                                     "series' own axis: a step (simulated series), a decimal "
                                     "year (calendar series) or an age in ka BP (paleo); the "
                                     "indicators use the record before it")
    transition_fraction: float | None = Field(None, gt=0, le=1, description="instead of "
                                              "`transition`: the fraction of the record "
                                              "before the transition")
    detrend: Annotated[Literal["lowess", "gaussian", "none"], aliased(DETRENDING)] = Field(
        "gaussian", description="how the slow trend is removed before the indicators")
    span: float = Field(0.2, gt=0, le=1, description="Lowess span, fraction of the record "
                        "before the transition")
    bandwidth: float = Field(0.2, gt=0, le=1, description="Gaussian kernel bandwidth (its "
                             "quartiles at +-bandwidth/4), fraction of the record before the "
                             "transition")
    window: float = Field(0.5, gt=0, lt=1, description="rolling window, fraction of the "
                          "record before the transition")
    n_surrogates: int = Field(100, ge=0, le=2000, description="phase-randomised surrogates "
                              "for the p-values (0: none; about 0.1 s each per 1000 points)")
    seed: int = Field(0, ge=0, description="seed of the surrogates")
    step_kyr: float | None = Field(None, gt=0, description="paleo records: the even age grid "
                                   "step, kyr (default: the round step nearest the median "
                                   "sample spacing)")

    @model_validator(mode="after")
    def _one_transition(self) -> EarlyWarningInput:
        if self.transition is not None and self.transition_fraction is not None:
            raise ValueError("give transition or transition_fraction, not both")
        return self


class EarlyWarningResult(ToolResult):
    tau: dict[str, float]
    p_value: dict[str, float]
    transition: float | None
    window_points: int
    detrending: str


@tool("analysis.early_warning", family="analysis")
def early_warning(args: EarlyWarningInput, ctx: ToolContext) -> EarlyWarningResult:
    """Early-warning signals of a critical transition (critical slowing down, ewstools):
    detrend the record before the transition (Lowess span or Gaussian bandwidth), compute
    rolling variance, coefficient of variation, lag-1 autocorrelation and skewness, and the
    Kendall tau of each against time, with p-values from phase-randomised surrogates (same
    autocorrelation, no trend in it). Figure: the series with its trend and the indicators
    over time. A rising variance and autocorrelation (tau > 0, small p) is the warning."""
    da = _series(ctx, args.handle, args.variable)
    da, axis = series_axis(da, args.handle, args.step_kyr)
    if da.size < 20 or not np.isfinite(da.values).all():
        raise ToolError(f"{args.handle!r} needs at least 20 finite, evenly spaced values "
                        f"(has {da.size}, {int(np.isfinite(da.values).sum())} finite)")
    cut = None
    if args.transition is not None:
        cut = axis.sign * args.transition
        if not axis.forward[0] < cut <= axis.forward[-1]:
            raise ToolError(f"transition {args.transition:g} {axis.unit} is outside "
                            f"{args.handle!r}'s span {_span(da, axis)}; give a time inside it")
    elif args.transition_fraction is not None:
        cut = float(axis.forward[int(args.transition_fraction * (da.size - 1))])
    n_pre = int((axis.forward <= cut).sum()) if cut is not None else da.size
    if int(args.window * n_pre) < 10:
        raise ToolError(f"the rolling window holds {int(args.window * n_pre)} of the {n_pre} "
                        "values before the transition; it needs at least 10: raise window or "
                        "move the transition later")
    if n_pre * (args.n_surrogates + 1) > MAX_POINTS:
        raise ToolError(f"{args.n_surrogates} surrogates of {n_pre} points is "
                        f"{n_pre * (args.n_surrogates + 1):,} rolling windows, over the limit "
                        f"of {MAX_POINTS:,} (minutes of work): lower n_surrogates, or take "
                        "annual means or a coarser step_kyr first")
    series = pd.Series(da.values.astype(float), index=pd.Index(axis.forward, name="time"))
    ews = early_warnings(series, cut, args.detrend, args.span, args.bandwidth, args.window,
                         args.n_surrogates, args.seed)
    cv_ok = _cv_defined(ews)
    shown = [k for k in INDICATORS if cv_ok or k != "cv"]
    values = {f"tau_{k}": ews.tau[k] for k in shown}
    values |= {f"p_{k}": ews.p_value[k] for k in shown if ews.p_value}
    values |= {"n_used": float(n_pre), "window_points": float(ews.window_points)}
    units = dict.fromkeys(values, "1") | {"n_used": "points", "window_points": "points"}
    transition = None if cut is None else float(axis.sign * cut)
    if transition is not None:
        values["transition"], units["transition"] = transition, axis.unit
    setting = {"lowess": f"Lowess span {args.span:g}", "gaussian": f"Gaussian bandwidth "
               f"{args.bandwidth:g}", "none": "no detrending"}[args.detrend]
    figure = _plot(ctx, da, axis, ews, shown, setting, args.window)
    taus = ", ".join(f"{k} {ews.tau[k]:+.3f}" + (f" (p = {ews.p_value[k]:.2g})"
                                                  if ews.p_value else "") for k in shown)
    before = (f"up to the transition at {transition:g} {axis.unit}" if transition is not None
              else "whole record")
    return EarlyWarningResult(
        summary=f"early-warning indicators of {described(da)} ({before}, {n_pre} points; "
                f"{setting}, window {args.window:g} = {ews.window_points} points): Kendall tau "
                f"{taus}" + ("" if cv_ok else "; cv left out: the rolling mean is within two "
                             "standard deviations of zero (an anomaly series), where the "
                             "coefficient of variation means nothing"),
        values=values, units=units, figures=[figure],
        checks=[Check(name="Kendall tau in [-1, 1]",
                      passed=all(abs(ews.tau[k]) <= 1 for k in shown)),
                Check(name="indicators computed", passed=all(
                    ews.indicators[k].notna().sum() >= 2 for k in shown))],
        tau={k: ews.tau[k] for k in shown}, p_value={k: ews.p_value[k] for k in shown
                                                     if ews.p_value},
        transition=transition, window_points=ews.window_points, detrending=setting)


def _series(ctx: ToolContext, handle: str, variable: str | None) -> xr.DataArray:
    """The 1-D series ``handle`` (or its ``variable``) along time or age; dimensions of
    length 1 (one member) are dropped."""
    obj = ctx.get(handle)
    if isinstance(obj, xr.Dataset):
        if variable not in obj.data_vars:
            raise ToolError(f"{handle!r} is a Dataset: name one of its variables "
                            f"({', '.join(map(str, obj.data_vars))}) as `variable`")
        obj = obj[variable]
    if isinstance(obj, xr.DataArray):  # e.g. one member of an emulators.simulate run
        obj = obj.squeeze([d for d in obj.dims if d not in ("time", AGE) and obj.sizes[d] == 1],
                          drop=True)
    if not isinstance(obj, xr.DataArray) or obj.dims not in (("time",), (AGE,)):
        dims = getattr(obj, "dims", ())
        raise ToolError(f"{handle!r} is not a single series (dims {tuple(dims)}); select a "
                        "member and a site, or take a regional mean, first")
    return obj


def _span(da: xr.DataArray, axis: Axis) -> str:
    if axis.label == "time":
        return f"{axis.coordinate[0]:g} to {axis.coordinate[-1]:g} {axis.unit}"
    return span(da)


def _cv_defined(ews: EarlyWarnings) -> bool:
    """True when the rolling mean stays at least twice the rolling standard deviation away
    from zero (|cv| <= 0.5): cv means nothing for anomalies, whose mean is near zero."""
    cv = ews.indicators["cv"].dropna()
    return bool(cv.size and (cv.abs() <= 0.5).all())


def _plot(ctx: ToolContext, da: xr.DataArray, axis: Axis, ews: EarlyWarnings,
          shown: list[str], setting: str, window: float) -> str:
    """The series with its trend and the transition, then one panel per indicator."""
    fig = Figure(figsize=(8, 2.0 * (1 + len(shown))))
    axes = fig.subplots(1 + len(shown), 1, sharex=True)
    x_all, x_pre = axis.coordinate, axis.sign * ews.state.index.to_numpy()
    units = da.attrs.get("units", "?")
    axes[0].plot(x_all, da.values, lw=0.7, color="0.3", label="series")
    if "smoothing" in ews.state:
        axes[0].plot(x_pre, ews.state["smoothing"], lw=1.5, color="C3",
                     label=f"trend ({setting})")
    axes[0].axvline(x_pre[-1], color="k", ls="--", lw=0.8, label="transition")
    axes[0].set_ylabel(f"{da.name or 'series'} ({units})")
    axes[0].legend(fontsize=7, loc="best")
    axes[0].set_title(f"Early-warning signals: {described(da)}", fontsize=9)
    for ax, k in zip(axes[1:], shown):
        p = f", p = {ews.p_value[k]:.2g}" if ews.p_value else ""
        ax.plot(x_pre, ews.indicators[k], lw=1.0, color="C0",
                label=f"Kendall tau {ews.tau[k]:+.3f}{p}")
        squared = f"({units})^2" if units != "1" else "1"
        ax.set_ylabel(f"{k} ({squared if k == 'variance' else '1'})")
        ax.legend(fontsize=7, loc="upper left")
    axes[-1].set_xlabel(f"{axis.label} ({axis.unit}); rolling window {window:g} of the "
                        "record before the transition")
    if axis.sign < 0:
        axes[-1].invert_xaxis()
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path("early_warning"))
