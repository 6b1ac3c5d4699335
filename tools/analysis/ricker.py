"""A system approaching a bifurcation: the Ricker map with Holling type II harvesting whose
maximum harvesting rate F is ramped, as ewstools' ``simulate_ricker`` (Bury et al. 2020).

The map is ``x_{t+1} = x_t exp(r (1 - x_t / k) + xi_t) - F_t x_t^2 / (x_t^2 + h^2)`` with
``xi_t ~ N(0, sigma^2)``; with r = 0.75, k = 10, h = 0.75 the upper equilibrium meets the
middle one in a fold at F = 2.364, so a ramp F: 0 -> 2.7 ends in a collapse.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field, model_validator
from scipy.optimize import minimize_scalar

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool


def fold_harvest(r: float, k: float, h: float) -> float | None:
    """The harvesting rate F at which the upper equilibrium of the noise-free map vanishes
    (a fold), or None when F only moves the equilibrium without a fold.

    Equilibria x > 0 satisfy F = G(x) = (exp(r (1 - x/k)) - 1)(x^2 + h^2) / x; the upper
    branch ends at the local maximum of G in (0, k).
    """
    x = np.linspace(k * 1e-4, k, 20_001)
    g = (np.expm1(r * (1 - x / k))) * (x**2 + h**2) / x
    peaks = np.flatnonzero((g[1:-1] > g[:-2]) & (g[1:-1] >= g[2:])) + 1
    if peaks.size == 0:
        return None
    i = peaks[-1]
    best = minimize_scalar(lambda v: -np.expm1(r * (1 - v / k)) * (v**2 + h**2) / v,
                           bounds=(x[i - 1], x[i + 1]), method="bounded",
                           options={"xatol": 1e-10})
    return float(-best.fun)


class RickerInput(BaseModel):
    handle: str = Field("ricker", description="name under which the series is stored")
    tmax: int = Field(500, ge=20, le=1_000_000, description="number of time steps kept "
                      "(generations)")
    tburn: int = Field(100, ge=0, le=100_000, description="burn-in steps discarded first, at "
                       "the initial F")
    F_start: float = Field(0.0, ge=0, description="maximum harvesting rate at the first step")
    F_end: float = Field(2.7, ge=0, description="maximum harvesting rate at the last step "
                         "(ramped linearly; the fold is at 2.364 for the default r, k, h)")
    r: float = Field(0.75, gt=0, le=5, description="intrinsic growth rate")
    k: float = Field(10.0, gt=0, description="carrying capacity (population units)")
    h: float = Field(0.75, gt=0, description="half-saturation constant of the harvesting")
    sigma: float = Field(0.02, ge=0, le=1, description="standard deviation of the "
                         "multiplicative noise xi_t")
    x0: float = Field(0.8, gt=0, description="initial population")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="numpy seed (np.random.seed) of the "
                      "noise; ewstools' tutorial uses 0")

    @model_validator(mode="after")
    def _ramp(self) -> RickerInput:
        if self.F_end < self.F_start:
            raise ValueError(f"F_end {self.F_end:g} is below F_start {self.F_start:g}; give "
                             "an increasing ramp of the harvesting rate")
        return self


class RickerResult(ToolResult):
    handle: str
    F_fold: float | None = Field(description="harvesting rate at the fold of the noise-free "
                                 "map (None: no fold)")
    t_fold: float | None = Field(description="step at which the ramp crosses F_fold (None: "
                                 "it does not)")


@tool("analysis.simulate_ricker", family="analysis")
def simulate_ricker(args: RickerInput, ctx: ToolContext) -> RickerResult:
    """Simulate the Ricker population map with harvesting ramped linearly from F_start to
    F_end (ewstools' simulate_ricker, seeded with np.random.seed(seed)): a system driven
    through a fold bifurcation, for early-warning signals (analysis.early_warning). Stores a
    series along time (steps) with the ramp as coordinate F, and reports the fold's F and the
    step at which the ramp crosses it."""
    from ewstools.models import simulate_ricker as ewstools_ricker

    saved = np.random.get_state()  # the kernel's global generator is left as it was
    try:
        np.random.seed(args.seed)
        series = ewstools_ricker(tmax=args.tmax, tburn=args.tburn, r=args.r, k=args.k,
                                 h=args.h, F=[args.F_start, args.F_end], sigma=args.sigma,
                                 x0=args.x0)
    finally:
        np.random.set_state(saved)
    x = series.to_numpy(float)
    if not np.all(np.isfinite(x)):
        raise ToolError("the Ricker map overflowed; lower r or sigma")
    ramp = np.linspace(args.F_start, args.F_end, args.tmax)
    ctx.store[args.handle] = xr.DataArray(
        x, dims="time", name=args.handle,
        coords={"time": ("time", np.arange(args.tmax), {"units": "steps",
                                                        "long_name": "generation"}),
                "F": ("time", ramp, {"units": "1", "long_name": "maximum harvesting rate"})},
        attrs={"units": "1", "long_name": "Ricker population (carrying capacity k = "
               f"{args.k:g})", "steps": [f"Ricker map, F ramped {args.F_start:g} to "
                                         f"{args.F_end:g}, seed {args.seed}"]})
    fold = fold_harvest(args.r, args.k, args.h)
    t_fold = None
    if fold is not None and args.F_start <= fold <= args.F_end and args.F_end > args.F_start:
        t_fold = (fold - args.F_start) / (args.F_end - args.F_start) * (args.tmax - 1)
    values = {"mean": float(x.mean()), "final": float(x[-1]), "n": float(x.size)}
    units = {"mean": "1", "final": "1", "n": "steps"}
    if fold is not None:
        values["F_fold"], units["F_fold"] = fold, "1"
    if t_fold is not None:
        values["t_fold"], units["t_fold"] = t_fold, "steps"
    where = (f"; the ramp crosses the fold F = {fold:.3f} at step {t_fold:.0f}" if t_fold
             is not None else f"; fold at F = {fold:.3f}, outside the ramp" if fold is not None
             else "; no fold for these r, k, h")
    return RickerResult(
        summary=f"Ricker map, {args.tmax} steps, F {args.F_start:g} -> {args.F_end:g}, "
                f"stored as {args.handle!r}; population {x[0]:.2f} -> {x[-1]:.2f}{where}",
        values=values, units=units, handles=[args.handle],
        checks=[Check(name="population non-negative", passed=bool(np.all(x >= 0)))],
        handle=args.handle, F_fold=fold, t_fold=t_fold)
