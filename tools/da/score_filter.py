"""EnSF, the training-free ensemble score filter (Bao, Zhang & Zhang, CMAME 432, 117447, 2024).

The analysis draws the posterior ensemble by integrating a reverse-time SDE from t = 1 (noise)
to t = 0, with the posterior score = prior score + damped likelihood score. The forward
diffusion is alpha(t) = 1 - (1 - eps_a) t, beta^2(t) = eps_b + (1 - eps_b) t. The prior score
at pseudo-time t is estimated from the forecast ensemble by Monte Carlo with one member per
path, as in the authors' public code: path i sees -(z_i - alpha(t) x_i) / beta^2(t), the
score of the forward kernel from forecast member x_i (their ``gm_var_ratio = 0``). The
likelihood score J(z)^T (y - h(z)) / obs_var is damped by (1 - t); the sum is clipped to
+-1000, and the SDE is stepped by Euler-Maruyama on a uniform grid of ``sde_steps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.ensemble import EnsembleFilter, inflate
from climcopilot.tools.da.experiment import TwinSetup
from climcopilot.tools.da.forecast import traced
from climcopilot.tools.da.noise import NormalStream

SCORE_MAX = 1000.0  # the authors' clip of the posterior score, per component
SCHEDULE_COLUMNS = ("likelihood_weight", "alpha", "beta2", "drift_dt", "diffusion2_dt",
                    "noise_scale")


def reverse_schedule(sde_steps: int, eps_a: float, eps_b: float) -> Tensor:
    """The ``sde_steps`` Euler-Maruyama steps from t = 1 down to t = dt (dt = 1 / sde_steps),
    one row each, columns :data:`SCHEDULE_COLUMNS`: the likelihood damping 1 - t, alpha(t),
    beta^2(t), drift x dt with drift = d log(alpha)/dt, diffusion^2 x dt with diffusion^2 =
    d(beta^2)/dt - 2 drift beta^2, and sqrt(diffusion^2 x dt); shape (sde_steps, 6), float64.
    A step is z <- z - drift_dt z + diffusion2_dt score + noise_scale noise."""
    dt = 1.0 / sde_steps
    t = 1.0 - dt * torch.arange(sde_steps, dtype=torch.float64)
    alpha, beta2 = 1.0 - (1.0 - eps_a) * t, eps_b + (1.0 - eps_b) * t
    drift = -(1.0 - eps_a) / alpha
    diffusion2 = (1.0 - eps_b) - 2.0 * drift * beta2
    return torch.stack([1.0 - t, alpha, beta2, drift * dt, diffusion2 * dt,
                        (diffusion2 * dt).sqrt()], -1)


def ensemble_prior_score(z: Tensor, E: Tensor, alpha: Tensor | float,
                         beta2: Tensor | float) -> Tensor:
    """Monte Carlo prior score at pseudo-time t for paths ``z`` (N, dim) paired with forecast
    members ``E`` (N, dim): -(z - alpha x) / beta^2, the score of N(alpha x, beta^2 I)."""
    return (alpha * E - z) / beta2


@dataclass
class EnSF(EnsembleFilter):
    """Ensemble score filter; ``sde_steps``, ``eps_a`` and ``eps_b`` as in the module text.

    The observation operator enters only through h and its adjoint J^T (analytic for the
    built-in operators, autograd for a plugin's), so any differentiable operator works. One
    SDE step is traced once (its coefficients are inputs) and looped over: tracing the
    unrolled loop took 25 s at 500 steps."""

    sde_steps: int = 200
    eps_a: float = 0.1
    eps_b: float = 0.025
    traces_cycle: ClassVar[bool] = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rot:
            raise ToolError("rot applies to etkf/letkf; ensf needs rot=false")
        if self.sde_steps < 1 or not 0 < self.eps_a < 1 or not 0 <= self.eps_b < 1:
            raise ToolError(f"ensf needs sde_steps >= 1, 0 < eps_a < 1 and 0 <= eps_b < 1; got "
                            f"{self.sde_steps}, {self.eps_a}, {self.eps_b}")

    def draws(self, setup: TwinSetup, gen: torch.Generator) -> NormalStream:
        """Per cycle: the terminal noise and one noise per SDE step, (sde_steps + 1, N, dim)."""
        return NormalStream(gen, (self.sde_steps + 1, self.N, setup.system.dim), setup.device)

    def analysis(self, E: Tensor, y: Tensor, setup: TwinSetup,
                 draw: Tensor | None = None) -> Tensor:
        obs, precision = setup.obs, 1.0 / setup.obs.obs_var

        def sde_step(z: Tensor, E: Tensor, y: Tensor, noise: Tensor, row: Tensor) -> Tensor:
            likelihood_weight, alpha, beta2, drift_dt, diffusion2_dt, noise_scale = row.unbind()
            likelihood = obs.adjoint(z, (y - obs(z)) * (precision * likelihood_weight))
            score = (ensemble_prior_score(z, E, alpha, beta2) + likelihood).clamp(
                -SCORE_MAX, SCORE_MAX)
            return z - drift_dt * z + diffusion2_dt * score + noise_scale * noise

        schedule = reverse_schedule(self.sde_steps, self.eps_a, self.eps_b).to(E.device)
        z = draw[0]
        z = (z - z.mean(0)) / z.std(0)  # terminal noise standardised per variable
        step = traced(sde_step, (repr(self), setup.key), (z, E, y, draw[1], schedule[0]),
                      setup.traceable)
        for row, noise in zip(schedule, draw[1:], strict=True):
            z = step(z, E, y, noise, row)
        return inflate(z, self.infl)
