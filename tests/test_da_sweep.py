"""The Dask sweep: a tidy table on a LocalCluster, and recovery when a worker dies mid-sweep."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from distributed import Client, LocalCluster

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.da.inputs import SweepInput
from climcopilot.tools.da.sweep import run_sweep, sweep_grid, twin_row
from climcopilot.tools.registry import get_tool

GRID = {"methods": ["etkf", "3dvar"], "Ns": [10, 20], "infls": [1.02, 1.05], "seeds": [0, 1],
        "Ko": 200, "xB": 0.02}


def test_grid_runs_deterministic_methods_once_per_seed():
    grid = sweep_grid(SweepInput(**GRID, rot=True))
    assert [g.rot for g in grid] == [True] * 8 + [False] * 2
    assert len(grid) == 2 * 2 * 2 + 2
    assert {(g.method, g.N, g.infl, g.seed) for g in grid if g.method == "3dvar"} == {
        ("3dvar", 2, 1.0, 0), ("3dvar", 2, 1.0, 1)}


def test_sweep_tool_returns_table_csv_plot_and_best(tmp_path):
    result = get_tool("da.sweep").run({**GRID, "n_workers": 2}, ToolContext(workspace=tmp_path))
    assert len(result.rows) == 10 and result.values["n_runs"] == 10
    assert {"method", "N", "infl", "seed", "rmse_a", "spread_a", "diverged"} <= set(result.rows[0])
    assert result.best["method"] == "etkf" and result.best["rmse_a"] < 0.3
    assert [r["N"] for r in result.rows if r["method"] == "3dvar"] == [None, None]
    assert (tmp_path / "tables" / "da_sweep.csv").read_text().startswith("method,N,infl,seed")
    assert result.figures[0].endswith(".png") and result.ok


def test_bad_sweep_input_is_a_clear_error(tmp_path):
    with pytest.raises(ToolError, match="Ns must all be >= 2"):
        get_tool("da.sweep").run({**GRID, "Ns": [1]}, ToolContext(workspace=tmp_path))
    with pytest.raises(ToolError, match="cannot reach the Dask scheduler"):
        get_tool("da.sweep").run({**GRID, "address": "tcp://127.0.0.1:9"},
                                 ToolContext(workspace=tmp_path))


def lost_task_count(dask_scheduler) -> int:
    """Tasks that were running on a worker when it died (Dask calls them suspicious)."""
    return sum(ts.suspicious for ts in dask_scheduler.tasks.values())


def test_sweep_survives_a_worker_dying_mid_sweep():
    args = SweepInput(methods=["etkf"], Ns=[16], infls=[1.02, 1.04], seeds=[0, 1, 2],
                      Ko=600, n_workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with ThreadPoolExecutor(1) as pool:
            sweep = pool.submit(run_sweep, args, client)
            victim, deadline = None, time.monotonic() + 60
            while victim is None and time.monotonic() < deadline:
                busy = [w for w, keys in client.processing().items() if keys]
                victim = busy[0] if busy else None
                time.sleep(0.05)
            assert victim is not None, "no task ever started"
            pid = client.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)
            lost = 0  # tasks the scheduler saw die with the worker (to be recomputed)
            while not lost and not sweep.done():
                lost = client.run_on_scheduler(lost_task_count)
                time.sleep(0.02)
            table = sweep.result(timeout=180)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the worker really died
    assert lost >= 1, "the killed worker had no task in flight"
    assert len(table) == 6 and not table["diverged"].any()
    expected = [twin_row(run)["rmse_a"] for run in sweep_grid(args)]
    assert table["rmse_a"].tolist() == pytest.approx(expected, rel=1e-12)
