"""What a DA method is given (the twin set-up, the climatology) and what it returns (a trace)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor

from climcopilot.tools.da.forecast import CycleForecast
from climcopilot.tools.da.operators import ObsOperator
from climcopilot.tools.emulators.models import Model, describe_model
from climcopilot.tools.emulators.systems import integrate


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
    every method start from ``x0_mean`` plus N(0, ``x0_var``) noise (DAPPER's X0), or, with
    ``cold_start``, the methods start from the climatology, knowing nothing of the truth; the
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
    cold_start: bool = False
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    _cycles: dict[int, CycleForecast] = field(default_factory=dict, repr=False)

    def cycle(self, model: Model) -> CycleForecast:
        """``model``'s forecast over one cycle (traced once per input shape, kept here)."""
        found = self._cycles.get(id(model))
        if found is None or found.model is not model:
            found = self._cycles[id(model)] = CycleForecast(model, self.dt, self.dko)
        return found

    def forecast(self, x: Tensor) -> Tensor:
        """Propagate states (..., dim) over one observation cycle (dko steps of the model)."""
        return self.cycle(self.model)(x)

    @property
    def traceable(self) -> bool:
        """Whether a method's whole cycle may be traced: a built-in forecast model observed at
        sites through a built-in operator (a plugin's obs callable may branch on the data)."""
        return self.cycle(self.model).traceable and self.obs.sites is not None

    @property
    def key(self) -> tuple:
        """What a traced cycle reads from the set-up: system (its climatology), model, time
        steps, observation operator, sites and variance, device."""
        sites = None if self.obs.sites is None else tuple(self.obs.sites.tolist())
        return (describe_model(self.system), describe_model(self.model), self.dt, self.dko,
                self.obs.name, sites, self.obs.obs_var, str(self.device))

    def sample_x0(self, n: int, gen: torch.Generator) -> Tensor:
        """``n`` draws from the initial distribution, shape (n, dim), on the set-up's device."""
        noise = torch.randn(n, self.system.dim, generator=gen, dtype=torch.float64)
        return self.x0_mean + self.x0_var**0.5 * noise.to(self.device)

    def start_ensemble(self, n: int, gen: torch.Generator) -> Tensor:
        """The methods' ``n`` initial members (n, dim): draws from the initial distribution, or
        with ``cold_start`` climatological states picked at random."""
        if not self.cold_start:
            return self.sample_x0(n, gen)
        picked = torch.randint(len(self.clim.samples), (n,), generator=gen)
        return self.clim.samples[picked.to(self.clim.samples.device)]

    @property
    def start_background(self) -> Tensor:
        """The variational methods' first background (dim,): ``x0_mean``, or with
        ``cold_start`` the climatological mean."""
        return self.clim.mean if self.cold_start else self.x0_mean


class DAMethod(Protocol):
    """What every DA method offers: one entry point cycling over all observations."""

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        """Estimate the truth from observations ``yy`` (Ko, n_obs); randomness from ``gen``."""
        ...


class Trace:
    """Per-cycle forecast and analysis means (Ko, dim) and, for ensembles, the spread after each
    analysis (Ko,): sqrt of the dimension-mean ensemble variance (DAPPER's spread); NaN from a
    blow-up on.

    Recording does not wait on the values: ``finite_so_far`` looks every ``CHECK_EVERY`` cycles
    (a blown-up filter stays non-finite) and ``finish`` finds the first non-finite analysis.
    """

    CHECK_EVERY = 25

    def __init__(self, setup: TwinSetup, ensemble: bool = False) -> None:
        shape, dev = (setup.Ko, setup.system.dim), setup.device
        self.mean_f = torch.full(shape, math.nan, dtype=torch.float64, device=dev)
        self.mean_a = torch.full(shape, math.nan, dtype=torch.float64, device=dev)
        self.spread_a = (torch.full((setup.Ko,), math.nan, dtype=torch.float64, device=dev)
                         if ensemble else None)
        self.diverged_at: int | None = None

    @property
    def has_spread(self) -> bool:
        return self.spread_a is not None

    def record(self, ko: int, mean_f: Tensor, mean_a: Tensor,
               spread_a: Tensor | None = None) -> None:
        """Store cycle ``ko``: forecast and analysis means (dim,), analysis spread (scalar)."""
        self.mean_f[ko], self.mean_a[ko] = mean_f, mean_a
        if spread_a is not None:
            self.spread_a[ko] = spread_a

    def finite_so_far(self, ko: int) -> bool:
        """False when cycle ``ko`` is a checkpoint and its analysis is not finite."""
        if (ko + 1) % self.CHECK_EVERY:
            return True
        return bool(torch.isfinite(self.mean_a[ko]).all())

    def finish(self) -> Trace:
        """Find the first cycle whose analysis is not finite (or was never made: the method
        stopped there) and blank everything after it."""
        bad = ~torch.isfinite(self.mean_a).all(-1)
        if bool(bad.any()):
            ko = int(bad.nonzero()[0, 0])
            self.diverged_at = ko
            for series in (self.mean_f, self.mean_a, self.spread_a):
                if series is not None:
                    series[ko + 1:] = math.nan
        return self


def mean_and_spread(E: Tensor, scale: float) -> tuple[Tensor, Tensor]:
    """Ensemble mean (dim,) of E (N, dim) and its spread: sqrt of the dimension-mean variance
    (ddof 1), the Frobenius norm of the anomalies times ``scale`` = ((N - 1) dim)^(-1/2) (a
    column-wise var is 4x slower; a Python ``scale`` keeps shape arithmetic out of traces)."""
    mean = E.mean(0)
    return mean, torch.linalg.vector_norm(E - mean).mul_(scale)
