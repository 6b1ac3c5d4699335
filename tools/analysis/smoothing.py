"""Centred running means along time."""

from __future__ import annotations

from pydantic import BaseModel, Field

from climcopilot.tools.analysis.timeaxis import get_dataarray
from climcopilot.tools.base import ToolContext, ToolError, ToolResult, tool


class RunningMeanInput(BaseModel):
    handle: str = Field(description="handle of a series or field with a time dimension")
    window: int = Field(ge=2, le=1000, description="window length in time steps")


class RunningMeanResult(ToolResult):
    handle: str


@tool("analysis.running_mean", family="analysis")
def running_mean(args: RunningMeanInput, ctx: ToolContext) -> RunningMeanResult:
    """Centred running mean over `window` time steps (ends without a full window are
    dropped); stored as '<handle>_rm<window>'."""
    da = get_dataarray(ctx, args.handle)
    if da.sizes["time"] < args.window:
        raise ToolError(f"window {args.window} is longer than the series ({da.sizes['time']})")
    out = da.rolling(time=args.window, center=True).mean().dropna("time", how="all")
    name = f"{args.handle}_rm{args.window}"
    ctx.store[name] = out.assign_attrs(da.attrs).rename(name)
    return RunningMeanResult(summary=f"{args.window}-step running mean of {args.handle} stored "
                                     f"as {name!r} ({out.sizes['time']} steps)",
                             handles=[name], handle=name)
