"""Composites: the mean field when an index is high minus the mean when it is low."""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.timeaxis import get_dataarray


def composite_difference(field: xr.DataArray, index: xr.DataArray,
                         threshold: float) -> tuple[xr.DataArray, int, int]:
    """Mean of ``field`` where the standardised ``index`` > threshold minus where it is
    < -threshold, on their common times; returns (difference, n_high, n_low)."""
    field, index = xr.align(field, index, join="inner")
    z = (index - index.mean()) / index.std()
    high, low = z > threshold, z < -threshold
    n_high, n_low = int(high.sum()), int(low.sum())
    if n_high < 2 or n_low < 2:
        raise ToolError(f"only {n_high} high and {n_low} low times at |z| > {threshold}; "
                        "lower the threshold or use a longer record")
    diff = field.where(high, drop=True).mean("time") - field.where(low, drop=True).mean("time")
    return diff.assign_attrs(field.attrs), n_high, n_low


class CompositeInput(BaseModel):
    field: str = Field(description="handle of a field with a time dimension")
    index: str = Field(description="handle of a series on the same times (e.g. an index)")
    threshold: float = Field(1.0, gt=0, le=3, description="|standardised index| above which a "
                                                          "time counts as high or low")


class CompositeResult(ToolResult):
    handle: str


@tool("analysis.composite", family="analysis")
def composite(args: CompositeInput, ctx: ToolContext) -> CompositeResult:
    """Composite difference of a field: mean over times with index > +threshold standard
    deviations minus mean over times with index < -threshold; stored as '<field>_composite'."""
    field = get_dataarray(ctx, args.field).load()
    index = get_dataarray(ctx, args.index).load()
    if index.dims != ("time",):
        raise ToolError(f"{args.index!r} must be a series (dim 'time' only)")
    diff, n_high, n_low = composite_difference(field, index, args.threshold)
    name = f"{args.field}_composite"
    ctx.store[name] = diff.rename(name)
    peak = float(np.nanmax(np.abs(diff.values)))
    units = field.attrs.get("units", "?")
    return CompositeResult(
        summary=f"composite of {args.field} on {args.index} (|z| > {args.threshold}): "
                f"{n_high} high, {n_low} low times; largest |difference| {peak:.2f} {units}",
        values={"n_high": float(n_high), "n_low": float(n_low), "max_abs_difference": peak},
        units={"n_high": "1", "n_low": "1", "max_abs_difference": units}, handles=[name],
        checks=[Check(name="difference finite somewhere", passed=bool(np.isfinite(peak)))],
        handle=name)
