"""causal.granger: conditional VAR Granger vs the pairwise baseline."""

from __future__ import annotations

import numpy as np
import pytest

from climcopilot.tools.base import ToolContext
from climcopilot.tools.causal.granger import PAIRWISE_WARNING
from climcopilot.tools.registry import get_tool


@pytest.fixture
def chain() -> list[list[float]]:
    """x0 -> x1 (lag 2) -> x2 (lag 1): x0 drives x2 only through x1."""
    rng = np.random.default_rng(7)
    T = 1000
    x = np.zeros((T, 3))
    for t in range(2, T):
        x[t, 0] = 0.5 * x[t - 1, 0] + rng.standard_normal()
        x[t, 1] = 0.3 * x[t - 1, 1] + 0.8 * x[t - 2, 0] + rng.standard_normal()
        x[t, 2] = 0.3 * x[t - 1, 2] + 0.8 * x[t - 1, 1] + rng.standard_normal()
    return x.T.tolist()


def _cross(result) -> set[tuple[str, str, int]]:
    return {(lk.source, lk.target, lk.lag) for lk in result.links}


def test_multivariate_recovers_chain_with_lags(chain, tmp_path):
    result = get_tool("causal.granger").run({"data": chain, "max_lag": 4},
                                            ToolContext(workspace=tmp_path))
    assert _cross(result) == {("X0", "X1", 2), ("X1", "X2", 1)}
    assert all(lk.value > 0 for lk in result.links)
    assert not result.warnings or PAIRWISE_WARNING not in result.warnings


def test_pairwise_reports_indirect_link_and_warns(chain, tmp_path):
    result = get_tool("causal.granger").run({"data": chain, "max_lag": 4, "mode": "pairwise"},
                                            ToolContext(workspace=tmp_path))
    pairs = {(s, t) for s, t, _ in _cross(result)}
    assert {("X0", "X1"), ("X1", "X2"), ("X0", "X2")} <= pairs  # X0 -> X2 is indirect
    assert PAIRWISE_WARNING in result.warnings


def test_independent_series_give_no_links(tmp_path):
    x = np.random.default_rng(11).standard_normal((4, 800))
    result = get_tool("causal.granger").run({"data": x.tolist()},
                                            ToolContext(workspace=tmp_path))
    assert result.links == []
