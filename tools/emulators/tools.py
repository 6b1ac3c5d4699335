"""The typed emulator tools: ``emulators.simulate``, ``lyapunov``, ``train``, ``evaluate`` and
``hybrid``.

torch is imported when a tool runs, not when the registry loads this module.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from matplotlib.figure import Figure  # drawn with Agg; pyplot's global state is left alone

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.emulators.inputs import (
    EvaluateInput,
    HybridInput,
    LyapunovInput,
    SimulateInput,
    SystemSpec,
    TrainInput,
)

if TYPE_CHECKING:
    from torch import Tensor

    from climcopilot.tools.emulators.evaluation import Forecaster, ForecastSkill
    from climcopilot.tools.emulators.hybrid import HybridOutcome
    from climcopilot.tools.emulators.lyapunov import LyapunovSpectrum
    from climcopilot.tools.emulators.systems import DynamicalSystem


def build_system(spec: SystemSpec) -> tuple[DynamicalSystem, float]:
    """The system named in ``spec`` and its RK4 step (MTU)."""
    from climcopilot.tools.emulators.catalog import get_system

    system = get_system(spec.system, **spec.system_params())
    return system, spec.dt if spec.dt is not None else system.default_dt


class SimulateResult(ToolResult):
    """Where the trajectory is (a Dataset handle) and its shape."""

    handle: str
    dims: dict[str, int]
    variables: list[str]


@tool("emulators.simulate", family="emulators")
def simulate(args: SimulateInput, ctx: ToolContext) -> SimulateResult:
    """Simulate a chaotic system: the ODEs lorenz63, lorenz96, lorenz96_two_scale (RK4) or the
    PDEs kuramoto_sivashinsky and 2-D kolmogorov flow (pseudo-spectral, ETDRK4): spin-up
    discarded, `members` independent trajectories of `duration` model time units (MTU). Leaves an
    xarray Dataset with CF-style attributes in the session under `handle` (dims member, time and
    site, x or y/x) and draws a Hovmoller diagram (ring systems, kuramoto_sivashinsky), a phase
    portrait (lorenz63) or a vorticity snapshot (kolmogorov). A blow-up (too large dt) is an
    error that says so."""
    from climcopilot.tools.emulators.pdes import KolmogorovFlow
    from climcopilot.tools.emulators.simulate import (
        plot_trajectory,
        simulate_states,
        states_to_dataset,
    )
    from climcopilot.tools.emulators.systems import cpu_threads, resolve_device

    system, dt = build_system(args)
    spinup = system.default_spinup if args.spinup is None else args.spinup
    every = args.every or system.default_every
    with cpu_threads(1):
        states = simulate_states(system, dt=dt, duration=args.duration, spinup=spinup,
                                 every=every, members=args.members, seed=args.seed,
                                 device=resolve_device(args.device),
                                 allow_large=args.allow_large)
    ds = states_to_dataset(system, states, dt=dt, every=every, spinup=spinup)
    ctx.store[args.handle] = ds
    figure = ctx.figure_path(f"emulators_simulate_{system.name}")
    plot_trajectory(ds, figure)
    values = {"mean": float(states.mean()), "std": float(states.std()),
              "variance": float(states.var()),
              "n_times": float(ds.sizes["time"]), "sampling_interval": dt * every}
    units = {"mean": "1", "std": "1", "variance": "1", "n_times": "samples",
             "sampling_interval": "MTU"}
    if system.name == "lorenz63":  # each variable's own statistics: "the long-run mean of z"
        for i, name in enumerate("xyz"):
            values[f"mean_{name}"] = float(states[..., i].mean())
            values[f"std_{name}"] = float(states[..., i].std())
            values[f"variance_{name}"] = float(states[..., i].var())
            units[f"mean_{name}"] = units[f"std_{name}"] = units[f"variance_{name}"] = "1"
    if isinstance(system, KolmogorovFlow):
        values.update(kinetic_energy=float(system.energy(states).mean()),
                      enstrophy=float(system.enstrophy(states).mean()),
                      laminar_kinetic_energy=system.laminar_speed**2 / 4)
        units.update(kinetic_energy="1 (mean of |u|^2 / 2)", enstrophy="1 (mean of omega^2 / 2)",
                     laminar_kinetic_energy="1 (U^2 / 4, U = F / (nu n^2 + drag))")
    finite = bool(states.isfinite().all())
    return SimulateResult(
        summary=f"{system.describe()}: {args.members} x {ds.sizes['time']} states every "
                f"{dt * every:g} MTU in {args.handle!r}; mean {values['mean']:.3f}, "
                f"std {values['std']:.3f}",
        values=values, units=units, handles=[args.handle], figures=[str(figure)],
        checks=[Check(name="finite", passed=finite, detail="all states finite")],
        handle=args.handle, dims=dict(ds.sizes), variables=list(ds.data_vars))


class LyapunovResult(ToolResult):
    """The spectrum (1/MTU, descending) and what follows from it."""

    exponents: list[float]
    leading: float
    kaplan_yorke_dim: float
    lyapunov_time: float
    exponent_sum: float
    divergence: float | None  # the Jacobian's trace; computed for a full spectrum only


def plot_spectrum(spectrum: LyapunovSpectrum, title: str, path: Path) -> None:
    """Exponent against index, with the zero line."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    k = len(spectrum.exponents)
    ax.plot(range(1, k + 1), spectrum.exponents.numpy(), marker="o", ms=3)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("exponent index (-)")
    ax.set_ylabel("Lyapunov exponent (1/MTU)")
    ax.set_title(f"{title}: leading {spectrum.leading:.3f}/MTU, "
                 f"D_KY {spectrum.kaplan_yorke_dim:.2f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


@tool("emulators.lyapunov", family="emulators")
def lyapunov(args: LyapunovInput, ctx: ToolContext) -> LyapunovResult:
    """Lyapunov exponents of a chaotic system (lorenz63, lorenz96, lorenz96_two_scale,
    kuramoto_sivashinsky, kolmogorov) by the QR (Benettin) method: the time step with its exact
    tangent linear model (analytic Jacobian), `members` trajectories batched, one batched QR per
    step, float64. Returns the exponents (1/MTU, descending), the leading one, the Kaplan-Yorke
    dimension, the Lyapunov time (1/leading, MTU) and the sum, checked (full spectrum) against
    the phase-space contraction rate (the trace of the Jacobian, constant for the ODEs).
    Published: lorenz96 N=40 F=8 leading ~1.67/MTU, D_KY ~27.1; lorenz63 ~0.906/MTU;
    kuramoto_sivashinsky L=22 leading ~0.043-0.048, D_KY ~5.2."""
    import torch

    from climcopilot.tools.emulators.lyapunov import lyapunov_spectrum
    from climcopilot.tools.emulators.systems import cpu_threads, resolve_device

    system, dt = build_system(args)
    duration = args.duration or system.default_averaging
    transient = system.default_spinup if args.transient is None else args.transient
    start = time.perf_counter()
    with cpu_threads(1):
        spectrum = lyapunov_spectrum(system, dt=dt, duration=duration, transient=transient,
                                     n_exponents=args.n_exponents, members=args.members,
                                     seed=args.seed, device=resolve_device(args.device),
                                     allow_large=args.allow_large)
        full = len(spectrum.exponents) == system.dim
        divergence = None
        if full:
            x = system.initial_state((1,), seed=args.seed, device="cpu")
            basis = torch.eye(system.dim, dtype=torch.float64)
            divergence = float(torch.diagonal(system.tendency_jvp(x.expand_as(basis),
                                                                  basis)).sum())
    wall_s = time.perf_counter() - start
    total = float(spectrum.exponents.sum())
    figure = ctx.figure_path(f"emulators_lyapunov_{system.name}")
    plot_spectrum(spectrum, system.describe(), figure)
    values = {"leading": spectrum.leading, "kaplan_yorke_dim": spectrum.kaplan_yorke_dim,
              "lyapunov_time": spectrum.lyapunov_time, "exponent_sum": total,
              "leading_std_error": spectrum.leading_std_error, "wall_s": wall_s}
    units = {"leading": "1/MTU", "kaplan_yorke_dim": "1", "lyapunov_time": "MTU",
             "exponent_sum": "1/MTU", "leading_std_error": "1/MTU", "wall_s": "s"}
    if spectrum.leading > 0:  # a small error grows as exp(leading t): doubles in ln 2 / leading
        values["doubling_time"] = math.log(2.0) / spectrum.leading
        units["doubling_time"] = "MTU"
    if not math.isfinite(values["leading_std_error"]):
        del values["leading_std_error"], units["leading_std_error"]
    checks = [Check(name="finite", passed=bool(spectrum.exponents.isfinite().all()),
                    detail="all exponents finite")]
    if divergence is not None:
        relative = abs(total - divergence) / abs(divergence) if divergence else abs(total)
        checks.append(Check(name="sum_matches_contraction", passed=relative < 0.01,
                            detail=f"sum {total:.4f} vs Jacobian trace {divergence:.4f} "
                                   f"(relative gap {relative:.1e}; want < 1%)"))
    else:
        checks.append(Check(name="kaplan_yorke_resolved",
                            passed=spectrum.kaplan_yorke_dim < len(spectrum.exponents),
                            detail="enough exponents for the Kaplan-Yorke dimension"))
    return LyapunovResult(
        summary=f"{system.describe()}: leading exponent {spectrum.leading:.3f}/MTU "
                f"(Lyapunov time {spectrum.lyapunov_time:.3f} MTU), Kaplan-Yorke dimension "
                f"{spectrum.kaplan_yorke_dim:.2f}, sum {total:.3f}/MTU over "
                f"{args.members} x {duration:g} MTU in {wall_s:.1f} s",
        values=values, units=units, figures=[str(figure)], checks=checks,
        exponents=spectrum.exponents.tolist(), leading=spectrum.leading,
        kaplan_yorke_dim=spectrum.kaplan_yorke_dim, lyapunov_time=spectrum.lyapunov_time,
        exponent_sum=total, divergence=divergence)


class TrainResult(ToolResult):
    """The trained emulator's handle, file and training history."""

    handle: str
    path: str
    config: dict[str, Any]
    train_loss: list[float]
    val_loss: list[float]


def training_data(args: TrainInput,
                  ctx: ToolContext) -> tuple[DynamicalSystem, float, float, Tensor]:
    """The system, its RK4 step (MTU), the sampling interval tau (MTU) and the training states
    (members, time, dim); ToolError past the training limit (checked before simulating)."""
    from climcopilot.tools.emulators.catalog import get_system
    from climcopilot.tools.emulators.limits import check_training
    from climcopilot.tools.emulators.simulate import (
        dataset_to_states,
        sample_count,
        simulate_states,
    )

    def check(pairs: int) -> None:
        check_training(epochs=args.epochs, pairs=pairs, rollout_steps=args.rollout_steps,
                       allow_large=args.allow_large)

    if args.dataset is None:
        system, dt = build_system(args)
        check(args.members * (sample_count(args.duration, dt, args.every,
                                           allow_large=args.allow_large) - 1))
        states = simulate_states(system, dt=dt, duration=args.duration, spinup=10.0,
                                 every=args.every, members=args.members, seed=args.seed,
                                 allow_large=args.allow_large)
        return system, dt, dt * args.every, states
    ds = ctx.get(args.dataset)
    if not hasattr(ds, "attrs") or "system_params" not in ds.attrs:
        raise ToolError(f"{args.dataset!r} is not a Dataset from emulators.simulate; "
                        "simulate one first or leave dataset empty")
    system = get_system(ds.attrs["system"], **json.loads(ds.attrs["system_params"]))
    states = dataset_to_states(ds)
    check(states.shape[0] * (states.shape[1] - 1))
    return system, float(ds.attrs["dt"]), float(ds.attrs["sampling_interval"]), states


@tool("emulators.train", family="emulators", long_running=True)
def train(args: TrainInput, ctx: ToolContext) -> TrainResult:
    """Train a neural emulator of a chaotic system on simulated data (a Dataset from
    emulators.simulate, or simulated here): kind 'cnn' (x(t + tau) = x(t) + net(x(t)), local
    convolutions on a periodic ring: lorenz96, kuramoto_sivashinsky; translation-equivariant),
    'mlp' (the same on the whole state, any system) or 'koopman' (autoencoder with linear latent
    dynamics: encoder -> K -> decoder; losses: reconstruction, latent prediction, state
    prediction). `rollout_steps` > 1 trains on the error of that many autoregressive steps.
    Normalised data, train/validation split in time, Adam with early stopping, one progress
    line per epoch. The emulator is left in the session under `handle` and saved with its config
    to models/<handle>.pt in the workspace. Score it with emulators.evaluate."""
    import dataclasses

    from climcopilot.tools.emulators.networks import count_parameters
    from climcopilot.tools.emulators.systems import cpu_threads
    from climcopilot.tools.emulators.training import save_emulator, train_emulator

    name = (args.system if args.dataset is None
            else getattr(ctx.get(args.dataset), "attrs", {}).get("system"))
    # name None: not a simulate Dataset, and training_data says so
    if args.kind == "cnn" and name not in (None, "lorenz96", "kuramoto_sivashinsky"):
        raise ToolError(f"kind 'cnn' needs a homogeneous periodic ring (lorenz96, "
                        f"kuramoto_sivashinsky), not {name}; use kind 'mlp' or 'koopman'")
    with cpu_threads(1):
        system, dt, tau, states = training_data(args, ctx)
        config = {"kind": args.kind, "width": args.width, "layers": args.layers,
                  "latent": args.latent, "tau": tau, "dt": dt, "system": system.name,
                  "system_params": dataclasses.asdict(system),
                  "system_description": system.describe()}
        emulator, log = train_emulator(
            states, config, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            patience=args.patience, val_fraction=args.val_fraction,
            rollout_steps=args.rollout_steps, seed=args.seed,
            progress=lambda line: print(f"[emulators.train] {line}", flush=True),
            time_limit_s=args.time_limit_s)
    path = ctx.workspace / "models" / f"{args.handle}.pt"
    save_emulator(emulator, path)
    ctx.store[args.handle] = emulator
    best = log.val_loss[log.best_epoch - 1]
    values = {"val_loss": best, "train_loss": log.train_loss[log.best_epoch - 1],
              "best_epoch": float(log.best_epoch), "epochs_run": float(len(log.val_loss)),
              "n_parameters": float(count_parameters(emulator)),
              "n_pairs": float(states.shape[0] * (states.shape[1] - 1)), "tau": tau,
              "wall_s": log.wall_s}
    loss_units = ("1 (MSE of the normalised increment)" if args.rollout_steps == 1
                  else f"1 (MSE over {args.rollout_steps} steps / increment variance)")
    units = {"val_loss": loss_units, "train_loss": loss_units, "best_epoch": "epochs",
             "epochs_run": "epochs", "n_parameters": "parameters", "n_pairs": "pairs",
             "tau": "MTU", "wall_s": "s"}
    checks = [Check(name="learned_the_increment", passed=best < 0.1,
                    detail=f"validation prediction MSE {best:.2e} in units of the increment "
                           "variance (1 = no better than predicting the mean increment; want "
                           "< 0.1)")]
    return TrainResult(
        summary=f"{args.kind} emulator of {system.describe()} (tau {tau:g} MTU, "
                f"{args.rollout_steps}-step loss, "
                f"{values['n_parameters']:.0f} parameters): validation MSE {best:.2e} at epoch "
                f"{log.best_epoch} of {len(log.val_loss)} in {log.wall_s:.0f} s; saved to {path}",
        values=values, units=units, handles=[args.handle], checks=checks, handle=args.handle,
        path=str(path), config=emulator.config, train_loss=log.train_loss,
        val_loss=log.val_loss)


class EvaluateResult(ToolResult):
    """Skill per lead of the emulator, persistence and climatology, and climate statistics."""

    leads: list[float]
    rmse: list[float]
    rmse_persistence: list[float]
    rmse_climatology: list[float]
    acc: list[float]


def plot_skill(skill: ForecastSkill, lyapunov_time: float, title: str, path: Path) -> None:
    """RMSE and ACC against lead time in Lyapunov times, with the references."""
    from climcopilot.tools.emulators.evaluation import VALID_THRESHOLD

    lead = (skill.leads / lyapunov_time).numpy()
    fig = Figure(figsize=(9, 4))
    ax_rmse, ax_acc = fig.subplots(1, 2)
    ax_rmse.plot(lead, skill.rmse.numpy(), label="emulator")
    ax_rmse.plot(lead, skill.rmse_persistence.numpy(), ls="--", label="persistence")
    ax_rmse.plot(lead, skill.rmse_climatology.numpy(), ls=":", label="climatology")
    ax_rmse.axhline(VALID_THRESHOLD * skill.clim_std, color="grey", lw=0.8,
                    label="0.5 x climatological std")
    ax_rmse.set_xlabel("lead time (Lyapunov times)")
    ax_rmse.set_ylabel("RMSE (state units)")
    ax_rmse.legend(fontsize=8)
    ax_acc.plot(lead, skill.acc.numpy(), label="emulator")
    ax_acc.plot(lead, skill.acc_persistence.numpy(), ls="--", label="persistence")
    ax_acc.set_xlabel("lead time (Lyapunov times)")
    ax_acc.set_ylabel("anomaly correlation (-)")
    ax_acc.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


class Scored(NamedTuple):
    """What emulators.evaluate scores: the forecaster, the true system, its RK4 step (MTU),
    the forecaster's name (summary, figure file) and the figure's title."""

    forecaster: Forecaster
    system: DynamicalSystem
    dt: float
    name: str
    title: str


def scored(args: EvaluateInput, ctx: ToolContext) -> Scored:
    """The emulator under ``args.model`` on its trained system, or ``args.forecast_model`` on
    ``args.system`` (stepped by the model's default dt; the truth's dt divides it)."""
    from climcopilot.tools.emulators.catalog import get_system
    from climcopilot.tools.emulators.evaluation import ModelForecaster
    from climcopilot.tools.emulators.models import describe_model, resolve_model
    from climcopilot.tools.emulators.training import Emulator

    if args.forecast_model is None:
        if args.model is None:
            raise ToolError("nothing to score: give model (an emulators.train handle) or "
                            "forecast_model (a built-in or plugin model's name)")
        if args.system is not None or args.forecast_params:
            raise ToolError("system and forecast_params go with forecast_model; an emulator is "
                            "scored on its trained system (change it with system_params)")
        emulator = ctx.get(args.model)
        if not isinstance(emulator, Emulator):
            raise ToolError(f"{args.model!r} is not an emulator; train one with emulators.train")
        config = emulator.config
        system = get_system(config["system"],
                            **{**config["system_params"], **args.system_params})
        return Scored(emulator, system, float(config["dt"]), args.model,
                      f"{config['kind']} emulator of {system.describe()}")
    if args.model is not None and "model" in args.model_fields_set:
        raise ToolError(f"give model {args.model!r} or forecast_model "
                        f"{args.forecast_model!r}, not both")
    model = resolve_model(args.forecast_model, **args.forecast_params)
    system = get_system(args.system or "lorenz96", **args.system_params)
    tau = model.default_dt
    return Scored(ModelForecaster(model), system,
                  tau / math.ceil(tau / system.default_dt - 1e-9), args.forecast_model,
                  f"{describe_model(model)} against {system.describe()}")


@tool("emulators.evaluate", family="emulators")
def evaluate(args: EvaluateInput, ctx: ToolContext) -> EvaluateResult:
    """Score an emulator against the true system on fresh initial states: a trained one
    (`model`, a handle from emulators.train) or any built-in or plugin model (`forecast_model`,
    e.g. a wrapped torch emulator, against `system`). RMSE and anomaly correlation against
    lead time, compared with persistence and climatology; the valid prediction time (first
    lead where RMSE / climatological std > 0.5) in MTU and in Lyapunov times (the leading
    exponent is computed here); and the free-running emulator's climate (mean, std,
    Wasserstein distance of the value distribution, time to blow-up) against the truth's."""
    from climcopilot.tools.emulators.evaluation import evaluate_skill
    from climcopilot.tools.emulators.limits import step_count
    from climcopilot.tools.emulators.lyapunov import lyapunov_spectrum
    from climcopilot.tools.emulators.systems import cpu_threads

    emulator, system, dt, name, title = scored(args, ctx)
    n_leads = max(1, step_count(args.lead_time, emulator.tau, what="lead_time",
                                allow_large=args.allow_large))
    with cpu_threads(1):
        emulator.check_shape(system.initial_state(device="cpu"))
        skill = evaluate_skill(emulator, system, dt, n_leads=n_leads, n_starts=args.n_starts,
                               climate_duration=args.climate_duration, seed=args.seed,
                               allow_large=args.allow_large)
        lyap = lyapunov_spectrum(system, dt=dt, duration=system.default_averaging / 8,
                                 transient=system.default_spinup, n_exponents=1,
                                 members=4, seed=args.seed, allow_large=args.allow_large)
    lt = lyap.lyapunov_time
    within = skill.leads <= lt + 1e-9
    beats_persistence = bool((skill.rmse[1:][within[1:]]
                              < skill.rmse_persistence[1:][within[1:]]).all())
    beats_climatology = bool((skill.rmse[1:][within[1:]]
                              < skill.rmse_climatology[1:][within[1:]]).all())
    at_lt = int(within.nonzero()[-1, 0])
    values = {"valid_time": skill.valid_time, "valid_time_lyapunov": skill.valid_time / lt,
              "lyapunov_time": lt, "rmse_at_1lt": float(skill.rmse[at_lt]),
              "rmse_persistence_at_1lt": float(skill.rmse_persistence[at_lt]),
              "rmse_climatology_at_1lt": float(skill.rmse_climatology[at_lt]),
              "acc_at_1lt": float(skill.acc[at_lt]), "clim_mean": skill.clim_mean,
              "clim_std": skill.clim_std, "free_run_mean": skill.free_run_mean,
              "free_run_std": skill.free_run_std, "pdf_distance": skill.pdf_distance}
    units = {"valid_time": "MTU", "valid_time_lyapunov": "Lyapunov times",
             "lyapunov_time": "MTU", "acc_at_1lt": "1", "pdf_distance": "state units "
             "(Wasserstein-1)", **{k: "state units" for k in values
                                   if k.startswith(("rmse", "clim", "free"))}}
    stable = math.isinf(skill.blow_up_time)
    if not stable:
        values["blow_up_time"] = skill.blow_up_time
        units["blow_up_time"] = "MTU"
    values = {k: v for k, v in values.items() if math.isfinite(v)}  # valid_time may be inf
    drift = abs(skill.free_run_mean - skill.clim_mean) / skill.clim_std
    checks = [
        Check(name="beats_persistence", passed=beats_persistence,
              detail=f"emulator RMSE below persistence at every lead up to 1 Lyapunov time "
                     f"({lt:.3f} MTU)"),
        Check(name="beats_climatology", passed=beats_climatology,
              detail="emulator RMSE below climatology at every lead up to 1 Lyapunov time"),
        Check(name="stable_free_run", passed=stable,
              detail="free run stayed finite" if stable
              else f"free run blew up after {skill.blow_up_time:.2f} MTU"),
        Check(name="climate_mean_drift", passed=stable and drift < 0.1,
              detail=f"|free-run mean - truth mean| = {drift:.3f} climatological std "
                     "(want < 0.1)"),
    ]
    figure = ctx.figure_path(f"emulators_skill_{name}")
    plot_skill(skill, lt, title, figure)
    valid = (f"{skill.valid_time:.2f} MTU = {skill.valid_time / lt:.2f} Lyapunov times"
             if math.isfinite(skill.valid_time) else f"beyond the {args.lead_time:g} MTU leads")
    return EvaluateResult(
        summary=f"{name} on {system.describe()}: valid prediction time {valid}; at 1 "
                f"Lyapunov time RMSE {values['rmse_at_1lt']:.3f} vs persistence "
                f"{values['rmse_persistence_at_1lt']:.3f} and climatology "
                f"{values['rmse_climatology_at_1lt']:.3f}; free-run mean "
                f"{skill.free_run_mean:.3f} vs {skill.clim_mean:.3f}, std "
                f"{skill.free_run_std:.3f} vs {skill.clim_std:.3f}",
        values=values, units=units, figures=[str(figure)], checks=checks,
        leads=skill.leads.tolist(), rmse=skill.rmse.tolist(),
        rmse_persistence=skill.rmse_persistence.tolist(),
        rmse_climatology=skill.rmse_climatology.tolist(), acc=skill.acc.tolist())


class HybridResult(ToolResult):
    """Offline skill of the closure and the online climates of the one-level runs."""

    climates: dict[str, dict[str, float | None]]  # blow_up_time None: stable


def plot_hybrid(outcome: HybridOutcome, title: str, path: Path) -> None:
    """Left: U against X with the learned closure; right: PDFs of X, truth vs the runs."""
    import numpy as np
    import torch

    from climcopilot.tools.emulators.hybrid import value_histogram

    fig = Figure(figsize=(10, 4))
    ax_fit, ax_pdf = fig.subplots(1, 2)
    x, u = outcome.x_train.reshape(-1), outcome.u_train.reshape(-1)
    shown = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:5000]
    ax_fit.scatter(x[shown], u[shown], s=1, alpha=0.3, color="grey", label="truth")
    grid = torch.linspace(float(x.min()), float(x.max()), 200, dtype=torch.float64)
    with torch.no_grad():
        ax_fit.plot(grid, outcome.closure(grid), color="tab:red",
                    label=f"learned g(X) (offline R2 {outcome.offline_r2:.2f})")
    ax_fit.set_xlabel("slow variable X_k (state units)")
    ax_fit.set_ylabel("subgrid tendency U_k (state units / MTU)")
    ax_fit.legend(fontsize=8)
    edges = np.linspace(float(outcome.truth_x.min()) - 2, float(outcome.truth_x.max()) + 2, 60)
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax_pdf.plot(centres, value_histogram(outcome.truth_x, edges), color="black", lw=2,
                label="two-scale truth")
    for name, run in outcome.runs.items():
        ax_pdf.plot(centres, value_histogram(run.states, edges), label=name.replace("_", " "))
    ax_pdf.set_xlabel("slow variable X_k (state units)")
    ax_pdf.set_ylabel("probability density (1 / state units)")
    ax_pdf.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


@tool("emulators.hybrid", family="emulators", long_running=True)
def hybrid(args: HybridInput, ctx: ToolContext) -> HybridResult:
    """Learn the subgrid tendency of the slow variables of two-scale Lorenz-96 (U_k = -(hc/b)
    sum_j Y_jk) as a small network g(X_k), then run the one-level Lorenz-96 with it online:
    deterministic (dX/dt = L96(X) + g(X)) and stochastic (+ an AR(1) noise fitted to the
    residuals; Arnold et al. 2013), and without any closure for reference. Returns the offline
    R^2 on an independent truth run, each run's stability (time to blow-up) and climate drift
    (mean difference, std ratio, Wasserstein distance of X against the truth), and a figure."""
    from climcopilot.tools.emulators.catalog import get_system
    from climcopilot.tools.emulators.hybrid import run_hybrid
    from climcopilot.tools.emulators.systems import cpu_threads

    system = get_system("lorenz96_two_scale", **args.system_params())
    with cpu_threads(1):
        outcome = run_hybrid(system, dt=args.dt, train_duration=args.train_duration,
                             online_duration=args.online_duration, members=args.members,
                             sample_every=args.sample_every, seed=args.seed,
                             allow_large=args.allow_large)
    figure = ctx.figure_path("emulators_hybrid")
    plot_hybrid(outcome, f"learned closure for {system.describe()}", figure)
    values = {"offline_r2": outcome.offline_r2, "ar1_phi": outcome.ar1_phi,
              "ar1_sigma": outcome.ar1_sigma}
    units = {"offline_r2": "1", "ar1_phi": f"1 (lag {args.dt * args.sample_every:g} MTU)",
             "ar1_sigma": "state units / MTU"}
    climates: dict[str, dict[str, float | None]] = {}
    for name, climate in outcome.climates.items():
        climates[name] = {"mean_drift": climate.mean_drift, "std_ratio": climate.std_ratio,
                          "pdf_distance": climate.pdf_distance,
                          "blow_up_time": (climate.blow_up_time
                                           if math.isfinite(climate.blow_up_time) else None)}
        values.update({f"{name}_mean_drift": climate.mean_drift,
                       f"{name}_std_ratio": climate.std_ratio,
                       f"{name}_pdf_distance": climate.pdf_distance})
        units.update({f"{name}_mean_drift": "state units", f"{name}_std_ratio": "1",
                      f"{name}_pdf_distance": "state units (Wasserstein-1)"})
        if math.isfinite(climate.blow_up_time):
            values[f"{name}_blow_up_time"] = climate.blow_up_time
            units[f"{name}_blow_up_time"] = "MTU"
    det, none = outcome.climates["deterministic"], outcome.climates["no_closure"]
    checks = [
        Check(name="offline_fit", passed=outcome.offline_r2 > 0.5,
              detail=f"offline R^2 {outcome.offline_r2:.3f} on an independent run (want > 0.5)"),
        *[Check(name=f"{name}_stable", passed=math.isinf(c.blow_up_time),
                detail="stable" if math.isinf(c.blow_up_time)
                else f"blew up after {c.blow_up_time:.2f} MTU")
          for name, c in outcome.climates.items() if name != "no_closure"],
        Check(name="closure_improves_climate", passed=det.pdf_distance < none.pdf_distance,
              detail=f"Wasserstein distance {det.pdf_distance:.3f} with the closure vs "
                     f"{none.pdf_distance:.3f} without"),
    ]
    stoch = outcome.climates["stochastic"]
    return HybridResult(
        summary=f"closure for {system.describe()}: offline R^2 {outcome.offline_r2:.3f}; "
                f"online over {args.online_duration:g} MTU x {args.members}: mean drift "
                f"{det.mean_drift:+.3f} (deterministic), {stoch.mean_drift:+.3f} (stochastic), "
                f"{none.mean_drift:+.3f} (no closure); Wasserstein {det.pdf_distance:.3f}, "
                f"{stoch.pdf_distance:.3f}, {none.pdf_distance:.3f}",
        values=values, units=units, figures=[str(figure)], checks=checks, climates=climates)
