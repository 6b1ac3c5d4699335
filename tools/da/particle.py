"""Bootstrap particle filter with systematic resampling and Gaussian jitter (regularisation)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.experiment import Trace, TwinSetup


def systematic_resample(weights: Tensor, gen: torch.Generator) -> Tensor:
    """Indices (N,) drawn by systematic resampling of normalised ``weights`` (N,)."""
    N = len(weights)
    u = (torch.rand(1, generator=gen, dtype=weights.dtype).to(weights.device)
         + torch.arange(N, dtype=weights.dtype, device=weights.device)) / N
    cdf = weights.cumsum(0)
    cdf[-1] = 1.0
    return torch.searchsorted(cdf, u)


def weighted_spread(X: Tensor, weights: Tensor) -> Tensor:
    """sqrt of the dimension-mean weighted variance of particles X (N, dim)."""
    mean = weights @ X
    return (weights @ (X - mean) ** 2).mean().sqrt()


@dataclass
class BootstrapPF:
    """Bootstrap PF: weights by the Gaussian likelihood; resample when N_eff < ``ess_ratio`` N.

    After resampling every particle is jittered by N(0, (reg x h)^2 P), P the weighted particle
    covariance and h = N^(-1/(dim+4)) the Silverman-type bandwidth (Musso et al. 2001).
    """

    N: int
    ess_ratio: float = 0.5
    reg: float = 1.0

    def __post_init__(self) -> None:
        if self.N < 2:
            raise ToolError(f"a particle filter needs N >= 2 particles, got N={self.N}")

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        trace = Trace(setup)
        X = setup.sample_x0(self.N, gen)
        uniform = torch.full((self.N,), -math.log(self.N), dtype=X.dtype, device=X.device)
        log_w = uniform
        bandwidth = self.reg * self.N ** (-1.0 / (setup.system.dim + 4))
        for ko in range(setup.Ko):
            X = setup.forecast(X)
            w = log_w.softmax(0)
            mean_f, spread_f = w @ X, weighted_spread(X, w)
            log_w = log_w - 0.5 * ((yy[ko] - setup.obs(X)) ** 2).sum(-1) / setup.obs.obs_var
            w = log_w.softmax(0)
            if not trace.record(ko, mean_f, w @ X, spread_f, weighted_spread(X, w)):
                break
            if 1.0 / (w @ w) < self.ess_ratio * self.N:
                anomalies = w.sqrt().unsqueeze(1) * (X - w @ X)  # (N, dim), P = A^T A
                X = X[systematic_resample(w, gen)]
                noise = torch.randn(self.N, self.N, generator=gen, dtype=X.dtype).to(X.device)
                X = X + bandwidth * noise @ anomalies
                log_w = uniform
            else:
                log_w = log_w - torch.logsumexp(log_w, 0)
        return trace
