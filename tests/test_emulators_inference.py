"""emulators.infer_parameters: parameters recovered from a simulated record, whose true values
are known by construction; EKI and the Laplace errors against exact linear-Gaussian identities
computed here with NumPy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.inference import (
    es_mda,
    infer_parameters,
    joint_closure_tool,
    laplace_log_std,
)


def run(tmp_path: Path, **arguments):
    return infer_parameters.run(arguments, ToolContext(workspace=tmp_path))


def test_lorenz96_forcing_within_2_percent_from_half_the_sites(tmp_path: Path) -> None:
    # Must show: F from 10 % noise on every other site (the defaults), truth F = 8.
    result = run(tmp_path, system="lorenz96", noise=0.1, observed_every=2)
    v = result.values
    assert v["F_true"] == 8.0
    assert abs(v["F_gradient"] / 8.0 - 1) < 0.02, result.summary
    assert 0 < v["F_gradient_se"] < 0.2
    assert abs(v["F_eki"] / 8.0 - 1) < 0.05, result.summary  # the gradient-free baseline
    assert 0 < v["F_eki_se"] < 1.0
    assert result.ok, result.checks
    assert Path(result.figures[0]).is_file()


@pytest.mark.slow
def test_two_scale_coupling_within_10_percent(tmp_path: Path) -> None:
    # Must show: h, c, b of the two-scale model (truth 1, 10, 10) within 10 %.
    result = run(tmp_path, system="lorenz96_two_scale")
    for name, truth in (("h", 1.0), ("c", 10.0), ("b", 10.0)):
        assert result.values[f"{name}_true"] == truth
        assert abs(result.values[f"{name}_gradient"] / truth - 1) < 0.10, result.summary
    assert result.ok, result.checks


def linear_gaussian_posterior(g: np.ndarray, gamma: np.ndarray, mean: np.ndarray,
                              cov: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior of theta ~ N(mean, cov) given y = g theta + N(0, gamma)."""
    precision = np.linalg.inv(cov) + g.T @ np.linalg.solve(gamma, g)
    post_cov = np.linalg.inv(precision)
    return post_cov @ (np.linalg.solve(cov, mean) + g.T @ np.linalg.solve(gamma, y)), post_cov


@pytest.mark.parametrize("iterations", [1, 4])
def test_eki_is_the_posterior_of_a_linear_gaussian_problem(iterations: int) -> None:
    rng = np.random.default_rng(1)
    g = rng.standard_normal((5, 3))
    gamma = np.diag([0.5, 1.0, 0.3, 2.0, 0.8])
    mean, cov = np.array([1.0, -0.5, 2.0]), np.diag([1.0, 2.0, 0.5])
    y = g @ np.array([0.3, 0.4, 1.5]) + rng.multivariate_normal(np.zeros(5), gamma)
    prior = rng.multivariate_normal(mean, cov, size=40_000)
    final, ensembles, misfits = es_mda(prior, lambda t: t @ g.T, y, gamma, iterations, rng)
    post_mean, post_cov = linear_gaussian_posterior(g, gamma, mean, cov, y)
    assert len(ensembles) == iterations + 1 and len(misfits) == iterations
    assert np.allclose(final.mean(0), post_mean, atol=0.02)
    assert np.allclose(np.cov(final, rowvar=False), post_cov, atol=0.02)


def test_laplace_marginal_is_the_inverse_of_the_full_precision() -> None:
    # Gauss-Newton precision of (theta, x_1, ..., x_W) with the prior on theta only; the
    # theta block of its inverse is what laplace_log_std marginalises window by window.
    rng = np.random.default_rng(2)
    p, dim, rows, windows = 2, 4, 12, 3
    blocks = [(rng.standard_normal((rows, p)), rng.standard_normal((rows, dim)))
              for _ in range(windows)]
    full = np.zeros((rows * windows, p + dim * windows))
    for w, (j_theta, j_state) in enumerate(blocks):
        full[w * rows:(w + 1) * rows, :p] = j_theta
        full[w * rows:(w + 1) * rows, p + w * dim:p + (w + 1) * dim] = j_state
    precision = full.T @ full
    precision[:p, :p] += np.eye(p) / 0.5**2  # PRIOR_STD = 0.5
    expected = np.sqrt(np.diag(np.linalg.inv(precision))[:p])
    got = laplace_log_std([(torch.from_numpy(a), torch.from_numpy(b)) for a, b in blocks])
    assert np.allclose(got, expected, rtol=1e-9)


@pytest.mark.parametrize("arguments, message", [
    ({"system": "lorenz63"}, "covers lorenz96 and lorenz96_two_scale"),
    ({"system": "lorenz96", "parameters": ["h"]}, "parameters to recover are F"),
    ({"system": "lorenz96", "initial": [6.0, 1.0]}, "one value per parameter"),
    ({"system": "lorenz96", "duration": 0.2}, "fewer than one window"),
])
def test_bad_input_is_a_one_line_error(tmp_path: Path, arguments: dict, message: str) -> None:
    with pytest.raises(ToolError) as error:
        run(tmp_path, **arguments)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
def test_joint_closure_online_error_below_the_offline_closure(tmp_path: Path) -> None:
    # Must show: the closure learned jointly with F through the solver forecasts the
    # independent two-scale truth better online than the closure trained offline alone.
    result = joint_closure_tool.run({"seed": 1}, ToolContext(workspace=tmp_path))
    v = result.values
    assert v["rmse_joint_mean"] < v["rmse_offline_mean"], result.summary
    assert abs(v["F_joint"] / v["F_true"] - 1) < 0.02
    assert result.ok and Path(result.figures[0]).is_file()


def test_joint_closure_needs_a_window_within_the_record(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="fewer than one window") as error:
        joint_closure_tool.run({"train_duration": 0.2, "window": 10, "members": 1,
                                "online_duration": 1.0}, ToolContext(workspace=tmp_path))
    assert "\n" not in str(error.value)
