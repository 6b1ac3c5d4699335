"""A generative (stochastic) emulator of Lorenz-96: ensemble forecasts scored against the truth.

The emulator is a conditional Gaussian one-step model ``x(t + tau) | x(t) ~ N(m(x), s(x)^2)``
per site: the mean ``m`` is a deterministic ring-CNN emulator (:mod:`.training`), and the
log-std ``s`` a second ring-CNN fitted by Gaussian negative log-likelihood to the mean's
residuals on the held-out (validation) windows, so the noise is the mean's out-of-sample
one-step error. Ensembles are drawn by sampling the noise at every step.

Scoring, from ``starts`` states on the attractor (fresh seeds): the truth and each of the
``members`` start from the state plus independent N(0, ``perturbation``^2) noise per site, so
the truth is one more draw from the members' initial distribution; the deterministic emulator
starts from the unperturbed state. At one Lyapunov time: the spread-skill ratio
``sqrt((M + 1) / M) * spread / RMSE(ensemble mean)`` (1 for a reliable ensemble), the fair CRPS
and the deterministic emulator's mean absolute error. After ten: the spatial energy spectrum
``E_k = |sum_j x_j exp(-2 pi i k j / N)|^2 / N^2`` averaged over states, generative against true,
at the largest wavenumbers (the top quarter).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from pydantic import Field
from torch import Tensor, nn

from climcopilot.tools.base import Check, ToolContext, ToolResult, tool
from climcopilot.tools.emulators.inputs import WorkLimits
from climcopilot.tools.emulators.limits import check_training, check_work
from climcopilot.tools.emulators.networks import RingCNN
from climcopilot.tools.emulators.simulate import sample_count, simulate_states
from climcopilot.tools.emulators.systems import (
    DynamicalSystem,
    Lorenz96,
    cpu_threads,
    integrate,
    resolve_device,
)
from climcopilot.tools.emulators.training import Emulator, split_windows, train_emulator
from climcopilot.tools.viz.figures import save_figure

LEADING_EXPONENT = 1.67  # 1/MTU, Lorenz-96 N = 40, F = 8 (emulators.lyapunov reproduces it)


def fair_crps(ensemble: Tensor, truth: Tensor) -> Tensor:
    """Fair (unbiased) ensemble CRPS, ``mean_i |X_i - y| - sum_ij |X_i - X_j| / (2 M (M - 1))``:
    ``ensemble`` (M, ...), ``truth`` (...); returns (...) in the state's units. The pair sum is
    ``2 sum_i (2 i - M - 1) X_(i)`` over the sorted members (i = 1..M), O(M log M)."""
    m = ensemble.shape[0]
    skill = (ensemble - truth).abs().mean(0)
    weights = (2 * torch.arange(1, m + 1, device=ensemble.device) - m - 1).to(ensemble.dtype)
    ordered = ensemble.sort(0).values
    pairs = 2 * torch.tensordot(weights, ordered, dims=1)
    return skill - pairs / (2 * m * (m - 1))


def spread_skill_ratio(ensemble: Tensor, truth: Tensor) -> float:
    """``sqrt((M + 1) / M) * sqrt(mean ensemble variance) / RMSE(ensemble mean)`` over all
    entries: ``ensemble`` (M, ...), ``truth`` (...)."""
    m = ensemble.shape[0]
    spread = ensemble.var(0, unbiased=True).mean().sqrt()
    rmse = (ensemble.mean(0) - truth).pow(2).mean().sqrt()
    return float(math.sqrt((m + 1) / m) * spread / rmse)


def energy_spectrum(states: Tensor) -> Tensor:
    """``|FFT over the last axis|^2 / N^2`` averaged over the other axes: (N // 2 + 1,), so
    ``A sin(2 pi k j / N)`` (0 < k < N / 2) has ``E_k = A^2 / 4``."""
    n = states.shape[-1]
    power = torch.fft.rfft(states, dim=-1).abs().pow(2) / n**2
    return power.reshape(-1, power.shape[-1]).mean(0)


class GaussianEmulator(nn.Module):
    """The deterministic ``mean`` emulator plus a ring-CNN of the per-site log-std of its
    one-step error (in units of the mean's ``increment_std``)."""

    def __init__(self, mean: Emulator, width: int = 16, layers: int = 2) -> None:
        super().__init__()
        self.mean = mean.requires_grad_(False)
        self.log_std = RingCNN(channels=width, layers=layers)

    def moments(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(mean, std) of the next state given ``x`` (..., N), float32."""
        x = x.float()
        std = self.log_std(self.mean.normalise(x)).exp() * self.mean.increment_std
        return self.mean.step(x), std

    def nll(self, pairs: Tensor) -> Tensor:
        """Mean Gaussian negative log-likelihood of the next states of ``pairs`` (batch, 2, N),
        the std in units of ``increment_std`` (constants dropped)."""
        mean, std = self.moments(pairs[:, 0])
        scale = self.mean.increment_std
        z = (pairs[:, 1] - mean) / std
        return (0.5 * z.pow(2) + (std / scale).log()).mean()

    @torch.no_grad()
    def rollout(self, x0: Tensor, n_steps: int, generator: torch.Generator) -> Tensor:
        """Sampled states at 0, tau, ..., n_steps tau from ``x0`` (..., N): (n_steps + 1, ...,
        N), float32."""
        out = [x0.float()]
        for _ in range(n_steps):
            mean, std = self.moments(out[-1])
            noise = torch.randn(mean.shape, generator=generator, device=mean.device)
            out.append(mean + std * noise)
        return torch.stack(out)


def fit_noise(mean: Emulator, pairs: Tensor, *, iterations: int,
              seed: int) -> tuple[GaussianEmulator, list[float]]:
    """A :class:`GaussianEmulator` around ``mean``, its log-std fitted by full-batch Adam on
    ``pairs`` (n, 2, N); returns it and the loss per iteration."""
    torch.manual_seed(seed)
    model = GaussianEmulator(mean).to(pairs.device)
    optimiser = torch.optim.Adam(model.log_std.parameters(), lr=1e-2)
    losses = []
    for _ in range(iterations):
        loss = model.nll(pairs)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return model.eval(), losses


@dataclass(frozen=True)
class GenerativeOutcome:
    """Scores (see the module docstring), curves by lead and the spectra after ten Lyapunov
    times: ``leads`` (MTU), ``rmse``/``spread`` of the ensemble, ``deterministic_rmse``;
    spectra (N // 2 + 1,) of truth, generative and deterministic forecasts."""

    spread_skill: float
    crps: float
    deterministic_mae: float
    spectrum_ratio: float
    leads: np.ndarray
    rmse: np.ndarray
    spread: np.ndarray
    deterministic_rmse: np.ndarray
    spectra: dict[str, np.ndarray]
    noise_losses: list[float]
    training_s: float
    wall_s: float


def run_generative(system: DynamicalSystem, *, dt: float, duration: float, trajectories: int,
                   epochs: int, width: int, noise_iterations: int, members: int, starts: int,
                   perturbation: float, lead_lyapunov: float, spectrum_lyapunov: float,
                   seed: int, device: torch.device) -> GenerativeOutcome:
    """Train the mean and noise on ``trajectories`` x ``duration`` MTU (RK4 ``dt``), then score
    ``members``-member forecasts from ``starts`` perturbed states (see the module docstring)."""
    began = time.perf_counter()
    states = simulate_states(system, dt=dt, duration=duration, spinup=system.default_spinup,
                             members=trajectories, seed=seed, device=device)
    config = {"kind": "cnn", "width": width, "layers": 3, "tau": dt,
              "system_description": system.describe()}
    mean, _ = train_emulator(states, config, epochs=epochs, batch_size=128, lr=3e-3,
                             patience=5, val_fraction=0.2, seed=seed)
    mean = mean.to(device)
    _, held_out = split_windows(states.to(device), 0.2)
    generative, losses = fit_noise(mean, held_out.float(), iterations=noise_iterations,
                                   seed=seed)
    training_s = time.perf_counter() - began

    lead_steps = max(1, round(lead_lyapunov / (LEADING_EXPONENT * dt)))
    n_steps = max(lead_steps, round(spectrum_lyapunov / (LEADING_EXPONENT * dt)))
    generator = torch.Generator(device=device).manual_seed(seed + 1)
    centre = simulate_states(system, dt=dt, duration=0.0, spinup=system.default_spinup,
                             members=starts, seed=seed + 10_000, device=device)[:, 0].to(device)
    kicks = torch.randn((members + 1, *centre.shape), generator=generator, device=device,
                        dtype=centre.dtype) * perturbation
    truth = integrate(system, centre + kicks[0], dt, n_steps, every=1).float()
    ensemble = generative.rollout((centre + kicks[1:]).reshape(-1, system.dim), n_steps,
                                  generator).reshape(n_steps + 1, members, starts, system.dim)
    deterministic = mean.rollout(centre.float(), n_steps)
    errors = ensemble.mean(1) - truth
    spectra = {name: energy_spectrum(run[-1]).cpu().numpy()
               for name, run in (("true", truth), ("generative", ensemble),
                                 ("deterministic", deterministic))}
    small = slice(3 * len(spectra["true"]) // 4, None)
    return GenerativeOutcome(
        spread_skill=spread_skill_ratio(ensemble[lead_steps], truth[lead_steps]),
        crps=float(fair_crps(ensemble[lead_steps], truth[lead_steps]).mean()),
        deterministic_mae=float((deterministic[lead_steps] - truth[lead_steps]).abs().mean()),
        spectrum_ratio=float(spectra["generative"][small].mean() / spectra["true"][small].mean()),
        leads=np.arange(n_steps + 1) * dt,
        rmse=errors.pow(2).mean((1, 2)).sqrt().cpu().numpy(),
        spread=ensemble.var(1).mean((1, 2)).sqrt().cpu().numpy(),
        deterministic_rmse=(deterministic - truth).pow(2).mean((1, 2)).sqrt().cpu().numpy(),
        spectra=spectra, noise_losses=losses, training_s=training_s,
        wall_s=time.perf_counter() - began)


class GenerativeInput(WorkLimits):
    """Train a generative Lorenz-96 emulator and score its ensemble forecasts."""

    N: int = Field(40, ge=4, le=4096, description="sites on the Lorenz-96 ring")
    F: float = Field(8.0, description="forcing (the Lyapunov time assumes F = 8: 1/1.67 MTU)")
    dt: float = Field(0.05, gt=0, le=0.1, description="RK4 step and emulator step (MTU)")
    duration: float = Field(100.0, gt=0, le=100_000, description="training MTU per trajectory")
    trajectories: int = Field(4, ge=1, le=1024, description="independent training trajectories")
    epochs: int = Field(10, ge=1, le=1000, description="most epochs of the mean emulator")
    width: int = Field(32, ge=2, le=512, description="channels of the mean's ring CNN")
    noise_iterations: int = Field(200, ge=1, le=20_000, description="full-batch Adam "
                                  "iterations of the log-std network")
    members: int = Field(20, ge=2, le=1000, description="ensemble members per start")
    starts: int = Field(32, ge=1, le=10_000, description="forecast starts on the attractor")
    perturbation: float = Field(0.1, gt=0, le=10, description="std of the initial-condition "
                                "noise of the truth and of each member (state units)")
    lead_lyapunov: float = Field(1.0, gt=0, le=100, description="lead of the spread-skill "
                                 "ratio and CRPS, in Lyapunov times")
    spectrum_lyapunov: float = Field(10.0, gt=0, le=1000, description="lead of the energy "
                                     "spectrum, in Lyapunov times")
    seed: int = Field(0, ge=0, description="seed of data, networks, starts and noise")
    device: str = Field("auto", description="'auto' (GPU if present), 'cpu' or 'cuda'")


class GenerativeResult(ToolResult):
    """The three scores, the deterministic baseline's error and the times."""

    spread_skill_ratio: float
    crps: float
    deterministic_mae: float
    spectrum_ratio: float


@tool("emulators.generative_emulator", family="emulators", long_running=True)
def generative_emulator(args: GenerativeInput, ctx: ToolContext) -> GenerativeResult:
    """Train a generative (conditional Gaussian) Lorenz-96 emulator: a deterministic ring-CNN
    mean plus a ring-CNN of the per-site std of its held-out one-step error, sampled every step.
    Scores `members`-member forecasts from `starts` perturbed states against the true system
    (the truth is one more perturbed draw): spread-skill ratio and fair CRPS at
    `lead_lyapunov` Lyapunov times (1/1.67 MTU), beside the deterministic emulator's mean
    absolute error, and the energy spectrum after `spectrum_lyapunov` Lyapunov times against
    the true system's at the largest wavenumbers (top quarter)."""
    system = Lorenz96(N=args.N, F=args.F)
    pairs = args.trajectories * sample_count(args.duration, args.dt, 1,
                                             allow_large=args.allow_large)
    check_training(epochs=args.epochs + args.noise_iterations, pairs=pairs, rollout_steps=1,
                   allow_large=args.allow_large)
    n_steps = round(max(args.lead_lyapunov, args.spectrum_lyapunov) / (LEADING_EXPONENT * args.dt))
    check_work(members=(args.members + 2) * args.starts, steps=n_steps, values=args.N,
               stored=(args.members + 2) * args.starts * (n_steps + 1) * args.N,
               allow_large=args.allow_large, hint="lower members, starts or the leads")
    with cpu_threads(1):
        outcome = run_generative(
            system, dt=args.dt, duration=args.duration, trajectories=args.trajectories,
            epochs=args.epochs, width=args.width, noise_iterations=args.noise_iterations,
            members=args.members, starts=args.starts, perturbation=args.perturbation,
            lead_lyapunov=args.lead_lyapunov, spectrum_lyapunov=args.spectrum_lyapunov,
            seed=args.seed, device=resolve_device(args.device))
    figure = plot_generative(ctx, outcome, system.describe(), args)
    values = {"spread_skill_ratio": outcome.spread_skill, "crps": outcome.crps,
              "deterministic_mae": outcome.deterministic_mae,
              "spectrum_ratio_small_scales": outcome.spectrum_ratio,
              "training_s": outcome.training_s, "wall_s": outcome.wall_s}
    units = {"spread_skill_ratio": "1", "crps": "state units", "deterministic_mae":
             "state units", "spectrum_ratio_small_scales": "1", "training_s": "s",
             "wall_s": "s"}
    return GenerativeResult(
        summary=f"{system.describe()}, {args.members} members x {args.starts} starts: at "
                f"{args.lead_lyapunov:g} Lyapunov times spread-skill {outcome.spread_skill:.3f}, "
                f"CRPS {outcome.crps:.3f} vs deterministic MAE {outcome.deterministic_mae:.3f}; "
                f"small-scale energy after {args.spectrum_lyapunov:g} Lyapunov times "
                f"{outcome.spectrum_ratio:.2f} x the true system's; trained in "
                f"{outcome.training_s:.0f} s",
        values=values, units=units, figures=[figure],
        checks=[Check(name="spread-skill ratio in 0.7-1.3",
                      passed=0.7 <= outcome.spread_skill <= 1.3,
                      detail=f"{outcome.spread_skill:.3f}"),
                Check(name="CRPS below the deterministic emulator's mean absolute error",
                      passed=outcome.crps < outcome.deterministic_mae,
                      detail=f"{outcome.crps:.3f} vs {outcome.deterministic_mae:.3f}"),
                Check(name="small-scale energy within a factor 2 of the true system's",
                      passed=0.5 <= outcome.spectrum_ratio <= 2.0,
                      detail=f"ratio {outcome.spectrum_ratio:.2f}")],
        spread_skill_ratio=outcome.spread_skill, crps=outcome.crps,
        deterministic_mae=outcome.deterministic_mae, spectrum_ratio=outcome.spectrum_ratio)


def plot_generative(ctx: ToolContext, outcome: GenerativeOutcome, described: str,
                    args: GenerativeInput) -> str:
    """Left: ensemble RMSE and spread and the deterministic RMSE by lead; right: the energy
    spectra after ``spectrum_lyapunov`` Lyapunov times."""
    fig = Figure(figsize=(10, 4))
    ax_lead, ax_spec = fig.subplots(1, 2)
    lyapunov = outcome.leads * LEADING_EXPONENT
    ax_lead.plot(lyapunov, outcome.rmse, label="generative: RMSE of the ensemble mean")
    ax_lead.plot(lyapunov, outcome.spread, ls="--", label="generative: spread")
    ax_lead.plot(lyapunov, outcome.deterministic_rmse, label="deterministic: RMSE")
    ax_lead.axvline(args.lead_lyapunov, color="grey", lw=0.8)
    ax_lead.set_xlabel("lead (Lyapunov times, 1/1.67 MTU)")
    ax_lead.set_ylabel("error (state units)")
    ax_lead.legend(fontsize=8)
    ax_lead.set_title("ensemble forecasts from perturbed starts", fontsize=9)
    for name, spectrum in outcome.spectra.items():
        ax_spec.semilogy(np.arange(len(spectrum)), spectrum, label=name)
    ax_spec.set_xlabel("wavenumber k (1 / ring)")
    ax_spec.set_ylabel("energy |x_k|^2 / N^2 (state units^2)")
    ax_spec.legend(fontsize=8)
    ax_spec.set_title(f"spectra after {args.spectrum_lyapunov:g} Lyapunov times", fontsize=9)
    fig.suptitle(described, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path("emulators_generative"))
