"""Maps of lat/lon fields with plain matplotlib (no cartopy): filled cells, labelled axes, and
the settings the field went through (``attrs["steps"]``) in the title."""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.base import ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.regions import lat_lon_names, on_grid
from climcopilot.tools.datamodel.steps import settings, with_step
from climcopilot.tools.viz.figures import save_figure


def draw_map(ax, field: xr.DataArray, label: str, symmetric: bool = True):
    """Draw a 2-D (lat, lon) field on ``ax`` with a colour bar labelled ``label``."""
    lat, lon = lat_lon_names(field)
    values = field.transpose(lat, lon).values
    limit = float(np.nanmax(np.abs(values))) if symmetric else None
    mesh = ax.pcolormesh(field[lon].values, field[lat].values, values, shading="nearest",
                         cmap="RdBu_r" if symmetric else "viridis",
                         vmin=-limit if symmetric else None, vmax=limit)
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    ax.figure.colorbar(mesh, ax=ax, label=label, shrink=0.8)
    return mesh


class MapPlotInput(BaseModel):
    handle: str = Field(description="handle of a field with lat/lon (a time axis is averaged)")
    title: str | None = Field(None, description="figure title; default from the field's name")


class MapPlotResult(ToolResult):
    pass


@tool("viz.map_plot", family="viz")
def map_plot(args: MapPlotInput, ctx: ToolContext) -> MapPlotResult:
    """Map of a lat/lon field (its time mean when it has a time axis)."""
    from matplotlib.figure import Figure

    da = ctx.get(args.handle)
    if not isinstance(da, xr.DataArray):
        raise ToolError(f"{args.handle!r} is not a DataArray")
    if "time" in da.dims:
        da = with_step(da.mean("time", keep_attrs=True), "time mean", attrs_from=da)
    da = on_grid(da, args.handle)
    fig = Figure(figsize=(7.5, 4))
    ax = fig.subplots()
    name = da.attrs.get("long_name", da.name)
    draw_map(ax, da, f"{name} ({da.attrs.get('units', '?')})",
             symmetric=bool(float(da.min()) < 0 < float(da.max())))
    steps = settings(da)
    ax.set_title((args.title or str(name)) + (f"\n{steps}" if steps else ""), fontsize=10)
    path = save_figure(fig, ctx.figure_path(f"map-{da.name}"))
    return MapPlotResult(summary=f"map of {args.handle} saved to {path}", figures=[path])
