"""What a DA method is given (the twin set-up, the climatology) and what it returns (a trace)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor

from climcopilot.tools.da.operators import ObsOperator
from climcopilot.tools.emulators.systems import integrate
from climcopilot.tools.models import Model, describe_model


@dataclass(frozen=True)
class Climatology:
    """Mean (dim,), covariance (dim, dim) and attractor samples (n, dim) of a long free run."""

    mean: Tensor
    cov: Tensor
    samples: Tensor

    @property
    def std(self) -> float:
        """Climatological standard deviation, sqrt of the mean variance (state units)."""
        return math.sqrt(float(self.cov.diagonal().mean()))

    def to(self, device: torch.device) -> Climatology:
        return Climatology(self.mean.to(device), self.cov.to(device), self.samples.to(device))


_CLIMATOLOGIES: dict[tuple[str, float], Climatology] = {}


def _free_run(system: Model, dt: float) -> Climatology:
    n_traj, spin_up, span, spacing = 128, 5.0, 10.0, 0.2  # trajectories, MTU, MTU, MTU
    every = max(1, round(spacing / dt))
    gen = torch.Generator().manual_seed(20050101)
    x0 = system.base_state() + torch.randn(n_traj, system.dim, generator=gen, dtype=torch.float64)
    x0 = integrate(system, x0, dt, round(spin_up / dt), every=round(spin_up / dt))[-1]
    run = integrate(system, x0, dt, round(span / dt), every=every)[1:]  # (n_out, n_traj, dim)
    samples = run.transpose(0, 1).reshape(-1, system.dim)
    return Climatology(samples.mean(0), torch.cov(samples.T), samples)


def climatology(system: Model, dt: float) -> Climatology:
    """Climatology from 128 free runs of 10 MTU, sampled every 0.2 MTU after 5 MTU spin-up.

    Cached per system and dt; on the CPU.
    """
    key = (describe_model(system), dt)
    if key not in _CLIMATOLOGIES:
        _CLIMATOLOGIES[key] = _free_run(system, dt)
    return _CLIMATOLOGIES[key]


@dataclass
class TwinSetup:
    """A twin experiment: ``Ko`` observation cycles of ``dko`` steps of ``dt`` MTU each.

    The truth is simulated with ``system``; the methods forecast with ``model`` (the system
    itself in a perfect-model twin, another model of the same ``dim`` otherwise). Truth and
    every method start from ``x0_mean`` plus N(0, ``x0_var``) noise (DAPPER's X0); the
    climatology is the system's.
    """

    system: Model
    model: Model
    obs: ObsOperator
    dt: float
    dko: int
    Ko: int
    x0_mean: Tensor
    clim: Climatology
    x0_var: float = 0.001
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def forecast(self, x: Tensor) -> Tensor:
        """Propagate states (..., dim) over one observation cycle (dko steps of the model)."""
        for _ in range(self.dko):
            x = self.model.step(x, self.dt)
        return x

    def sample_x0(self, n: int, gen: torch.Generator) -> Tensor:
        """``n`` draws from the initial distribution, shape (n, dim), on the set-up's device."""
        noise = torch.randn(n, self.system.dim, generator=gen, dtype=torch.float64)
        return self.x0_mean + self.x0_var**0.5 * noise.to(self.device)


class DAMethod(Protocol):
    """What every DA method offers: one entry point cycling over all observations."""

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        """Estimate the truth from observations ``yy`` (Ko, n_obs); randomness from ``gen``."""
        ...


class Trace:
    """Per-cycle forecast and analysis means (Ko, dim) and spreads (Ko,); NaN after a blow-up."""

    def __init__(self, setup: TwinSetup) -> None:
        shape, dev = (setup.Ko, setup.system.dim), setup.device
        self.mean_f = torch.full(shape, math.nan, dtype=torch.float64, device=dev)
        self.mean_a = torch.full(shape, math.nan, dtype=torch.float64, device=dev)
        self.spread_f = torch.full((setup.Ko,), math.nan, dtype=torch.float64, device=dev)
        self.spread_a = torch.full((setup.Ko,), math.nan, dtype=torch.float64, device=dev)
        self.has_spread = False
        self.diverged_at: int | None = None

    def record(self, ko: int, mean_f: Tensor, mean_a: Tensor, spread_f: Tensor | None = None,
               spread_a: Tensor | None = None) -> bool:
        """Store cycle ``ko``; returns False (and remembers the cycle) if the analysis blew up."""
        self.mean_f[ko], self.mean_a[ko] = mean_f, mean_a
        if spread_a is not None:
            self.has_spread = True
            self.spread_f[ko], self.spread_a[ko] = spread_f, spread_a
        if not bool(torch.isfinite(mean_a).all()):
            self.diverged_at = ko
            return False
        return True


def ensemble_spread(E: Tensor) -> Tensor:
    """sqrt of the dimension-mean ensemble variance (ddof 1) of E (N, dim); DAPPER's spread."""
    return E.var(0).mean().sqrt()
