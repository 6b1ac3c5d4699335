"""Centred running means along time (or along age for paleo records, in samples)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from climcopilot.tools.base import ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.steps import with_step
from climcopilot.tools.datamodel.timeaxis import LAG_UNIT, along, frequency_of, get_dataarray


class RunningMeanInput(BaseModel):
    handle: str = Field(description="handle of a series or field with a time dimension")
    window: int = Field(ge=2, le=1000, description="window length in time steps")


class RunningMeanResult(ToolResult):
    handle: str


@tool("analysis.running_mean", family="analysis")
def running_mean(args: RunningMeanInput, ctx: ToolContext) -> RunningMeanResult:
    """Centred running mean over `window` time steps (ends without a full window are
    dropped; paleo records: `window` samples); stored as '<handle>_rm<window>' with the step
    recorded (e.g. '3-month running mean')."""
    da = get_dataarray(ctx, args.handle, allow_age=True)
    dim = along(da)
    if da.sizes[dim] < args.window:
        raise ToolError(f"window {args.window} is longer than the series ({da.sizes[dim]})")
    out = da.rolling({dim: args.window}, center=True).mean().dropna(dim, how="all")
    step = "sample" if dim != "time" else LAG_UNIT[frequency_of(da)].removesuffix("s")
    name = f"{args.handle}_rm{args.window}"
    ctx.store[name] = with_step(out, f"{args.window}-{step} running mean",
                                attrs_from=da).rename(name)
    return RunningMeanResult(summary=f"{args.window}-{step} running mean of {args.handle} "
                                     f"stored as {name!r} ({out.sizes[dim]} steps)",
                             handles=[name], handle=name)
