"""EnSF with a learned prior (``ensf_learned``): the denoiser learns a Gaussian's exact
score, the method beats 3D-Var on arctan observations of every other site, and, slow, its
benchmark table in docs/da.md."""

from __future__ import annotations

import statistics

import pytest
import torch

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.inputs import TwinInput
from climcopilot.tools.da.learned_prior import LearnedPriorEnSF, train_denoiser
from climcopilot.tools.da.twin import run_twin
from climcopilot.tools.emulators.systems import cpu_threads

# Lorenz-96 on 40 variables, RK4 dt 0.01, every other site observed through arctan with
# sigma_obs 0.05 every 10 steps, 60 cycles (the last 30 scored), methods starting from the
# climatology.
BENCHMARK = {"system": "lorenz96", "system_params": {"N": 40}, "dt": 0.01, "dko": 10,
             "Ko": 60, "burn_in": 3.0, "obs_operator": "arctan", "obs_var": 0.05**2,
             "obs_sites": "every_other", "cold_start": True, "sde_steps": 100, "N": 20,
             "device": "cpu"}


def test_the_denoiser_learns_a_gaussians_exact_score():
    # for x ~ N(0, s^2 I) the diffused density is N(0, (alpha^2 s^2 + beta^2) I), whose score
    # is -z / (alpha^2 s^2 + beta^2) (closed form, independent of the network)
    s, dim, eps_a, eps_b = 2.0, 4, 0.1, 0.025
    gen = torch.Generator().manual_seed(1)
    samples = s * torch.randn(20_000, dim, generator=gen, dtype=torch.float64)
    with cpu_threads(1):
        model = train_denoiser(samples, eps_a, eps_b, steps=800, roll=False)
    for t in (0.2, 0.5, 0.9):
        alpha, beta2 = 1 - (1 - eps_a) * t, eps_b + (1 - eps_b) * t
        z = (alpha**2 * s**2 + beta2) ** 0.5 * torch.randn(2000, dim, generator=gen,
                                                         dtype=torch.float64)
        exact = -z / (alpha**2 * s**2 + beta2)
        error = (model.score(z, t) - exact).norm() / exact.norm()
        assert error < 0.1, (t, float(error))


def test_it_beats_3dvar_on_sparse_arctan_observations():
    learned = run_twin(TwinInput(**BENCHMARK, method="ensf_learned", seed=0))
    var3d = run_twin(TwinInput(**BENCHMARK, method="3dvar", xB=0.1, seed=0))
    assert not learned.diverged
    assert learned.rmse_a < 0.5 * var3d.rmse_a, (learned.rmse_a, var3d.rmse_a)


def test_bad_prior_weight_is_one_line():
    with pytest.raises(ToolError, match="prior_weight"):
        LearnedPriorEnSF(N=20, prior_weight=1.5)


@pytest.mark.slow
def test_benchmark_table_learned_prior_beats_3dvar():
    # docs/da.md, "EnSF with a learned prior": median of seeds 0-2
    def median(**method) -> float:
        return statistics.median(run_twin(TwinInput(**{**BENCHMARK, **method}, seed=seed)).rmse_a
                                 for seed in range(3))

    learned = median(method="ensf_learned")
    assert learned < 0.5 * median(method="3dvar", xB=0.1)
    assert learned < 0.5 * median(method="3dvar", xB=1.0)
