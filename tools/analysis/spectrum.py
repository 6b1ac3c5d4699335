"""Power spectra of series (periodogram of the linearly detrended series, Hann window) and
their dominant periods."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field
from scipy import signal

from climcopilot.tools.analysis.timeaxis import get_dataarray, time_step_years
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool


def power_spectrum(y: np.ndarray, step_years: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequency in cycles per year, power density in units**2 per cycle per year), zero
    frequency dropped; ``y`` evenly spaced, no gaps."""
    f, p = signal.periodogram(y, fs=1.0 / step_years, window="hann", detrend="linear")
    return f[1:], p[1:]


class SpectrumInput(BaseModel):
    handle: str = Field(description="handle of an evenly spaced series without gaps")
    min_period: float = Field(0.0, ge=0, description="ignore periods shorter than this (years)")
    max_period: float | None = Field(None, gt=0, description="ignore periods longer than this "
                                                             "(years); default a third of the "
                                                             "record")


class SpectrumResult(ToolResult):
    periods_top3: list[float]


@tool("analysis.spectrum", family="analysis")
def spectrum(args: SpectrumInput, ctx: ToolContext) -> SpectrumResult:
    """Power spectrum (Hann-windowed periodogram of the detrended series) and the dominant
    period in years, searched between min_period and max_period."""
    da = get_dataarray(ctx, args.handle)
    if da.dims != ("time",):
        raise ToolError(f"{args.handle!r} must be a series (dim 'time' only)")
    y = da.values.astype(float)
    if not np.all(np.isfinite(y)) or y.size < 16:
        raise ToolError(f"{args.handle!r} needs at least 16 values and no gaps")
    step = time_step_years(da["time"])
    freq, power = power_spectrum(y, step)
    periods = 1.0 / freq
    longest = args.max_period or y.size * step / 3
    band = (periods >= args.min_period) & (periods <= longest)
    if not band.any():
        raise ToolError(f"no resolved periods between {args.min_period} and {longest:.1f} years")
    order = np.argsort(power[band])[::-1]
    top = periods[band][order[:3]]
    figure = _plot(ctx, da, periods, power, top[0])
    return SpectrumResult(
        summary=f"dominant period of {da.attrs.get('long_name', da.name)}: {top[0]:.2f} years "
                f"(next {', '.join(f'{p:.2f}' for p in top[1:])})",
        values={"dominant_period": float(top[0])}, units={"dominant_period": "years"},
        figures=[figure],
        checks=[Check(name="power non-negative", passed=bool(np.all(power >= 0)))],
        periods_top3=[float(p) for p in top])


def _plot(ctx: ToolContext, da, periods: np.ndarray, power: np.ndarray, peak: float) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    ax.loglog(periods, power, lw=0.9)
    ax.axvline(peak, color="C3", lw=0.8, ls="--", label=f"peak {peak:.2f} years")
    ax.set_xlabel("period (years)")
    ax.set_ylabel(f"power density ({da.attrs.get('units', '?')}$^2$ year)")
    ax.set_title(f"Power spectrum of {da.attrs.get('long_name', da.name)}", fontsize=10)
    ax.legend(fontsize=8)
    path = ctx.figure_path(f"spectrum-{da.name}")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return str(path)
