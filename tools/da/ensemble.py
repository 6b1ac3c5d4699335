"""Ensemble Kalman filters: stochastic EnKF, ETKF, DEnKF and LETKF (after DAPPER's ``EnKF``).

Ensembles are tensors E of shape (N, dim). After each analysis the anomalies are multiplied by
``infl`` (multiplicative inflation of the anomalies, not of the variance) and, with ``rot``,
by a random mean-preserving orthogonal matrix (DAPPER's ``post_process``). The square-root
filters fold both into their ensemble transform, so their analysis is one (N, N) @ (N, dim)
product; random draws (rotations, perturbed observations) are made for many cycles at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.experiment import Trace, TwinSetup, mean_and_spread
from climcopilot.tools.da.forecast import traced
from climcopilot.tools.da.localization import gaspari_cohn, ring_distance
from climcopilot.tools.da.noise import NormalStream
from climcopilot.tools.emulators.models import describe_model, model_positions


def mean_preserving_rotations(gaussian: Tensor) -> Tensor:
    """Random orthogonal matrices Q (..., N, N) with Q @ 1 = 1 (Sakov & Bocquet's genOG_1),
    from standard-normal draws (..., N - 1, N - 1): Haar on the complement of 1."""
    n = gaussian.shape[-1] + 1
    q, r = torch.linalg.qr(gaussian)
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    basis = torch.eye(n, dtype=gaussian.dtype, device=gaussian.device)
    basis[:, 0] = 1.0
    complement = torch.linalg.qr(basis)[0][:, 1:]  # (N, N - 1), orthogonal to 1
    return complement @ q @ complement.T + 1.0 / n


def inflate(E: Tensor, infl: float) -> Tensor:
    """Mean + infl x anomalies of E (N, dim)."""
    mean = E.mean(0)
    return torch.add(mean, E - mean, alpha=infl)


@dataclass
class EnsembleFilter:
    """Forecast-analysis cycling shared by the ensemble filters; subclasses give ``analysis``."""

    N: int
    infl: float = 1.0
    rot: bool = False
    traces_cycle: ClassVar[bool] = True
    """Whether a whole cycle is traced to one graph (where the set-up allows); a method whose
    analysis loops many times traces its own inner step instead."""

    def __post_init__(self) -> None:
        if self.N < 2:
            raise ToolError(f"an ensemble needs N >= 2 members, got N={self.N}")
        if not self.infl > 0:
            raise ToolError(f"infl multiplies the anomalies and must be > 0, got {self.infl}")

    def draws(self, setup: TwinSetup, gen: torch.Generator) -> NormalStream | None:
        """The per-cycle random draws ``analysis`` takes (None: it takes none)."""
        if not self.rot:
            return None
        return NormalStream(gen, (self.N - 1, self.N - 1), setup.device,
                            mean_preserving_rotations)

    def analysis(self, E: Tensor, y: Tensor, setup: TwinSetup,
                 draw: Tensor | None = None) -> Tensor:
        """The inflated (and rotated) analysis ensemble (N, dim) given observations ``y``
        (n_obs,) and this cycle's draw from :meth:`draws`."""
        raise NotImplementedError

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        """Cycle over the observations ``yy`` (Ko, n_obs); returns the trace of means/spreads.

        One cycle (forecast, analysis, mean and spread) is one traced graph where the set-up
        allows (:func:`.forecast.traced`)."""
        trace = Trace(setup, ensemble=True)
        E = setup.start_ensemble(self.N, gen)
        draws = self.draws(setup, gen)
        forecast = setup.cycle(setup.model)
        scale = ((self.N - 1) * setup.system.dim) ** -0.5
        # the forecast is part of the traced cycle unless the C step makes it (one call)
        natively = forecast.runs_natively(E)
        in_graph = self.traces_cycle and not natively
        advance = forecast.native if natively else forecast

        def cycle(E: Tensor, y: Tensor, *draw: Tensor) -> tuple[Tensor, ...]:
            E = forecast.eager(E) if in_graph else E
            mean_f = E.mean(0)
            E = self.analysis(E, y, setup, *draw)
            return (E, mean_f, *mean_and_spread(E, scale))

        draw = () if draws is None else (draws.next(),)
        step = traced(cycle, (repr(self), setup.key, in_graph), (E, yy[0], *draw),
                      setup.traceable and self.traces_cycle)
        try:
            for ko in range(setup.Ko):
                E, mean_f, mean_a, spread_a = step(E if in_graph else advance(E), yy[ko],
                                                   *draw)
                trace.record(ko, mean_f, mean_a, spread_a)
                if not trace.finite_so_far(ko):
                    break
                draw = () if draws is None else (draws.next(),)
        except RuntimeError:  # in a traced graph a LinAlgError is a plain RuntimeError
            try:
                cycle(E if in_graph else advance(E), yy[ko], *draw)  # eagerly: what failed
            except torch.linalg.LinAlgError:  # factorising a blown-up ensemble
                return trace.finish()  # marks the cycle
            raise
        return trace.finish()


def _anomalies(E: Tensor, setup: TwinSetup) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Mean (dim,), anomalies A (N, dim), observed anomalies Y (N, n_obs) and the mean
    innovation's base, the observed mean (n_obs,)."""
    mean = E.mean(0)
    A = E - mean
    Eo = setup.obs(E)
    if Eo is E:  # every site observed: no copy
        return mean, A, A, mean
    obs_mean = Eo.mean(0)
    return mean, A, Eo - obs_mean, obs_mean


class StochasticEnKF(EnsembleFilter):
    """EnKF with perturbed observations (Burgers et al. 1998); perturbations are centred."""

    def draws(self, setup, gen):
        scale = setup.obs.obs_var**0.5
        return NormalStream(gen, (self.N, setup.obs.n_obs), setup.device,
                            lambda D: scale * (D - D.mean(-2, keepdim=True)))

    def analysis(self, E, y, setup, draw=None):
        _, A, Y, obs_mean = _anomalies(E, setup)
        innovations = (y - draw) - Y - obs_mean  # (N, n_obs): y - D - Eo
        return inflate(_kalman_update(E, A, Y, innovations, (self.N - 1) * setup.obs.obs_var),
                       self.infl)


class DEnKF(EnsembleFilter):
    """Deterministic EnKF (Sakov & Oke 2008): mean by the Kalman gain K, anomalies by K/2."""

    def analysis(self, E, y, setup, draw=None):
        _, A, Y, obs_mean = _anomalies(E, setup)
        innovations = torch.add(y - obs_mean, Y, alpha=-0.5)
        return inflate(_kalman_update(E, A, Y, innovations, (self.N - 1) * setup.obs.obs_var),
                       self.infl)


def _kalman_update(E: Tensor, A: Tensor, Y: Tensor, innovations: Tensor,
                   scaled_obs_var: float) -> Tensor:
    """E + innovations C^-1 Y^T A (N, dim), C = Y^T Y + (N - 1) R, R = obs_var I: the
    ensemble Kalman update of the members E with anomalies A, obs anomalies Y and innovations
    (N, n_obs), C solved by Cholesky; ``scaled_obs_var`` = (N - 1) obs_var. With every site
    observed Y is A, and Y^T A is Y^T Y."""
    YtA = Y.T @ A
    C = YtA.clone() if Y is A else Y.T @ Y
    C.diagonal().add_(scaled_obs_var)
    gain = torch.cholesky_solve(YtA, torch.linalg.cholesky(C))  # C^-1 Y^T A (n_obs, dim)
    return torch.addmm(E, innovations, gain)


def etkf_transform(Y: Tensor, dy: Tensor, N: int) -> tuple[Tensor, Tensor]:
    """Ensemble-space ETKF update for R = I: weights w (..., N) and symmetric T (..., N, N).

    ``Y`` (..., N, n_obs) are obs anomalies of the N members and ``dy`` (..., n_obs) the
    innovation, both already scaled by R^{-1/2}; batched over leading dimensions (LETKF: one
    batch entry per site). The analysis is mean + (w + T) @ A for forecast anomalies A.
    """
    C = Y @ Y.mT
    C.diagonal(dim1=-2, dim2=-1).add_(N - 1)
    eigval, eigvec = torch.linalg.eigh(C)
    T = (eigvec * (eigval.rsqrt() * math.sqrt(N - 1)).unsqueeze(-2)) @ eigvec.mT
    b = eigvec.mT @ (Y @ dy.unsqueeze(-1))  # (..., N, 1)
    w = (eigvec @ (b / eigval.unsqueeze(-1))).squeeze(-1)
    return w, T


def _transform(w: Tensor, T: Tensor, infl: float, rotation: Tensor | None) -> Tensor:
    """G (..., N, N) with rows w + infl x (rotation @ T): the analysis is mean + G @ A."""
    if rotation is None:
        return torch.add(w.unsqueeze(-2), T, alpha=infl)
    return torch.add(w.unsqueeze(-2), rotation @ T, alpha=infl)


class ETKF(EnsembleFilter):
    """Ensemble transform KF with the symmetric square root (Hunt et al. 2007)."""

    def analysis(self, E, y, setup, draw=None):
        mean, A, Y, obs_mean = _anomalies(E, setup)
        dy = y - obs_mean
        if setup.obs.obs_var != 1.0:
            scale = setup.obs.obs_var**-0.5
            Y, dy = Y * scale, dy * scale
        w, T = etkf_transform(Y, dy, self.N)
        return torch.addmm(mean, _transform(w, T, self.infl, draw), A)


@dataclass
class LETKF(EnsembleFilter):
    """Local ETKF (Hunt et al. 2007): one ETKF per state variable, all sites in one batch.

    Each variable uses the observations within the Gaspari-Cohn support of its ring distance
    (``loc_rad`` in grid units; zero beyond 2 x 1.82 x loc_rad), weighted by sqrt(taper) in Y
    and dy. Inflation and rotation act on the whole ensemble after the local analyses, as in
    DAPPER.
    """

    loc_rad: float = 4.0
    _local: tuple[TwinSetup, Tensor, Tensor] | None = field(default=None, init=False,
                                                           repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.loc_rad > 0:
            raise ToolError(f"loc_rad must be > 0 grid units, got {self.loc_rad}")

    def localisation(self, setup: TwinSetup) -> tuple[Tensor, Tensor]:
        """Local observations of each state variable: indices (dim, L) into the observations
        and sqrt(taper) / sqrt(obs_var) (dim, L), L the most any variable has (zero-weighted
        padding), from the forecast model's positions (its state is what is localised)."""
        if self._local is not None and self._local[0] is setup:
            return self._local[1], self._local[2]
        positions = model_positions(setup.model)
        if positions is None:
            raise ToolError(f"letkf needs a spatial model to localise, and the forecast model "
                            f"{describe_model(setup.model)} has no positions(); use etkf (or "
                            "give the model positions and ring_length)")
        if setup.obs.sites is None:
            raise ToolError("letkf needs observations of state sites (obs_sites) to "
                            "localise; use etkf with this obs operator")
        dist = ring_distance(positions, positions[setup.obs.sites],
                             getattr(setup.model, "ring_length", None))
        taper = gaspari_cohn(dist, self.loc_rad)  # (dim, n_obs)
        L = max(1, int((taper > 0).sum(-1).max()))
        weight, index = taper.topk(L, dim=-1)  # the L nearest (zero weights pad the rest)
        scale = (weight.sqrt() * setup.obs.obs_var**-0.5).to(setup.device)
        self._local = (setup, index.to(setup.device), scale)
        return self._local[1], self._local[2]

    def analysis(self, E, y, setup, draw=None):
        index, scale = self.localisation(setup)
        mean, A, Y, obs_mean = _anomalies(E, setup)
        local_Y = Y.T[index].mT * scale.unsqueeze(-2)  # (dim, N, L)
        local_dy = (y - obs_mean)[index] * scale  # (dim, L)
        w, T = etkf_transform(local_Y, local_dy, self.N)  # (dim, N), (dim, N, N)
        G = _transform(w, T, self.infl, draw)
        return mean + (G @ A.T.unsqueeze(-1)).squeeze(-1).T
