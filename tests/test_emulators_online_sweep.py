"""emulators.closure_sweep: online ensembles of hybrid closure designs on a Dask
LocalCluster; the rank correlation recomputed with scipy from the returned rows and CSV, and
the bootstrap ensemble size against exact binomial probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, spearmanr

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.online_sweep import closure_sweep, ensemble_size

SMALL = {"losses": ["mse", "mae"], "dropouts": [0.0], "memories": [0, 2],
         "normalisations": ["standard"], "runs_per_design": 2, "iterations": 60,
         "train_duration": 3.0, "online_duration": 1.5, "forecast_duration": 0.5,
         "members": 2, "n_workers": 2}


def scipy_spearman(rows: list[dict]) -> tuple[float, float]:
    finite = [r for r in rows if r["online_rmse"] is not None]
    return spearmanr([r["offline_rmse"] for r in finite], [r["online_rmse"] for r in finite])


def check_sweep_result(result, n_runs: int, n_designs: int) -> None:
    """Rows, CSV and statistics agree with each other and with scipy."""
    assert len(result.rows) == n_runs and len(result.designs) == n_designs
    table = pd.read_csv(result.csv)
    assert len(table) == n_runs
    rho, p = scipy_spearman(result.rows)
    assert result.spearman_rho == pytest.approx(rho, abs=1e-12)
    assert result.spearman_p == pytest.approx(p, rel=1e-9)
    finite = table[np.isfinite(table["online_rmse"])]
    assert spearmanr(finite["offline_rmse"], finite["online_rmse"])[0] == pytest.approx(rho)
    stable = np.mean([r["stable"] for r in result.rows])
    assert result.values["stable_fraction"] == pytest.approx(stable)
    medians = table.groupby("design")["online_rmse"].median().sort_values()
    assert result.best_design == medians.index[0]
    assert result.designs[0]["online_rmse"] == pytest.approx(medians.iloc[0])
    assert all(r["offline_rmse"] > 0 for r in result.rows)
    assert Path(result.figures[0]).is_file()


def test_a_small_sweep_on_two_workers(tmp_path: Path) -> None:
    result = closure_sweep.run(SMALL, ToolContext(workspace=tmp_path))
    check_sweep_result(result, n_runs=8, n_designs=4)
    assert {r["memory"] for r in result.rows} == {0, 2}


def test_the_bootstrap_ensemble_size_matches_binomial_probabilities() -> None:
    """best holds 0 three times in four, other is always 1: n draws from best have a median
    below 1 when more than half are 0 (odd n) or the middle two are 0 (even n)."""
    best, other, confidence = np.array([0.0, 0.0, 0.0, 2.0]), np.ones(4), 0.8

    def p_win(n: int) -> float:
        return float(binom.sf(n // 2, n, 0.75))  # P(#zeros >= n // 2 + 1)

    exact = next(n for n in range(1, 50) if p_win(n) >= confidence)
    assert exact == 3
    assert ensemble_size(best, other, confidence=confidence, largest=49) == exact
    assert ensemble_size(other, best, confidence=confidence, largest=49) is None


def test_bad_designs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="dropouts must lie in 0..0.9"):
        closure_sweep.run({**SMALL, "dropouts": [1.5]}, ToolContext(workspace=tmp_path))
    with pytest.raises(ToolError, match="online steps"):
        closure_sweep.run({**SMALL, "runs_per_design": 1000, "online_duration": 100.0},
                          ToolContext(workspace=tmp_path))


@pytest.mark.slow
def test_a_hundred_online_runs_on_a_local_cluster_of_two_workers(tmp_path: Path) -> None:
    """The defaults: 2 losses x 2 dropouts x 2 memories x 2 normalisations x 7 seeds."""
    result = closure_sweep.run({"n_workers": 2}, ToolContext(workspace=tmp_path))
    check_sweep_result(result, n_runs=112, n_designs=16)
    assert result.values["n_runs"] >= 100
    runner = result.designs[1]
    online = {d: np.array([np.inf if r["online_rmse"] is None else r["online_rmse"]
                           for r in result.rows if r["design"] == d])
              for d in (result.best_design, result.runner_up)}
    assert result.ensemble_size == ensemble_size(online[result.best_design],
                                                 online[result.runner_up], confidence=0.95,
                                                 largest=64)
    assert runner["ensemble_size_vs_best"] == result.ensemble_size
