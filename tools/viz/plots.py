"""Line plots of session series, titled and labelled with units."""

from __future__ import annotations

import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.base import ToolContext, ToolError, ToolResult, tool


class LinePlotInput(BaseModel):
    handles: list[str] = Field(min_length=1, max_length=6,
                               description="handles of 1-6 time series in the session")
    title: str | None = Field(None, description="figure title; default from the series names")


class LinePlotResult(ToolResult):
    pass


@tool("viz.line_plot", family="viz")
def line_plot(args: LinePlotInput, ctx: ToolContext) -> LinePlotResult:
    """Plot time series against time; two series with different units get two y-axes."""
    from matplotlib.figure import Figure

    series = [ctx.get(h) for h in args.handles]
    for h, da in zip(args.handles, series):
        if not isinstance(da, xr.DataArray) or da.dims != ("time",):
            raise ToolError(f"{h!r} is not a time series (a DataArray with dim 'time')")
    units = [da.attrs.get("units", "?") for da in series]
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    axes = [ax] * len(series)
    if len(set(units)) == 2 and len(series) == 2:
        axes = [ax, ax.twinx()]
    elif len(set(units)) > 2:
        raise ToolError(f"series have {len(set(units))} different units ({', '.join(units)}); "
                        "plot at most two kinds of units together")
    for i, (da, axis) in enumerate(zip(series, axes)):
        axis.plot(da["time"].values, da.values, lw=0.9, color=f"C{i}",
                  label=da.attrs.get("long_name", da.name))
        axis.set_ylabel(f"{da.attrs.get('long_name', da.name)} ({da.attrs.get('units', '?')})",
                        color=f"C{i}" if axes[0] is not axes[-1] else "black", fontsize=8)
    ax.set_xlabel("time (year)")
    fig.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title(args.title or " and ".join(da.attrs.get("long_name", str(da.name))
                                            for da in series), fontsize=10)
    path = ctx.figure_path("series-" + "-".join(str(da.name) for da in series))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return LinePlotResult(summary=f"line plot of {', '.join(args.handles)} saved to {path}",
                          figures=[str(path)])
