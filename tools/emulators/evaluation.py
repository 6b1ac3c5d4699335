"""Forecast skill of an emulator against the true system, persistence and climatology.

The emulator is a :class:`Forecaster`: a trained
:class:`~climcopilot.tools.emulators.training.Emulator`, or any
:class:`~climcopilot.tools.emulators.models.Model` (a built-in system, a plugin's torch
emulator) through :class:`ModelForecaster`.

Forecasts start from ``n_starts`` independent states on the attractor (fresh seeds, not the
training data). Errors are spatial RMS over all variables and starts; the anomaly correlation
(ACC) uses anomalies from the climatological mean of each variable; the climatological std is
the RMS of those anomalies; the valid prediction time is the first lead at which RMSE /
climatological std exceeds 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch
from scipy.stats import wasserstein_distance
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators.limits import check_work
from climcopilot.tools.emulators.models import Model, describe_model
from climcopilot.tools.emulators.simulate import simulate_states
from climcopilot.tools.emulators.systems import DynamicalSystem

VALID_THRESHOLD = 0.5  # normalised RMSE that ends the valid prediction time


class Forecaster(Protocol):
    """What :func:`evaluate_skill` scores: ``step`` advances states (..., dim) by ``tau`` MTU,
    ``rollout`` gives the states at 0, tau, ..., n_steps tau, (n_steps + 1, ..., dim), and
    ``check_shape`` raises a ToolError for states of another size. A trained
    :class:`~climcopilot.tools.emulators.training.Emulator` is one."""

    @property
    def tau(self) -> float: ...

    def check_shape(self, x: Tensor) -> None: ...

    def step(self, x: Tensor) -> Tensor: ...

    def rollout(self, x0: Tensor, n_steps: int) -> Tensor: ...


class ModelForecaster:
    """A :class:`~climcopilot.tools.emulators.models.Model` as a :class:`Forecaster`: one step
    of its ``default_dt`` (= tau, MTU) per lead."""

    def __init__(self, model: Model) -> None:
        self.model, self.tau = model, model.default_dt

    def check_shape(self, x: Tensor) -> None:
        """ToolError unless ``x`` is (..., dim) for the model."""
        if x.shape[-1] != self.model.dim:
            raise ToolError(f"forecast_model {describe_model(self.model)} has {self.model.dim} "
                            f"state variables but the true system's states have {x.shape[-1]}; "
                            "pick a model of the same size or change system_params")

    def step(self, x: Tensor) -> Tensor:
        """``x`` (..., dim) advanced by tau MTU."""
        return self.model.step(x, self.tau)

    @torch.no_grad()
    def rollout(self, x0: Tensor, n_steps: int) -> Tensor:
        """States at 0, tau, ..., n_steps tau from ``x0`` (..., dim): (n_steps + 1, ..., dim)."""
        self.check_shape(x0)
        out = [x0]
        for _ in range(n_steps):
            out.append(self.step(out[-1]))
        return torch.stack(out)


@dataclass
class ForecastSkill:
    """Scores per lead (index 0 = lead 0; leads in MTU) and the long-run climate comparison."""

    leads: Tensor  # (n_leads + 1,) MTU
    rmse: Tensor
    rmse_persistence: Tensor
    rmse_climatology: Tensor
    acc: Tensor
    acc_persistence: Tensor
    clim_mean: float  # over all variables (state units)
    clim_std: float  # RMS anomaly from each variable's mean (state units)
    valid_time: float  # MTU; inf when never exceeded within the leads
    free_run_mean: float  # the free-running emulator's, as clim_mean
    free_run_std: float  # the free-running emulator's, as clim_std
    pdf_distance: float  # Wasserstein-1 between the pooled value distributions (state units)
    blow_up_time: float  # MTU into the free run; inf when it stayed finite


def spatial_rmse(forecast: Tensor, truth: Tensor) -> Tensor:
    """RMS over starts and variables, per lead: (lead, start, dim) -> (lead,)."""
    return ((forecast - truth) ** 2).mean((1, 2)).sqrt()


def anomaly_correlation(forecast: Tensor, truth: Tensor, mean: Tensor | float) -> Tensor:
    """ACC per lead, averaged over starts: uncentred correlation of anomalies from ``mean``
    (a number or one per variable, (dim,))."""
    fa, ta = forecast - mean, truth - mean
    num = (fa * ta).sum(-1)
    den = (fa.pow(2).sum(-1) * ta.pow(2).sum(-1)).sqrt().clamp_min(1e-12)
    return (num / den).mean(-1)


def first_exceedance(values: Tensor, leads: Tensor, threshold: float) -> float:
    """The first lead at which ``values`` exceeds ``threshold`` (inf when never)."""
    above = torch.nonzero(values > threshold)
    return float(leads[above[0, 0]]) if len(above) else math.inf


def free_run(emulator: Forecaster, x0: Tensor, n_steps: int,
             limit: float) -> tuple[Tensor, float]:
    """Emulator states (time, members, dim) for ``n_steps`` from ``x0`` (members, dim), up to
    its first non-finite or runaway state (|x| > ``limit``, state units), and the time of that
    state (MTU; inf when none)."""
    states, x = [], x0
    with torch.no_grad():
        for k in range(1, n_steps + 1):
            x = emulator.step(x)
            if not bool(torch.isfinite(x).all()) or float(x.abs().max()) > limit:
                return torch.stack(states) if states else x0[None], k * emulator.tau
            states.append(x)
    return torch.stack(states), math.inf


def evaluate_skill(emulator: Forecaster, system: DynamicalSystem, dt: float, *, n_leads: int,
                   n_starts: int, climate_duration: float, seed: int,
                   allow_large: bool = False) -> ForecastSkill:
    """Skill of ``emulator`` on ``system`` (time step ``dt``) for leads 0..n_leads x tau; the
    states start after twice the system's default spin-up. The free run runs away at |x| >
    1e3 climatological std + |climatological mean|. ToolError past the :mod:`.limits` unless
    ``allow_large``."""
    every, spinup = round(emulator.tau / dt), 2 * system.default_spinup
    check_work(members=n_starts, steps=n_leads, values=system.dim,
               stored=n_starts * (n_leads + 1) * system.dim, allow_large=allow_large,
               hint="lower lead_time or n_starts")
    common = {"dt": dt, "spinup": spinup, "every": every, "allow_large": allow_large}
    truth = simulate_states(system, duration=n_leads * emulator.tau, members=n_starts,
                            seed=seed, **common)
    truth = truth[:, : n_leads + 1].transpose(0, 1)  # (lead, start, dim)
    emulator.check_shape(truth)
    climate = simulate_states(system, duration=climate_duration, members=8, seed=seed + 1,
                              **common)
    variable_mean = climate.mean((0, 1))  # (dim,)
    clim_std = float((climate - variable_mean).pow(2).mean().sqrt())
    leads = torch.arange(n_leads + 1, dtype=torch.float64) * emulator.tau
    forecast = emulator.rollout(truth[0], n_leads)
    persistence = truth[:1].expand_as(truth)
    climatology = variable_mean.expand_as(truth)
    rmse = spatial_rmse(forecast, truth)
    limit = 1e3 * clim_std + abs(float(climate.mean()))
    emulated, blow_up = free_run(emulator, climate[:, 0], climate.shape[1] - 1, limit)
    emulated_std = float((emulated - emulated.mean((0, 1))).pow(2).mean().sqrt())
    return ForecastSkill(
        leads=leads, rmse=rmse, rmse_persistence=spatial_rmse(persistence, truth),
        rmse_climatology=spatial_rmse(climatology, truth),
        acc=anomaly_correlation(forecast, truth, variable_mean),
        acc_persistence=anomaly_correlation(persistence, truth, variable_mean),
        clim_mean=float(climate.mean()), clim_std=clim_std,
        valid_time=first_exceedance(rmse / clim_std, leads, VALID_THRESHOLD),
        free_run_mean=float(emulated.mean()), free_run_std=emulated_std,
        pdf_distance=float(wasserstein_distance(emulated.reshape(-1).numpy(),
                                                climate.reshape(-1).numpy())),
        blow_up_time=blow_up)
