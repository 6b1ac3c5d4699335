"""emulators.closure_uncertainty: interval coverage recomputed with NumPy from the members'
means and stds the tool leaves in the session; calibration against a generating distribution
known exactly; the Must-show figures (slow)."""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
import torch

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.systems import cpu_threads
from climcopilot.tools.emulators.uncertainty import (
    closure_uncertainty,
    fit_ensemble,
    memory_features,
    score,
)

SMALL = {"train_duration": 3.0, "online_duration": 3.0, "members": 2, "ensemble_members": 3,
         "iterations": 150, "max_samples": 2000, "hf_pairs": 50, "device": "cpu"}
Z90 = NormalDist().inv_cdf(0.95)


def numpy_interval_scores(mean: np.ndarray, std: np.ndarray,
                          target: np.ndarray) -> tuple[float, float, float]:
    """Coverage of the 90 % interval of the members' mixture (Gaussian of the same mean and
    variance), its mean width, and the RMSE of the mixture mean; mean, std (members, n)."""
    centre = mean.mean(0)
    spread = np.sqrt((std**2 + mean**2).mean(0) - centre**2)
    coverage = float((np.abs(target - centre) <= Z90 * spread).mean())
    return coverage, float(2 * Z90 * spread.mean()), float(np.sqrt(((centre - target)**2).mean()))


def test_coverage_and_errors_recomputed_from_the_session(tmp_path: Path) -> None:
    ctx = ToolContext(workspace=tmp_path)
    result = closure_uncertainty.run({**SMALL, "method": "randomized_prior"}, ctx)
    ds = ctx.store[result.handles[0]]
    coverage, width, rmse = numpy_interval_scores(ds["mean_F"].values, ds["std_F"].values,
                                                  ds["U_F"].values)
    assert result.values["coverage_90"] == pytest.approx(coverage, abs=1e-12)
    assert result.values["interval_width"] == pytest.approx(width, rel=1e-9)
    assert result.values["rmse_closure_F"] == pytest.approx(rmse, rel=1e-9)
    mf = numpy_interval_scores(ds["mean_F_test"].values, ds["std_F_test"].values,
                               ds["U_F_test"].values)
    assert result.values["rmse_F_test_multi_fidelity"] == pytest.approx(mf[2], rel=1e-9)
    assert result.values["coverage_F_test_multi_fidelity"] == pytest.approx(mf[0], abs=1e-12)
    assert ds["X_F"].shape[1] == 3  # the present and memory = 2 past samples
    assert set(result.table) == {"low_fidelity", "high_fidelity", "multi_fidelity"}
    assert Path(result.figures[0]).is_file()


def test_memory_features_are_the_past_samples_of_the_same_site() -> None:
    x = torch.arange(2 * 6 * 4, dtype=torch.float64).reshape(2, 6, 4)  # (members, time, K)
    features, target = memory_features(x, -x, memory=2)
    expected = np.stack([x.numpy()[:, 2 - lag: 6 - lag] for lag in range(3)], -1)
    np.testing.assert_array_equal(features.numpy(), expected.reshape(-1, 3))
    np.testing.assert_array_equal(target.numpy(), -x.numpy()[:, 2:].reshape(-1))
    with pytest.raises(ToolError, match="lower memory"):
        memory_features(x, x, memory=6)


def test_ensemble_intervals_are_calibrated_on_a_known_distribution() -> None:
    """y = sin(2x) + (0.2 + 0.3 |x|) eps: the 90 % intervals of held-out draws should cover
    90 % +- a few binomial standard deviations (sqrt(0.09 / 4000) = 0.005) plus fit error."""
    gen = torch.Generator().manual_seed(0)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.rand(n, 1, generator=gen, dtype=torch.float64) * 4 - 2
        noise = torch.randn(n, generator=gen, dtype=torch.float64)
        return x, torch.sin(2 * x[:, 0]) + (0.2 + 0.3 * x[:, 0].abs()) * noise

    with cpu_threads(1):  # as the tool runs: small tensors, a shared CPU
        closure = fit_ensemble(*draw(4000), members=4, width=32, prior_scale=0.0,
                               iterations=400, seed=0, device=torch.device("cpu"))
        held_out = score(closure, *draw(4000))
    assert 0.87 <= held_out.coverage <= 0.93
    # the exact 90 % interval has mean width 2 z (0.2 + 0.3 E|x|) = 2 z 0.5
    assert held_out.width == pytest.approx(2 * Z90 * 0.5, rel=0.15)


def test_bad_input_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="F_test equals the training forcing"):
        closure_uncertainty.run({**SMALL, "F": 20.0, "F_test": 20.0},
                                ToolContext(workspace=tmp_path))
    with pytest.raises(ToolError, match="method"):
        closure_uncertainty.run({**SMALL, "method": "hmc"}, ToolContext(workspace=tmp_path))


@pytest.mark.slow
def test_must_show_calibrated_intervals_and_multi_fidelity_extrapolation(
        tmp_path: Path) -> None:
    ctx = ToolContext(workspace=tmp_path)
    result = closure_uncertainty.run({"device": "cpu"}, ctx)
    ds = ctx.store[result.handles[0]]
    coverage = numpy_interval_scores(ds["mean_F"].values, ds["std_F"].values,
                                     ds["U_F"].values)[0]
    assert 0.85 <= coverage <= 0.95
    rmse = {name: result.values[f"rmse_F_test_{name}"]
            for name in ("low_fidelity", "high_fidelity", "multi_fidelity")}
    assert rmse["multi_fidelity"] < min(rmse["low_fidelity"], rmse["high_fidelity"])
    assert result.ok, result.checks
