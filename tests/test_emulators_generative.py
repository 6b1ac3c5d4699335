"""The generative emulator: its scores against closed forms, a tiny fit, and the Must-show."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import norm

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.generative import (
    energy_spectrum,
    fair_crps,
    fit_noise,
    generative_emulator,
    spread_skill_ratio,
)
from climcopilot.tools.emulators.simulate import simulate_states
from climcopilot.tools.emulators.systems import Lorenz96, cpu_threads
from climcopilot.tools.emulators.training import split_windows, train_emulator


def gaussian_crps(mu: float, sigma: float, y: torch.Tensor) -> torch.Tensor:
    """Closed form CRPS of N(mu, sigma^2) at y (Gneiting & Raftery 2007)."""
    z = ((y - mu) / sigma).numpy()
    return torch.as_tensor(sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z)
                                    - 1 / math.sqrt(math.pi)))


def test_fair_crps_matches_the_gaussian_closed_form() -> None:
    generator = torch.Generator().manual_seed(0)
    y = torch.linspace(-3, 3, 13, dtype=torch.float64)
    ensemble = 0.5 + 2.0 * torch.randn((400, 200, 13), generator=generator,
                                       dtype=torch.float64)
    estimate = fair_crps(ensemble, y).mean(0)
    assert torch.allclose(estimate, gaussian_crps(0.5, 2.0, y), atol=0.02)


def test_fair_crps_equals_its_pairwise_definition() -> None:
    generator = torch.Generator().manual_seed(2)
    ensemble, y = torch.randn((7, 30), generator=generator), torch.randn(30, generator=generator)
    pairwise = ((ensemble - y).abs().mean(0)
                - (ensemble[:, None] - ensemble[None]).abs().sum((0, 1)) / (2 * 7 * 6))
    assert torch.allclose(fair_crps(ensemble, y), pairwise, atol=1e-6)


def test_spread_skill_is_one_when_truth_is_another_member() -> None:
    generator = torch.Generator().manual_seed(1)
    draws = torch.randn((11, 5000, 8), generator=generator, dtype=torch.float64) * 3.0
    assert spread_skill_ratio(draws[1:], draws[0]) == pytest.approx(1.0, abs=0.03)
    assert spread_skill_ratio(0.5 * draws[1:], draws[0]) < 0.6  # an underdispersed ensemble


def test_energy_spectrum_of_a_sine() -> None:
    n, amplitude = 40, 1.5
    j = torch.arange(n, dtype=torch.float64)
    spectrum = energy_spectrum(amplitude * torch.sin(2 * math.pi * 7 * j / n)[None])
    assert spectrum[7].item() == pytest.approx(amplitude**2 / 4)
    assert spectrum.sum().item() == pytest.approx(amplitude**2 / 4)  # nothing elsewhere


def test_noise_fit_lowers_its_loss_and_matches_the_residual_size() -> None:
    system = Lorenz96()
    config = {"kind": "cnn", "width": 8, "layers": 2, "tau": 0.05,
              "system_description": system.describe()}
    with cpu_threads(1):
        states = simulate_states(system, dt=0.05, duration=10.0, spinup=5.0, members=2)
        mean, _ = train_emulator(states, config, epochs=2, batch_size=128, lr=3e-3,
                                 patience=5, val_fraction=0.2)
        _, held_out = split_windows(states, 0.2)
        model, losses = fit_noise(mean, held_out.float(), iterations=300, seed=0)
    assert losses[-1] < losses[0] - 0.5
    with torch.no_grad():
        predicted, std = model.moments(held_out[:, 0])
    z = (held_out[:, 1] - predicted) / std  # at the optimum of a free log-scale, E z^2 = 1
    assert z.pow(2).mean().item() == pytest.approx(1.0, abs=0.2)


def test_bad_input_is_a_one_line_error(tmp_path) -> None:
    ctx = ToolContext(workspace=tmp_path)
    with pytest.raises(ToolError, match="members"):
        generative_emulator.run({"members": 1}, ctx)
    with pytest.raises(ToolError, match="lower members, starts or the leads"):
        generative_emulator.run({"members": 1000, "starts": 10_000}, ctx)


@pytest.mark.slow
def test_generative_emulator_must_show(tmp_path) -> None:
    result = generative_emulator.run({"device": "cpu"}, ToolContext(workspace=tmp_path))
    assert 0.7 <= result.spread_skill_ratio <= 1.3
    assert result.crps < result.deterministic_mae
    assert 0.5 <= result.spectrum_ratio <= 2.0
    assert all(check.passed for check in result.checks)
