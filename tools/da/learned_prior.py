"""EnSF with a learned climatological prior (score-based DA in the spirit of Rozet & Louppe 2023).

A small MLP is trained by denoising score matching on climatology states of the system: for a
state x, pseudo-time t ~ U(0, 1) and noise e ~ N(0, I), z = alpha(t) x + beta(t) e with EnSF's
forward diffusion (:mod:`.score_filter`), the network predicts e from (z, t), so the score of
the diffused climatology is -e_hat / beta(t). On a ring of one variable per site (Lorenz-96,
translation-invariant) samples are rolled by a random shift. In the analysis the prior score is
(1 - ``prior_weight``) x the ensemble's Monte Carlo score + ``prior_weight`` x the learned one;
the likelihood score, clipping and Euler-Maruyama steps are EnSF's. The trained network is
cached per climatology and training settings for the process, so a sweep trains once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.ensemble import inflate
from climcopilot.tools.da.experiment import Climatology, Trace, TwinSetup
from climcopilot.tools.da.score_filter import (
    SCORE_MAX,
    EnSF,
    ensemble_prior_score,
    reverse_schedule,
)

HIDDEN = 256  # width of the MLP's two hidden layers
BATCH = 256  # states per training step


class Denoiser(nn.Module):
    """Predicts the noise e (..., dim) in z = alpha x + beta e from z (..., dim) and t (...,).

    The input is z standardised by the diffused climatology (mean alpha m, variance
    alpha^2 s^2 + beta^2, ``mean`` m (dim,) and scalar variance s^2 = ``var``)."""

    def __init__(self, dim: int, mean: Tensor, var: float, eps_a: float, eps_b: float) -> None:
        super().__init__()
        self.register_buffer("mean", mean.float())
        self.var, self.eps_a, self.eps_b = var, eps_a, eps_b
        self.net = nn.Sequential(nn.Linear(dim + 1, HIDDEN), nn.SiLU(), nn.Linear(HIDDEN, HIDDEN),
                                 nn.SiLU(), nn.Linear(HIDDEN, dim))

    def coefficients(self, t: Tensor) -> tuple[Tensor, Tensor]:
        """alpha(t) and beta^2(t) of EnSF's forward diffusion, shaped like t."""
        return 1.0 - (1.0 - self.eps_a) * t, self.eps_b + (1.0 - self.eps_b) * t

    def forward(self, z: Tensor, t: Tensor) -> Tensor:
        alpha, beta2 = self.coefficients(t)
        scale = (alpha**2 * self.var + beta2).rsqrt().unsqueeze(-1)
        return self.net(torch.cat([(z - alpha.unsqueeze(-1) * self.mean) * scale,
                                   t.unsqueeze(-1)], -1))

    def score(self, z: Tensor, t: float) -> Tensor:
        """Score of the diffused climatology at pseudo-time ``t`` for states z (N, dim),
        -e_hat / beta(t), in z's dtype."""
        tt = torch.full(z.shape[:-1], t, dtype=torch.float32, device=z.device)
        beta = self.coefficients(tt)[1].sqrt().unsqueeze(-1)
        return (-self(z.float(), tt) / beta).to(z.dtype)


def train_denoiser(samples: Tensor, eps_a: float, eps_b: float, steps: int, seed: int = 0,
                   roll: bool = True) -> Denoiser:
    """Denoising score matching on ``samples`` (n, dim) for ``steps`` Adam steps of
    :data:`BATCH` states (float32, on the samples' device); ``roll`` shifts each state
    around the ring by a random number of sites."""
    gen = torch.Generator().manual_seed(seed)
    with torch.inference_mode(False), torch.enable_grad():
        data = samples.detach().clone().float()
        n, dim = data.shape
        with torch.random.fork_rng(devices=[]):  # seeded weights; the global stream untouched
            torch.manual_seed(seed)
            model = Denoiser(dim, data.mean(0), float(data.var(0).mean()), eps_a, eps_b)
        model = model.to(data.device)
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
        for _ in range(steps):
            x = data[torch.randint(n, (BATCH,), generator=gen).to(data.device)]
            if roll:
                shift = torch.randint(dim, (BATCH, 1), generator=gen).to(data.device)
                x = x.gather(1, (torch.arange(dim, device=data.device) + shift) % dim)
            t = torch.rand(BATCH, generator=gen).to(data.device)
            e = torch.randn(BATCH, dim, generator=gen).to(data.device)
            alpha, beta2 = model.coefficients(t)
            z = alpha.unsqueeze(-1) * x + beta2.sqrt().unsqueeze(-1) * e
            loss = ((model(z, t) - e) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    return model.eval().requires_grad_(False)


_DENOISERS: dict[tuple, Denoiser] = {}


def learned_prior(clim: Climatology, key: tuple, eps_a: float, eps_b: float, steps: int,
                  roll: bool) -> Denoiser:
    """The denoiser of ``clim``'s states (cached per ``key``, which names the climatology)."""
    full_key = (key, eps_a, eps_b, steps, roll)
    if full_key not in _DENOISERS:
        _DENOISERS[full_key] = train_denoiser(clim.samples, eps_a, eps_b, steps, roll=roll)
    return _DENOISERS[full_key]


@dataclass
class LearnedPriorEnSF(EnSF):
    """EnSF whose prior score mixes in a learned climatological score (module text);
    ``prior_weight`` in [0, 1], ``train_steps`` Adam steps of training."""

    prior_weight: float = 0.2
    train_steps: int = 2000
    _prior: Denoiser | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.prior_weight <= 1 or self.train_steps < 1:
            raise ToolError(f"ensf_learned needs 0 <= prior_weight <= 1 and train_steps >= 1; "
                            f"got {self.prior_weight}, {self.train_steps}")

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        system = setup.system
        ring = getattr(system, "ring_length", None) == system.dim  # one variable per site
        self._prior = learned_prior(setup.clim, (setup.key[0], setup.dt, str(setup.device)),
                                    self.eps_a, self.eps_b, self.train_steps, ring)
        return super().assimilate(setup, yy, gen)

    def analysis(self, E: Tensor, y: Tensor, setup: TwinSetup,
                 draw: Tensor | None = None) -> Tensor:
        obs, precision, w = setup.obs, 1.0 / setup.obs.obs_var, self.prior_weight
        schedule = reverse_schedule(self.sde_steps, self.eps_a, self.eps_b)
        z = draw[0]
        z = (z - z.mean(0)) / z.std(0)  # terminal noise standardised per variable, as EnSF
        for row, noise in zip(schedule.tolist(), draw[1:], strict=True):
            likelihood_weight, alpha, beta2, drift_dt, diffusion2_dt, noise_scale = row
            prior = ((1.0 - w) * ensemble_prior_score(z, E, alpha, beta2)
                     + w * self._prior.score(z, 1.0 - likelihood_weight))
            likelihood = obs.adjoint(z, (y - obs(z)) * (precision * likelihood_weight))
            score = (prior + likelihood).clamp(-SCORE_MAX, SCORE_MAX)
            z = z - drift_dt * z + diffusion2_dt * score + noise_scale * noise
        return inflate(z, self.infl)
