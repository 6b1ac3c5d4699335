"""The twin experiment: simulate a truth and its observations, run one DA method, score it."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.ensemble import ETKF, LETKF, DEnKF, StochasticEnKF
from climcopilot.tools.da.experiment import DAMethod, Trace, TwinSetup, climatology
from climcopilot.tools.da.inputs import (
    INFLATED_METHODS,
    ROTATED_METHODS,
    ExperimentInput,
    TwinInput,
)
from climcopilot.tools.da.learned_prior import LearnedPriorEnSF
from climcopilot.tools.da.limits import check_work
from climcopilot.tools.da.operators import build_obs
from climcopilot.tools.da.particle import BootstrapPF
from climcopilot.tools.da.score_filter import EnSF
from climcopilot.tools.da.variational import OptimalInterpolation, Var3D, Var4D
from climcopilot.tools.emulators.models import Model, describe_model, resolve_model
from climcopilot.tools.emulators.systems import cpu_threads, resolve_device

BURN_IN_MTU = 20.0  # DAPPER's BurnIn for the Sakov & Oke (2008) set-up (2 x Tplot)


def build_method(args: TwinInput) -> DAMethod:
    """The DA method object named by ``args.method``, with its parameters."""
    ensemble = {"N": args.N, "infl": args.infl, "rot": args.rot}
    if args.rot and args.method not in ROTATED_METHODS:
        raise ToolError(f"rot applies to etkf/letkf; {args.method} needs rot=false")
    if args.infl != 1.0 and args.method not in INFLATED_METHODS:
        raise ToolError(f"infl applies to the ensemble Kalman filters; {args.method} needs "
                        "infl=1")
    if (args.pf_reg, args.pf_ess) != (None, None) and args.method != "pf":
        raise ToolError(f"pf_reg and pf_ess apply to the particle filter; {args.method} needs "
                        "them left out")
    match args.method:
        case "oi":
            return OptimalInterpolation()
        case "3dvar":
            return Var3D(xB=args.xB)
        case "4dvar":
            return Var4D(xB=args.xB, lag=args.lag)
        case "enkf":
            return StochasticEnKF(**ensemble)
        case "etkf":
            return ETKF(**ensemble)
        case "denkf":
            return DEnKF(**ensemble)
        case "letkf":
            return LETKF(**ensemble, loc_rad=args.loc_rad)
        case "pf":
            return BootstrapPF(N=args.N, ess_ratio=args.pf_ess, reg=args.pf_reg)
        case "ensf":
            return EnSF(N=args.N, infl=args.infl, sde_steps=args.sde_steps, eps_a=args.eps_a,
                        eps_b=args.eps_b)
        case "ensf_learned":
            return LearnedPriorEnSF(N=args.N, infl=args.infl, sde_steps=args.sde_steps,
                                    eps_a=args.eps_a, eps_b=args.eps_b,
                                    prior_weight=args.prior_weight, train_steps=args.train_steps)
        case _:
            raise ToolError(f"unknown method {args.method!r}")


def forecast_model(args: ExperimentInput, system: Model) -> Model:
    """The model the methods forecast with: ``args.forecast_model`` (same dim as the system),
    else the system itself."""
    if args.forecast_model is None:
        if args.forecast_params:
            raise ToolError("forecast_params given without forecast_model; name the model "
                            "they are for, or drop them")
        return system
    model = resolve_model(args.forecast_model, **args.forecast_params)
    if model.dim != system.dim:
        raise ToolError(f"forecast_model {describe_model(model)} has {model.dim} state "
                        f"variables but the system {describe_model(system)} has {system.dim}; "
                        "pick a model of the same size or change system_params")
    return model


def build_setup(args: TwinInput) -> TwinSetup:
    """System, forecast model, obs operator, climatology and initial state for ``args``."""
    system = resolve_model(args.system, **args.system_params)
    model = forecast_model(args, system)
    dt = args.dt or system.default_dt
    device = resolve_device(args.device)
    obs = build_obs(system.dim, args.obs_sites, args.obs_var, args.obs_operator)
    clim = climatology(system, dt)
    x0_mean = clim.samples[args.seed % len(clim.samples)].to(device)
    return TwinSetup(system=system, model=model, obs=obs, dt=dt, dko=args.dko, Ko=args.Ko,
                     x0_mean=x0_mean, clim=clim.to(device), cold_start=args.cold_start,
                     device=device)


SKILL_FRACTION = 0.9
"""A run has skill, and has not diverged, when its analysis error is below this fraction of
the climatological std: the climatological mean, an estimate without skill, scores 1.0, and a
filter that lost the truth scores 1.0 to 1.4 (N = 10 ETKF on Lorenz-96: 0.99 to 1.21)."""


@dataclass
class TwinOutcome:
    """Scores of one run: per-cycle RMS errors and spreads (Ko,), time means after burn-in;
    the assimilation's wall and CPU time (s; CPU time is what a shared machine leaves alone)
    and the wall time of simulating truth and observations (s)."""

    setup: TwinSetup
    trace: Trace
    err_f: Tensor
    err_a: Tensor
    first_scored: int
    wall_s: float
    cpu_s: float
    truth_s: float

    def time_mean(self, series: Tensor) -> float:
        return float(series[self.first_scored:].mean())

    @property
    def rmse_a(self) -> float:
        return self.time_mean(self.err_a)

    @property
    def rmse_f(self) -> float:
        return self.time_mean(self.err_f)

    @property
    def described(self) -> str:
        """The system, the forecast model when it is another one, and the observations when
        they are not direct."""
        system, model, obs = self.setup.system, self.setup.model, self.setup.obs
        label = describe_model(system)
        if model is not system:
            label = f"{label} forecast by {describe_model(model)}"
        return label if obs.name == "identity" else f"{label} with {obs.name} observations"

    @property
    def spread_a(self) -> float | None:
        return self.time_mean(self.trace.spread_a) if self.trace.has_spread else None

    @property
    def diverged(self) -> bool:
        """Blew up, or no skill: rmse_a not below :data:`SKILL_FRACTION` x the climatological
        std."""
        return self.trace.diverged_at is not None or not (
            self.rmse_a < SKILL_FRACTION * self.setup.clim.std)


def simulate_truth(setup: TwinSetup, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Truth at the observation times (Ko, dim) and noisy observations of it (Ko, n_obs).

    The system's cycle forecast (a traced graph for the built-in systems) is stepped Ko times;
    a blow-up is a ToolError naming the first non-finite cycle.
    """
    x = setup.sample_x0(1, gen)[0]
    cycle = setup.cycle(setup.system)
    truth = torch.empty((setup.Ko, setup.system.dim), dtype=x.dtype, device=x.device)
    for ko in range(setup.Ko):
        x = truth[ko] = cycle(x)
    bad = ~torch.isfinite(truth).all(-1)
    if bool(bad.any()):
        ko = int(bad.nonzero()[0, 0])
        raise ToolError(f"{describe_model(setup.system)} blew up (non-finite state) by cycle "
                        f"{ko} (t={(ko + 1) * setup.dko * setup.dt:g} MTU); reduce dt="
                        f"{setup.dt:g}")
    return truth, setup.obs.sample(truth, gen)


def first_scored_cycle(args: ExperimentInput, cycle_mtu: float) -> int:
    """Index of the first cycle in the time means (cycles before it are burn-in)."""
    if args.burn_in is None:
        return min(math.ceil(BURN_IN_MTU / cycle_mtu), args.Ko // 2)
    first = math.ceil(args.burn_in / cycle_mtu)
    if first >= args.Ko:
        raise ToolError(f"burn_in {args.burn_in} MTU leaves no cycle to score (the run lasts "
                        f"Ko x dko x dt = {args.Ko * cycle_mtu:g} MTU); shorten it")
    return first


def rms_error(estimate: Tensor, truth: Tensor) -> Tensor:
    """Spatial RMS error per cycle, (Ko,) on the CPU."""
    return ((estimate - truth) ** 2).mean(-1).sqrt().cpu()


def run_twin(args: TwinInput) -> TwinOutcome:
    """Run the twin experiment described by ``args`` (one CPU thread; GPU if asked).

    Its work is bounded first (:func:`.limits.check_work`). Truth and assimilation run under
    ``torch.inference_mode`` (less overhead per operation), except 4D-Var, which needs autograd.
    """
    with torch.no_grad(), cpu_threads(1):
        setup = build_setup(args)
        check_work(args, setup.system.dim)
        method = build_method(args)
        first_scored = first_scored_cycle(args, setup.dt * setup.dko)
        gen = torch.Generator().manual_seed(args.seed)
        with contextlib.nullcontext() if args.method == "4dvar" else torch.inference_mode():
            start = time.perf_counter()
            truth, yy = simulate_truth(setup, gen)
            truth_s = time.perf_counter() - start
            start, start_cpu = time.perf_counter(), time.process_time()
            trace = method.assimilate(setup, yy, gen)
            wall_s, cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
    return TwinOutcome(setup, trace, rms_error(trace.mean_f, truth),
                       rms_error(trace.mean_a, truth), first_scored, wall_s, cpu_s, truth_s)
