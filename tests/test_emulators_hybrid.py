"""The learned subgrid closure of two-scale Lorenz-96, offline and online."""

import math

import pytest
import torch

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.hybrid import fit_ar1, r_squared, subgrid_tendency
from climcopilot.tools.emulators.tools import hybrid


def test_subgrid_tendency_is_the_coupling_term():
    system = get_system("lorenz96_two_scale", K=4, J=3)
    state = torch.randn(2, system.dim, dtype=torch.float64)
    slow, u = subgrid_tendency(system, state)
    # the slow tendency = one-level L96 + U exactly
    one_level = get_system("lorenz96", N=4, F=system.F).tendency(slow)
    torch.testing.assert_close(system.tendency(state)[..., :4], one_level + u)


def test_scores():
    target = torch.randn(1000, dtype=torch.float64)
    assert r_squared(target, target) == 1.0
    assert r_squared(torch.full_like(target, float(target.mean())), target) == pytest.approx(0)
    gen = torch.Generator().manual_seed(0)
    ar = torch.zeros(4, 5000, 1, dtype=torch.float64)
    for t in range(1, 5000):
        ar[:, t] = 0.7 * ar[:, t - 1] + torch.randn(4, 1, generator=gen, dtype=torch.float64)
    phi, sigma = fit_ar1(ar)
    assert phi == pytest.approx(0.7, abs=0.03)
    assert sigma == pytest.approx(1 / math.sqrt(1 - 0.49), rel=0.05)


def test_short_hybrid_run(tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    result = hybrid.run({"J": 8, "train_duration": 10, "online_duration": 5, "members": 2}, ctx)
    assert result.values["offline_r2"] > 0.5
    assert set(result.climates) == {"no_closure", "deterministic", "stochastic"}
    assert result.figures and result.units["no_closure_mean_drift"] == "state units"
    with pytest.raises(ToolError, match="K >= 4"):
        hybrid.run({"K": 2}, ctx)


@pytest.mark.slow
def test_default_hybrid_is_stable_and_closer_to_the_truth(tmp_path):
    result = hybrid.run({}, ToolContext(workspace=tmp_path))
    checks = {c.name: c.passed for c in result.checks}
    assert checks["deterministic_stable"] and checks["stochastic_stable"]
    assert checks["closure_improves_climate"]
    # loose bound: for c = 10, U_k is close to a function of X_k (Wilks 2005)
    assert result.values["offline_r2"] > 0.7
