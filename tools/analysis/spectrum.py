"""Power spectra of series (periodogram of the linearly detrended series, Hann window) and
their dominant periods: in years for calendar series, in kyr for paleo records (which are
first interpolated onto an even age grid, stated in the result)."""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field
from scipy import signal

from climcopilot.tools.analysis.series import series_of
from climcopilot.tools.analysis.spacing import evenly_spaced
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.steps import described
from climcopilot.tools.viz.figures import save_figure


def power_spectrum(y: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequency in cycles per unit of ``step``, power density in units**2 per cycle per
    unit), zero frequency dropped; ``y`` evenly spaced ``step`` apart (years or kyr), no gaps."""
    f, p = signal.periodogram(y, fs=1.0 / step, window="hann", detrend="linear")
    return f[1:], p[1:]


class SpectrumInput(BaseModel):
    handle: str = Field(description="handle of an evenly spaced series without gaps, or a "
                                    "paleo record")
    min_period: float = Field(0.0, ge=0, description="ignore periods shorter than this (years; "
                                                     "kyr for paleo records)")
    max_period: float | None = Field(None, gt=0, description="ignore periods longer than this "
                                                             "(years; kyr for paleo records); "
                                                             "default a third of the record")


class SpectrumResult(ToolResult):
    periods_top3: list[float]
    period_unit: str = "years"


@tool("analysis.spectrum", family="analysis")
def spectrum(args: SpectrumInput, ctx: ToolContext) -> SpectrumResult:
    """Power spectrum (Hann-windowed periodogram of the detrended series) and the dominant
    period, searched between min_period and max_period: in years, or in kyr for a paleo
    record (interpolated linearly onto an even age grid first)."""
    da = series_of(ctx, args.handle)
    if not np.all(np.isfinite(da.values)) or da.size < 16:
        raise ToolError(f"{args.handle!r} needs at least 16 values and no gaps")
    even = evenly_spaced(da, args.handle)
    unit = even.period_unit
    freq, power = power_spectrum(even.values, even.period_step)
    periods = 1.0 / freq
    longest = args.max_period or even.values.size * even.period_step / 3
    band = (periods >= args.min_period) & (periods <= longest)
    if not band.any():
        raise ToolError(f"no resolved periods between {args.min_period} and {longest:.1f} "
                        f"{unit}")
    order = np.argsort(power[band])[::-1]
    top = periods[band][order[:3]]
    figure = _plot(ctx, da, periods, power, top[0], unit, even.note)
    note = f"; {even.note}" if even.note else ""
    return SpectrumResult(
        summary=f"dominant period of {described(da)}: {top[0]:.2f} {unit} "
                f"(next {', '.join(f'{p:.2f}' for p in top[1:])}){note}",
        values={"dominant_period": float(top[0])}, units={"dominant_period": unit},
        figures=[figure],
        checks=[Check(name="power non-negative", passed=bool(np.all(power >= 0)))],
        periods_top3=[float(p) for p in top], period_unit=unit)


def _plot(ctx: ToolContext, da: xr.DataArray, periods: np.ndarray, power: np.ndarray,
          peak: float, unit: str, note: str) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    ax.loglog(periods, power, lw=0.9)
    ax.axvline(peak, color="C3", lw=0.8, ls="--", label=f"peak {peak:.2f} {unit}")
    ax.set_xlabel(f"period ({unit})")
    per = "year" if unit == "years" else unit
    ax.set_ylabel(f"power density ({da.attrs.get('units', '?')}$^2$ {per})")
    title = f"Power spectrum of {described(da)}"
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize=10)
    ax.legend(fontsize=8)
    return save_figure(fig, ctx.figure_path(f"spectrum-{da.name}"))
