"""Line plots of session series, titled with the settings the series went through (period,
season, transforms: ``attrs["steps"]``) and labelled with units."""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.base import ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.steps import settings, steps_of
from climcopilot.tools.datamodel.timeaxis import AGE, along, axis_years, is_age_series
from climcopilot.tools.viz.figures import save_figure


class LinePlotInput(BaseModel):
    handles: list[str] = Field(min_length=1, max_length=6,
                               description="handles of 1-6 time series in the session")
    title: str | None = Field(None, description="figure title; default from the series names "
                                                "(the settings line is added either way)")


class LinePlotResult(ToolResult):
    pass


def plot_title(series: list[xr.DataArray], title: str | None) -> str:
    """The title, and the settings shared by all series on a second line."""
    head = title or " and ".join(str(da.attrs.get("long_name", da.name)) for da in series)
    shared = settings(series[0])
    if shared and all(steps_of(da) == steps_of(series[0]) for da in series):
        return f"{head}\n{shared}"
    return head


def legend_label(da: xr.DataArray, shared: bool) -> str:
    """The series' name, with its own settings unless the title states them."""
    name = str(da.attrs.get("long_name", da.name))
    return name if shared or not steps_of(da) else f"{name} [{settings(da)}]"


def _x(da: xr.DataArray) -> np.ndarray:
    """What a series is plotted against: dates, decimal years (other calendars), or age."""
    x = da[along(da)].values
    return x if is_age_series(da) or np.issubdtype(x.dtype, np.datetime64) else axis_years(da)


@tool("viz.line_plot", family="viz")
def line_plot(args: LinePlotInput, ctx: ToolContext) -> LinePlotResult:
    """Plot series against time (paleo records against age in ka BP, time running left to
    right); the title states the settings the series went through (period, season,
    transforms), two series with different units get two y-axes."""
    from matplotlib.figure import Figure

    series = [ctx.get(h) for h in args.handles]
    for h, da in zip(args.handles, series):
        if not isinstance(da, xr.DataArray) or da.dims not in (("time",), (AGE,)):
            raise ToolError(f"{h!r} is not a time series (a DataArray with dim 'time', or "
                            "'age' for a paleo record)")
    if len({along(da) for da in series}) > 1:
        raise ToolError("cannot plot paleo records (age axis) and calendar series on one "
                        "axis; plot them separately")
    units = [da.attrs.get("units", "?") for da in series]
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    axes = [ax] * len(series)
    if len(set(units)) == 2 and len(series) == 2:
        axes = [ax, ax.twinx()]
    elif len(set(units)) > 2:
        raise ToolError(f"series have {len(set(units))} different units ({', '.join(units)}); "
                        "plot at most two kinds of units together")
    title = plot_title(series, args.title)
    shared = "\n" in title
    dim = along(series[0])
    for i, (da, axis) in enumerate(zip(series, axes)):
        axis.plot(_x(da), da.values, lw=0.9, color=f"C{i}",
                  label=legend_label(da, shared))
        axis.set_ylabel(f"{da.attrs.get('long_name', da.name)} ({da.attrs.get('units', '?')})",
                        color=f"C{i}" if axes[0] is not axes[-1] else "black", fontsize=8)
    if dim == AGE:
        ax.set_xlabel("age (ka BP)")
        ax.invert_xaxis()  # older on the left: time runs left to right
    else:
        ax.set_xlabel("time (year)")
    fig.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title(title, fontsize=10)
    path = ctx.figure_path("series-" + "-".join(str(da.name) for da in series))
    saved = save_figure(fig, path)
    return LinePlotResult(summary=f"line plot of {', '.join(args.handles)} saved to {saved}"
                          + (f" (settings: {title.split(chr(10))[1]})" if shared else ""),
                          figures=[saved])
