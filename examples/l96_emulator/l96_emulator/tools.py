"""The ``l96_emulator.forecast_skill`` tool: how far the emulator's forecasts stay on the truth."""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field

from climcopilot.tools.sdk import (
    Check,
    KnowledgeCard,
    ToolContext,
    ToolResult,
    ValidRange,
    cpu_threads,
    get_system,
    integrate,
    tool,
)
from l96_emulator.models import DT, l96_cnn

TENDENCY_TOLERANCE = 0.05  # relative RMS tendency error the emulator was trained to beat


class SkillInput(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"lead": 0.5, "members": 8}]})

    lead: float = Field(0.5, gt=0, le=5, description="forecast lead time (MTU)")
    members: int = Field(8, ge=1, le=256, description="attractor states to forecast from")
    seed: int = Field(0, ge=0, le=2**31, description="random seed of the starting states")


class SkillResult(ToolResult):
    pass


@tool("l96_emulator.forecast_skill", family="l96_emulator", card=KnowledgeCard(
    what="Scores the l96_cnn torch emulator against the exact Lorenz-96 ring (N = 40, F = 8): "
         "the relative RMS error of its tendency and the RMS error of its forecasts at a lead.",
    when_to_use="Before trusting l96_cnn as a forecast model (e.g. in da.twin_experiment with "
                "forecast_model='l96_cnn'); leads beyond about 2 MTU only measure chaos.",
    references=["Lorenz (1996), Predictability: a problem partly solved, ECMWF Seminar"],
    valid_ranges={"lead": ValidRange(low=0.05, high=2.0, units="MTU")}))
def forecast_skill(args: SkillInput, ctx: ToolContext) -> SkillResult:
    """Forecast `members` Lorenz-96 attractor states for `lead` MTU with the l96_cnn emulator
    and with the exact model; returns the forecast RMS error (state units) and the emulator's
    relative RMS tendency error on those states."""
    system, emulator = get_system("lorenz96"), l96_cnn()
    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad(), cpu_threads(1):
        x0 = system.base_state() + torch.randn(args.members, system.dim, generator=gen,
                                               dtype=torch.float64)
        x0 = integrate(system, x0, DT, round(10 / DT), every=round(10 / DT))[-1]
        steps = max(1, round(args.lead / DT))
        truth = integrate(system, x0, DT, steps, every=steps)[-1]
        forecast = integrate(emulator, x0, DT, steps, every=steps)[-1]
        exact_f = system.tendency(x0)
        tendency_error = float(((emulator.module(x0.float()).double() - exact_f).pow(2).mean()
                                / exact_f.pow(2).mean()).sqrt())
    rmse = float((forecast - truth).pow(2).mean().sqrt())
    checks = [Check(name="tendency_within_training_error",
                    passed=tendency_error < TENDENCY_TOLERANCE,
                    detail=f"relative tendency error {tendency_error:.3f} vs "
                           f"{TENDENCY_TOLERANCE} (larger: states outside the training data)")]
    return SkillResult(
        summary=f"l96_cnn forecast RMSE {rmse:.3f} at lead {steps * DT:g} MTU; tendency "
                f"error {tendency_error:.1%}",
        values={"forecast_rmse": rmse, "tendency_rel_error": tendency_error},
        units={"forecast_rmse": "state units", "tendency_rel_error": "1"}, checks=checks)
