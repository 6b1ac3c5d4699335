"""Ensemble Kalman filters: stochastic EnKF, ETKF, DEnKF and LETKF (after DAPPER's ``EnKF``).

Ensembles are tensors E of shape (N, dim). After each analysis the anomalies are multiplied by
``infl`` (multiplicative inflation of the anomalies, not of the variance) and, with ``rot``,
by a random mean-preserving orthogonal matrix (DAPPER's ``post_process``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.experiment import Trace, TwinSetup, ensemble_spread
from climcopilot.tools.da.localization import gaspari_cohn, ring_distance
from climcopilot.tools.da.operators import ObsOperator
from climcopilot.tools.models import describe_model, model_positions


def random_mean_preserving_rotation(N: int, gen: torch.Generator) -> Tensor:
    """A random orthogonal (N, N) matrix Q with Q @ 1 = 1 (Sakov & Bocquet's genOG_1)."""
    basis = torch.eye(N, dtype=torch.float64)
    basis[:, 0] = 1.0
    ones_first, _ = torch.linalg.qr(basis)  # first column is +-1/sqrt(N)
    q, r = torch.linalg.qr(torch.randn(N - 1, N - 1, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    block = torch.block_diag(torch.ones(1, 1, dtype=torch.float64), q)
    return ones_first @ block @ ones_first.T


def inflate_and_rotate(E: Tensor, infl: float, rot: bool, gen: torch.Generator) -> Tensor:
    """Mean + infl x (rotated) anomalies of E (N, dim)."""
    mean = E.mean(0)
    anomalies = infl * (E - mean)
    if rot:
        anomalies = random_mean_preserving_rotation(len(E), gen).to(E.device) @ anomalies
    return mean + anomalies


@dataclass
class EnsembleFilter:
    """Forecast-analysis cycling shared by the ensemble filters; subclasses give ``analysis``."""

    N: int
    infl: float = 1.0
    rot: bool = False

    def __post_init__(self) -> None:
        if self.N < 2:
            raise ToolError(f"an ensemble needs N >= 2 members, got N={self.N}")
        if not self.infl > 0:
            raise ToolError(f"infl multiplies the anomalies and must be > 0, got {self.infl}")

    def analysis(self, E: Tensor, y: Tensor, setup: TwinSetup, gen: torch.Generator) -> Tensor:
        """Updated ensemble (N, dim) given observations ``y`` (n_obs,)."""
        raise NotImplementedError

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        """Cycle over the observations ``yy`` (Ko, n_obs); returns the trace of means/spreads."""
        trace = Trace(setup)
        E = setup.sample_x0(self.N, gen)
        for ko in range(setup.Ko):
            E = setup.forecast(E)
            mean_f, spread_f = E.mean(0), ensemble_spread(E)
            if bool(torch.isfinite(mean_f).all()):  # else record the blow-up and stop
                E = inflate_and_rotate(self.analysis(E, yy[ko], setup, gen), self.infl,
                                       self.rot, gen)
            if not trace.record(ko, mean_f, E.mean(0), spread_f, ensemble_spread(E)):
                break
        return trace


def _anomalies(E: Tensor, obs: ObsOperator) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Mean (dim,), anomalies A (N, dim), observed ensemble Eo (N, n_obs), its anomalies Y."""
    mean = E.mean(0)
    Eo = obs(E)
    return mean, E - mean, Eo, Eo - Eo.mean(0)


def _gain_space(Y: Tensor, obs_var: float) -> Tensor:
    """C = Y^T Y + (N - 1) R, the (n_obs, n_obs) matrix the Kalman gain inverts."""
    eye = torch.eye(Y.shape[1], dtype=Y.dtype, device=Y.device)
    return Y.T @ Y + (len(Y) - 1) * obs_var * eye


class StochasticEnKF(EnsembleFilter):
    """EnKF with perturbed observations (Burgers et al. 1998); perturbations are centred."""

    def analysis(self, E, y, setup, gen):
        _, A, Eo, Y = _anomalies(E, setup.obs)
        D = torch.randn(Eo.shape, generator=gen, dtype=E.dtype).to(E.device)
        D = setup.obs.obs_var**0.5 * (D - D.mean(0))
        innovations = y - D - Eo  # (N, n_obs)
        weights = torch.linalg.solve(_gain_space(Y, setup.obs.obs_var), innovations.T).T
        return E + weights @ Y.T @ A


class DEnKF(EnsembleFilter):
    """Deterministic EnKF (Sakov & Oke 2008): mean by the Kalman gain K, anomalies by K/2."""

    def analysis(self, E, y, setup, gen):
        _, A, Eo, Y = _anomalies(E, setup.obs)
        innovations = (y - Eo.mean(0)) - 0.5 * Y
        weights = torch.linalg.solve(_gain_space(Y, setup.obs.obs_var), innovations.T).T
        return E + weights @ Y.T @ A


def _etkf_transform(Y: Tensor, dy: Tensor) -> tuple[Tensor, Tensor]:
    """Ensemble-space ETKF update for R = I: weights w (..., N) and symmetric T (..., N, N).

    ``Y`` (..., N, n_obs) are obs anomalies and ``dy`` (..., n_obs) the innovation, both already
    scaled by R^{-1/2}; batched over leading dimensions (LETKF: one batch entry per site).
    """
    N = Y.shape[-2]
    eye = torch.eye(N, dtype=Y.dtype, device=Y.device)
    eigval, eigvec = torch.linalg.eigh(Y @ Y.transpose(-1, -2) + (N - 1) * eye)
    T = (eigvec * eigval.rsqrt().unsqueeze(-2)) @ eigvec.transpose(-1, -2) * (N - 1) ** 0.5
    Pw = (eigvec / eigval.unsqueeze(-2)) @ eigvec.transpose(-1, -2)
    w = ((Y @ dy.unsqueeze(-1)).transpose(-1, -2) @ Pw).squeeze(-2)
    return w, T


class ETKF(EnsembleFilter):
    """Ensemble transform KF with the symmetric square root (Hunt et al. 2007)."""

    def analysis(self, E, y, setup, gen):
        mean, A, Eo, Y = _anomalies(E, setup.obs)
        scale = setup.obs.obs_var**-0.5
        w, T = _etkf_transform(Y * scale, (y - Eo.mean(0)) * scale)
        return mean + (w + T) @ A


@dataclass
class LETKF(EnsembleFilter):
    """Local ETKF (Hunt et al. 2007): one ETKF per state variable, all sites in one batch.

    Observations are tapered by Gaspari-Cohn of their ring distance to the variable (``loc_rad``
    in grid units; zero beyond 2 x 1.82 x loc_rad), applied as sqrt(taper) to Y and dy.
    """

    loc_rad: float = 4.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.loc_rad > 0:
            raise ToolError(f"loc_rad must be > 0 grid units, got {self.loc_rad}")

    def taper(self, setup: TwinSetup) -> Tensor:
        """sqrt of the Gaspari-Cohn taper between each state variable and obs, (dim, n_obs),
        from the forecast model's positions (its state is what is localised)."""
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
        return gaspari_cohn(dist, self.loc_rad).sqrt().to(setup.device)

    def analysis(self, E, y, setup, gen):
        mean, A, Eo, Y = _anomalies(E, setup.obs)
        scale = setup.obs.obs_var**-0.5 * self.taper(setup)  # (dim, n_obs)
        local_Y = Y.unsqueeze(0) * scale.unsqueeze(1)  # (dim, N, n_obs)
        local_dy = (y - Eo.mean(0)) * scale  # (dim, n_obs)
        w, T = _etkf_transform(local_Y, local_dy)  # (dim, N), (dim, N, N)
        mean_increment = (w * A.T).sum(-1)  # (dim,)
        return mean + mean_increment + torch.einsum("inm,mi->ni", T, A)
