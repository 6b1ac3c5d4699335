"""Series diagnostics: summary statistics, extremes, autocorrelation, putting two series on a
common axis, and lagged correlation.

Significance of a correlation uses the effective sample size of Bretherton et al. (1999),
``n_eff = n (1 - r1a r1b) / (1 + r1a r1b)`` with the lag-1 autocorrelations r1a, r1b. Paleo
records (age axis) are compared on a common even age grid (linear interpolation).
"""

from __future__ import annotations

import calendar

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field
from scipy import stats

from climcopilot.tools.analysis.seasons import ANNUAL, month_year, season_means
from climcopilot.tools.analysis.spacing import (
    age_grid,
    evenly_spaced,
    median_spacing,
    nice_step,
    on_ages,
)
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.steps import described, settings, with_step
from climcopilot.tools.datamodel.timeaxis import (
    AGE,
    LAG_UNIT,
    ORDER,
    RULES,
    along,
    frequency_of,
    is_age_series,
    span,
)
from climcopilot.tools.viz.figures import save_figure


def align(a: xr.DataArray, b: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray, str]:
    """Both series on their coarser common frequency (means), over the overlap only.

    Returns ``(a, b, frequency)``; the overlap keeps times where both are finite. Two paleo
    records go onto a common even age grid instead (frequency 'every <step> kyr').
    """
    (a2, b2), freq = align_all([a, b])
    return a2, b2, freq


def align_all(series: list[xr.DataArray]) -> tuple[list[xr.DataArray], str]:
    """Every series on the coarsest frequency among them (means), over their common overlap.

    Returns the aligned series and the frequency; kept times are finite in every series.
    Paleo records are interpolated onto one even age grid (:func:`common_age_grid`).
    """
    ages = [is_age_series(da) for da in series]
    if any(ages):
        if not all(ages):
            raise ToolError("cannot put a paleo record (age axis, ka BP) and a calendar series "
                            "on one axis; compare paleo records with paleo records")
        return common_age_grid(series)
    freq = max((frequency_of(da) for da in series), key=ORDER.index)
    out = []
    for da in series:
        if frequency_of(da) != freq:
            da = da.resample(time=RULES[freq]).mean().assign_attrs(da.attrs, frequency=freq)
        else:  # snap to period starts so that the time axes match
            t = da.indexes["time"]
            t = t.to_period(RULES[freq][0]).to_timestamp() if hasattr(t, "to_period") else t
            da = da.assign_coords(time=np.asarray(t))
        out.append(da)
    out = list(xr.align(*out, join="inner"))
    keep = np.logical_and.reduce([np.isfinite(da.values) for da in out])
    return [da[keep] for da in out], freq


def common_age_grid(series: list[xr.DataArray]) -> tuple[list[xr.DataArray], str]:
    """Paleo records interpolated linearly onto one even age grid over their overlap; the
    step is the round number nearest the coarsest record's median sample spacing."""
    youngest = max(float(da[AGE].min()) for da in series)
    oldest = min(float(da[AGE].max()) for da in series)
    if oldest <= youngest:
        raise ToolError("the paleo records do not overlap in age")
    step = nice_step(max(median_spacing(da) for da in series))
    grid = age_grid(youngest, oldest, step)
    grid = grid[(grid <= oldest) & (grid >= youngest)]
    freq = f"every {step:g} kyr"
    out = [with_step(on_ages(da, grid).assign_attrs(frequency=freq, step_kyr=step),
                     f"interpolated to a common {step:g}-kyr age grid") for da in series]
    return out, freq


def lag1_autocorrelation(x: np.ndarray) -> float:
    """Lag-1 autocorrelation of a 1-D array."""
    return autocorrelation_at(x, 1)


def autocorrelation_at(x: np.ndarray, lag: int) -> float:
    """Sample autocorrelation at ``lag`` steps: sum (x_t - m)(x_t+lag - m) / sum (x_t - m)^2,
    the estimator of Box & Jenkins (m the mean of all values)."""
    x = x - x.mean()
    return float(np.dot(x[: x.size - lag], x[lag:]) / np.dot(x, x))


def lagged_correlations(a: np.ndarray, b: np.ndarray, max_lag: int) -> np.ndarray:
    """Pearson r between a(t) and b(t + k) for k = -max_lag..max_lag (k > 0: a leads b)."""
    r = []
    for k in range(-max_lag, max_lag + 1):
        x, y = (a[: len(a) - k], b[k:]) if k >= 0 else (a[-k:], b[: len(b) + k])
        r.append(np.corrcoef(x, y)[0, 1])
    return np.array(r)


def series_of(ctx: ToolContext, handle: str) -> xr.DataArray:
    """The session series ``handle`` along time or age; a ToolError unless it is a 1-D
    DataArray with some finite values."""
    da = ctx.get(handle)
    if not isinstance(da, xr.DataArray) or da.dims not in (("time",), (AGE,)):
        raise ToolError(f"{handle!r} is not a time series (a DataArray with dim 'time', or "
                        "'age' for a paleo record); reduce a field to an index first (e.g. "
                        "analysis.regional_mean)")
    if da.size and not np.isfinite(da.values).any():
        raise ToolError(f"{handle!r} holds no finite values")
    return da


def time_series(ctx: ToolContext, handle: str) -> xr.DataArray:
    """The session series ``handle`` on calendar time; a ToolError unless it is a 1-D
    DataArray along time with some finite values."""
    da = series_of(ctx, handle)
    if is_age_series(da):
        raise ToolError(f"{handle!r} is a paleo record on an age axis (ka BP); this tool "
                        "needs calendar time")
    return da


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
    '<a>_aligned' and '<b>_aligned'); two paleo records go onto a common even age grid."""
    a, b, freq = align(series_of(ctx, args.a), series_of(ctx, args.b))
    if a.size < 3:
        raise ToolError(f"{args.a} and {args.b} overlap in only {a.size} {freq} values")
    names = [f"{args.a}_aligned", f"{args.b}_aligned"]
    ctx.store.update(zip(names, (a, b)))
    first, last = span(a).split(" to ")
    return AlignResult(summary=f"{a.size} common {freq} values, {first} to {last}",
                       values={"n": float(a.size)}, units={"n": "1"}, handles=names,
                       frequency=freq, start=first, end=last)


class LagCorrelationInput(BaseModel):
    a: str = Field(description="handle of the first series (the candidate leader)")
    b: str = Field(description="handle of the second series")
    max_lag: int = Field(12, ge=0, le=240,
                         description="largest lag tried, in steps of the common frequency")
    lag: int | None = Field(None, ge=1, le=240, description="also report r at this lag both "
                            "ways (r_a_leads: a leads b by it; r_b_leads), steps")


class LagCorrelationResult(ToolResult):
    lags: list[int]
    r_by_lag: list[float]
    lag_unit: str
    lag_step: float = Field(1.0, description="one lag step in lag_unit (paleo: the age grid "
                                             "step in kyr)")


@tool("analysis.lag_correlation", family="analysis")
def lag_correlation(args: LagCorrelationInput, ctx: ToolContext) -> LagCorrelationResult:
    """Pearson correlation of two series at lags -max_lag..max_lag on their overlap, with a
    p-value from the autocorrelation-adjusted effective sample size. Positive lag: a leads b.
    Paleo records are compared on a common even age grid (lags in kyr)."""
    da_a, da_b, freq = align(series_of(ctx, args.a), series_of(ctx, args.b))
    x, y = da_a.values.astype(float), da_b.values.astype(float)
    n = x.size
    if n < 2 * args.max_lag + 10:
        raise ToolError(f"only {n} overlapping {freq} values: too few for max_lag="
                        f"{args.max_lag}; lower max_lag or use longer series")
    if x.std() == 0 or y.std() == 0:
        raise ToolError("a series is constant on the overlap; correlation is undefined")
    unit, step = ("kyr", float(da_a.attrs["step_kyr"])) if is_age_series(da_a) else (
        LAG_UNIT[freq], 1.0)
    if args.lag is not None and args.lag > args.max_lag:
        raise ToolError(f"lag {args.lag} is beyond max_lag {args.max_lag}; raise max_lag")
    lags = list(range(-args.max_lag, args.max_lag + 1))
    r = lagged_correlations(x, y, args.max_lag)
    r0 = float(r[args.max_lag])
    best = int(np.argmax(np.abs(r)))
    ra, rb = lag1_autocorrelation(x), lag1_autocorrelation(y)
    n_eff = float(n * (1 - ra * rb) / (1 + ra * rb))
    dof = max(n_eff - 2, 1.0)
    t_stat = r0 * np.sqrt(dof / max(1 - r0**2, 1e-12))
    p = float(2 * stats.t.sf(abs(t_stat), dof))
    figure = _plot_lags(ctx, [k * step for k in lags], r, da_a, da_b, unit)
    checks = [Check(name="r in [-1, 1]", passed=bool(np.all(np.abs(r) <= 1 + 1e-12))),
              Check(name="enough independent samples", passed=n_eff >= 10,
                    detail=f"n_eff = {n_eff:.1f}")]
    first, last = span(da_a).split(" to ")
    order = "a leads b" if lags[best] > 0 else "b leads a" if lags[best] < 0 else "simultaneous"
    values = {"r": r0, "p_value": p, "n": float(n), "n_eff": n_eff,
              "best_lag": float(lags[best] * step), "r_at_best_lag": float(r[best])}
    units = {"r": "1", "p_value": "1", "n": "1", "n_eff": "1", "best_lag": unit,
             "r_at_best_lag": "1"}
    if args.lag is not None:
        values.update(r_a_leads=float(r[args.max_lag + args.lag]),
                      r_b_leads=float(r[args.max_lag - args.lag]))
        units.update(r_a_leads="1", r_b_leads="1")
    return LagCorrelationResult(
        summary=(f"r = {r0:.3f} at lag 0 (n = {n}, n_eff = {n_eff:.0f}, p = {p:.2g}, "
                 f"{first} to {last}); strongest |r| = {abs(r[best]):.3f} at lag "
                 f"{lags[best] * step:g} {unit} ({order})"),
        values=values, units=units, figures=[figure], checks=checks, lags=lags,
        r_by_lag=[float(v) for v in r], lag_unit=unit, lag_step=step)


def _plot_lags(ctx: ToolContext, lags: list[float], r: np.ndarray, a: xr.DataArray,
               b: xr.DataArray, unit: str) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.plot(lags, r, marker="o", ms=3)
    ax.set_xlabel(f"lag ({unit}); positive: {a.name} leads {b.name}")
    ax.set_ylabel("Pearson r (1)")
    ax.set_title(f"Lagged correlation: {described(a)} vs {described(b)}", fontsize=9)
    return save_figure(fig, ctx.figure_path(f"lagcorr-{a.name}-{b.name}"))


class AutocorrelationInput(BaseModel):
    handle: str = Field(description="handle of an evenly spaced series (paleo records are "
                                    "interpolated to an even age grid)")
    lag: int = Field(1, ge=1, le=1000, description="lag in time steps of the series")


class AutocorrelationResult(ToolResult):
    lag_unit: str


@tool("analysis.autocorrelation", family="analysis")
def autocorrelation(args: AutocorrelationInput, ctx: ToolContext) -> AutocorrelationResult:
    """Lag-k autocorrelation of a series (default lag 1 step: a month for monthly data, a year
    for annual means; paleo records on an even age grid, lag in kyr). Values: acf, lag (in the
    series' time step), n."""
    da = series_of(ctx, args.handle)
    even = evenly_spaced(da.dropna(along(da)), args.handle)
    x = even.values
    if x.size < args.lag + 3:
        raise ToolError(f"{args.handle!r} has {x.size} values: too few for lag {args.lag}")
    if x.std() == 0:
        raise ToolError(f"{args.handle!r} is constant; autocorrelation is undefined")
    acf = autocorrelation_at(x, args.lag)
    lag = args.lag * even.lag_step
    note = f"; {even.note}" if even.note else ""
    return AutocorrelationResult(
        summary=f"autocorrelation of {described(da)} at lag {lag:g} {even.lag_unit}: "
                f"{acf:.3f} (n = {x.size}{note})",
        values={"acf": acf, "lag": float(lag), "n": float(x.size)},
        units={"acf": "1", "lag": even.lag_unit, "n": "1"},
        checks=[Check(name="acf in [-1, 1]", passed=abs(acf) <= 1 + 1e-12)],
        lag_unit=even.lag_unit)


class DescribeInput(BaseModel):
    handle: str = Field(description="handle of a series (calendar time or a paleo record)")
    percentile: float | None = Field(None, gt=0, lt=100, description="also this percentile "
                                     "of the values (e.g. 95), linear interpolation")
    threshold: float | None = Field(None, description="also count the values above it "
                                    "(n_above, fraction_above) and below it, in the units")


class DescribeResult(ToolResult):
    start: str
    end: str
    steps: list[str]


@tool("analysis.describe", family="analysis")
def describe(args: DescribeInput, ctx: ToolContext) -> DescribeResult:
    """Summary statistics of a series' finite values: mean, median, standard deviation
    (ddof=1), variance (its square, in squared units), skewness (adjusted Fisher-Pearson, as
    pandas), min, max, range (max - min), n, a percentile if asked and how many values lie
    above and below a threshold if given (strictly), in the series' units, with the steps it
    went through."""
    da = series_of(ctx, args.handle)
    x = da.values[np.isfinite(da.values)].astype(float)
    if x.size < 2:
        raise ToolError(f"{args.handle!r} has {x.size} finite values; describe needs 2")
    units = da.attrs.get("units", "?")
    values = {"mean": float(x.mean()), "median": float(np.median(x)),
              "std": float(x.std(ddof=1)), "variance": float(x.var(ddof=1)),
              "skewness": float(stats.skew(x, bias=False)) if x.size > 2 else float("nan"),
              "min": float(x.min()), "max": float(x.max()), "range": float(x.max() - x.min()),
              "n": float(x.size)}
    if args.percentile is not None:
        values["percentile"] = float(np.percentile(x, args.percentile))
    if args.threshold is not None:
        above, below = int((x > args.threshold).sum()), int((x < args.threshold).sum())
        values.update(n_above=float(above), fraction_above=above / x.size,
                      n_below=float(below), fraction_below=below / x.size)
    first, last = span(da).split(" to ")
    return DescribeResult(
        summary=f"{described(da)}, {first} to {last}: mean {values['mean']:.4g}, std "
                f"{values['std']:.4g}, min {values['min']:.4g}, max {values['max']:.4g}, "
                f"range {_quantity(values['range'], units)} (n = {x.size})",
        values=values, units={**{k: units for k in values}, "n": "1",
                              "variance": squared(units), "skewness": "1",
                              **{k: "1" for k in values if k.startswith(("n_", "fraction_"))}},
        checks=[Check(name="min <= mean <= max",
                      passed=values["min"] <= values["mean"] <= values["max"])],
        start=first, end=last, steps=settings(da).split("; ") if settings(da) else [])


class ExtremesInput(BaseModel):
    handle: str = Field(description="handle of a series (calendar time or a paleo record)")
    annual: bool = Field(True, description="for a sub-annual series, compare calendar-year "
                                           "means (complete years only); false: single time "
                                           "steps")


class ExtremesResult(ToolResult):
    compared: str = Field(description="what was compared, e.g. 'calendar-year means'")


@tool("analysis.extremes", family="analysis")
def extremes(args: ExtremesInput, ctx: ToolContext) -> ExtremesResult:
    """The highest and lowest value of a series and when: year_of_max, max_value,
    year_of_min, min_value (warmest/wettest = max, coldest/driest = min). A sub-annual series
    is compared as calendar-year means by default (said in `compared`); for a season, take
    analysis.subset seasonal_mean first. Paleo records give age_of_max/age_of_min (ka BP).
    Ties go to the earliest in time."""
    da = series_of(ctx, args.handle)
    da = da.where(np.isfinite(da), drop=True)
    units = da.attrs.get("units", "?")
    if is_age_series(da):
        x, ages = da.values, da[AGE].values
        hi, lo = int(np.argmax(x)), int(np.argmin(x))
        return ExtremesResult(
            summary=f"{described(da)}: maximum {_quantity(x[hi], units)} at {ages[hi]:.2f} ka "
                    f"BP, minimum {_quantity(x[lo], units)} at {ages[lo]:.2f} ka BP",
            values={"age_of_max": float(ages[hi]), "max_value": float(x[hi]),
                    "age_of_min": float(ages[lo]), "min_value": float(x[lo])},
            units={"age_of_max": "ka BP", "max_value": units, "age_of_min": "ka BP",
                   "min_value": units},
            compared="samples of the paleo record")
    compared = "single time steps"
    if frequency_of(da) == "annual":
        compared = "yearly values"
    elif args.annual:
        da, dropped = season_means(da, ANNUAL, complete=True)
        if da.sizes["time"] == 0:
            raise ToolError(f"{args.handle!r} has no complete calendar year; set annual=false")
        compared = "calendar-year means" + (f" ({dropped} incomplete years left out)"
                                            if dropped else "")
    x = da.values
    hi, lo = int(np.argmax(x)), int(np.argmin(x))
    months, years = month_year(da["time"])
    values = {"year_of_max": float(years[hi]), "max_value": float(x[hi]),
              "year_of_min": float(years[lo]), "min_value": float(x[lo])}
    value_units = {"year_of_max": "yr", "max_value": units, "year_of_min": "yr",
                   "min_value": units}
    when = {i: f"{years[i]}" for i in (hi, lo)}
    if compared == "single time steps":
        values.update(month_of_max=float(months[hi]), month_of_min=float(months[lo]))
        value_units.update(month_of_max="month (1-12)", month_of_min="month (1-12)")
        when = {i: f"{calendar.month_abbr[months[i]]} {years[i]}" for i in (hi, lo)}
    return ExtremesResult(
        summary=f"{described(da)} ({compared}): highest {_quantity(x[hi], units)} in "
                f"{when[hi]}, lowest {_quantity(x[lo], units)} in {when[lo]}",
        values=values, units=value_units, compared=compared)


def _quantity(value: float, units: str) -> str:
    """'427.5 mm month-1'; a dimensionless value ('1') without a unit."""
    return f"{value:.4g}" if units == "1" else f"{value:.4g} {units}"


def squared(units: str) -> str:
    """The unit of a variance: 'degC^2', '(mm month-1)^2'; '1' and unknown ('?') stay."""
    if units in ("1", "", "?"):
        return units
    return f"({units})^2" if " " in units else f"{units}^2"
