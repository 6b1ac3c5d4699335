"""A learned subgrid closure for two-scale Lorenz-96, run online in the one-level model.

The truth's subgrid tendency of slow variable k is ``U_k = -(h c / b) sum_j Y_{j,k}``. A small
network ``g`` learns ``U_k`` from ``X_k`` (the same function at every k, as in Wilks 2005 and
Arnold et al. 2013); the one-level model ``dX/dt = L96(X; F) + g(X) (+ e)`` then runs on its
own. The stochastic closure adds ``e_k``, an AR(1) process per k fitted to the residuals
``U - g(X)`` at the sampling interval (Arnold et al. 2013).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import wasserstein_distance
from torch import Tensor, nn

from climcopilot.tools.emulators.limits import step_count
from climcopilot.tools.emulators.simulate import simulate_states
from climcopilot.tools.emulators.systems import Lorenz96, Lorenz96TwoScale, rk4


def subgrid_tendency(system: Lorenz96TwoScale, states: Tensor) -> tuple[Tensor, Tensor]:
    """Slow variables X and their subgrid tendency U, each (..., K), from full states."""
    slow = states[..., : system.K]
    fast_sum = states[..., system.K:].unflatten(-1, (system.K, system.J)).sum(-1)
    return slow, -(system.h * system.c / system.b) * fast_sum


class Closure(nn.Module):
    """``g(X_k)``: 1 -> width -> width -> 1 with tanh, on X normalised by the data's mean/std."""

    def __init__(self, mean: float, std: float, scale: float, width: int = 32) -> None:
        super().__init__()
        self.mean, self.std, self.scale = mean, std, scale
        self.body = nn.Sequential(nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width),
                                  nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x: Tensor) -> Tensor:
        z = ((x - self.mean) / self.std).unsqueeze(-1).float()
        return (self.body(z).squeeze(-1) * self.scale).to(x.dtype)


def fit_closure(x: Tensor, u: Tensor, iterations: int = 500, max_samples: int = 20_000,
                seed: int = 0) -> Closure:
    """Full-batch Adam on the mean squared error of ``g(x)`` against ``u`` (flattened; a random
    subset of ``max_samples`` pairs when there are more)."""
    torch.manual_seed(seed)
    x, u = x.reshape(-1), u.reshape(-1)
    if len(x) > max_samples:
        keep = torch.randperm(len(x))[:max_samples]
        x, u = x[keep], u[keep]
    closure = Closure(float(x.mean()), float(x.std()), float(u.std()))
    optimiser = torch.optim.Adam(closure.parameters(), lr=1e-2)
    target = (u / closure.scale).float()
    z = ((x - closure.mean) / closure.std).unsqueeze(-1).float()
    for _ in range(iterations):
        loss = nn.functional.mse_loss(closure.body(z).squeeze(-1), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return closure.eval()


def r_squared(prediction: Tensor, target: Tensor) -> float:
    """1 - SSE / SST over all elements."""
    return 1.0 - float(((prediction - target) ** 2).sum() / ((target - target.mean()) ** 2).sum())


def fit_ar1(residual: Tensor) -> tuple[float, float]:
    """Lag-1 autocorrelation phi and marginal std sigma of ``residual`` (members, time, K)."""
    r = residual - residual.mean()
    phi = float((r[:, 1:] * r[:, :-1]).mean() / (r**2).mean())
    return min(max(phi, 0.0), 0.999), float(r.std())


@dataclass
class OnlineRun:
    """Slow states of a one-level run (members, time, K) and when it blew up (MTU; inf: never)."""

    states: Tensor
    blow_up_time: float


@torch.no_grad()
def run_one_level(model: Lorenz96, closure: Closure | None, x0: Tensor, *, dt: float,
                  duration: float, every: int, noise: tuple[float, float, float] | None = None,
                  seed: int = 0) -> OnlineRun:
    """RK4 of ``dX/dt = L96(X) + g(X) + e`` from ``x0`` (members, K), sampled every ``every``
    steps. ``noise`` = (phi, sigma, tau): e is AR(1) with lag-``tau`` autocorrelation phi and
    std sigma, held constant within a step. ``closure`` None: no subgrid term."""
    gen = torch.Generator().manual_seed(seed)
    e = torch.zeros_like(x0)
    if noise is not None:
        phi_tau, sigma, tau = noise
        phi = phi_tau ** (dt / tau)
        e = sigma * torch.randn(x0.shape, generator=gen, dtype=x0.dtype)

    def tendency(x: Tensor) -> Tensor:
        extra = closure(x) if closure is not None else 0.0
        return model.tendency(x) + extra + e

    x, out = x0, [x0]
    for k in range(1, step_count(duration, dt, allow_large=True) + 1):  # bounded by run_hybrid
        x = rk4(tendency, x, dt)
        if noise is not None:
            z = torch.randn(x0.shape, generator=gen, dtype=x0.dtype)
            e = phi * e + sigma * math.sqrt(1.0 - phi**2) * z
        if k % every == 0:
            if not bool(torch.isfinite(x).all()) or float(x.abs().max()) > 1e3:
                return OnlineRun(torch.stack(out, 1), k * dt)
            out.append(x)
    return OnlineRun(torch.stack(out, 1), math.inf)


@dataclass
class ClimateComparison:
    """A one-level run's climate against the truth's (state units)."""

    mean_drift: float  # run mean - truth mean
    std_ratio: float  # run std / truth std
    pdf_distance: float  # Wasserstein-1 of the pooled X values
    blow_up_time: float  # MTU; inf when stable


def compare_climate(run: OnlineRun, truth: Tensor) -> ClimateComparison:
    """Climate statistics of ``run`` against truth slow states (members, time, K)."""
    values = run.states.reshape(-1).numpy()
    reference = truth.reshape(-1).numpy()
    return ClimateComparison(
        mean_drift=float(values.mean() - reference.mean()),
        std_ratio=float(values.std() / reference.std()),
        pdf_distance=float(wasserstein_distance(values, reference)),
        blow_up_time=run.blow_up_time)


@dataclass
class HybridOutcome:
    """Offline fit, and the climates of no closure, deterministic and stochastic closures."""

    closure: Closure
    offline_r2: float
    ar1_phi: float
    ar1_sigma: float
    truth_x: Tensor  # (members, time, K) test truth
    x_train: Tensor
    u_train: Tensor
    runs: dict[str, OnlineRun]
    climates: dict[str, ClimateComparison]


def train_test_truth(system: Lorenz96TwoScale, *, dt: float, sample_every: int,
                     train_duration: float, test_duration: float, members: int, seed: int,
                     allow_large: bool = False) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Slow variables and subgrid tendencies ``(x_train, u_train, x_test, u_test)``, each
    (members, time, K), of a training truth (``seed``) and an independent test truth
    (``seed + 1``), sampled every ``sample_every`` RK4 steps after the system's spin-up."""
    common = {"dt": dt, "spinup": system.default_spinup, "every": sample_every,
              "members": members, "allow_large": allow_large}
    x_train, u_train = subgrid_tendency(system, simulate_states(
        system, duration=train_duration, seed=seed, **common))
    x_test, u_test = subgrid_tendency(system, simulate_states(
        system, duration=test_duration, seed=seed + 1, **common))
    return x_train, u_train, x_test, u_test


def run_hybrid(system: Lorenz96TwoScale, *, dt: float, train_duration: float,
               online_duration: float, members: int, sample_every: int,
               seed: int, allow_large: bool = False) -> HybridOutcome:
    """Learn the closure on one truth run, score it offline and online on another.

    ToolError past the :mod:`.limits` unless ``allow_large``."""
    tau = dt * sample_every
    x_train, u_train, x_test, u_test = train_test_truth(
        system, dt=dt, sample_every=sample_every, train_duration=train_duration,
        test_duration=online_duration, members=members, seed=seed, allow_large=allow_large)
    closure = fit_closure(x_train, u_train, seed=seed)
    with torch.no_grad():
        offline_r2 = r_squared(closure(x_test), u_test)
        phi, sigma = fit_ar1(u_train - closure(x_train))
    model = Lorenz96(N=system.K, F=system.F)
    x0 = x_test[:, 0]
    common = {"dt": dt, "duration": online_duration, "every": sample_every, "seed": seed}
    runs = {"no_closure": run_one_level(model, None, x0, **common),
            "deterministic": run_one_level(model, closure, x0, **common),
            "stochastic": run_one_level(model, closure, x0, noise=(phi, sigma, tau), **common)}
    climates = {name: compare_climate(run, x_test) for name, run in runs.items()}
    return HybridOutcome(closure=closure, offline_r2=offline_r2, ar1_phi=phi, ar1_sigma=sigma,
                         truth_x=x_test, x_train=x_train, u_train=u_train, runs=runs,
                         climates=climates)


def value_histogram(values: Tensor, edges: np.ndarray) -> np.ndarray:
    """Probability density of the pooled ``values`` on ``edges``."""
    return np.histogram(values.reshape(-1).numpy(), bins=edges, density=True)[0]
