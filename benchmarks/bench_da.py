"""Benchmark the DA tools: ETKF and LETKF beside DAPPER 1.7.1, and the Dask sweep's speed-up.

Sakov & Oke (2008) Lorenz-96 set-up (40 sites, F=8, dt=0.05, all sites observed each step with
error variance 1, Ko=1000), three seeds per case for each library, one CPU thread each.
DAPPER runs in its own venv (default /tmp/dapper-venv; set DAPPER_PYTHON to change)::

    python3 -m venv /tmp/dapper-venv
    /tmp/dapper-venv/bin/pip install --no-deps dapper==1.7.1
    /tmp/dapper-venv/bin/pip install "numpy~=2.0" "scipy>=1.14" "matplotlib>=3.10" pyyaml \
        ipython "tqdm~=4.67" "colorama~=0.4.1" "tabulate~=0.8.3" "pathos~=0.3" dill==0.3.8 \
        patlib==0.3.7 struct-tools==0.2.5 "threadpoolctl>=3,<4" mpl-tools==0.4.1
    .venv/bin/python benchmarks/bench_da.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
from distributed import Client, LocalCluster

from climcopilot.tools.da.inputs import SweepInput, TwinInput
from climcopilot.tools.da.sweep import run_sweep
from climcopilot.tools.da.twin import run_twin

SEEDS = (0, 1, 2)
CASES = {
    "etkf": ({"method": "etkf", "N": 24, "infl": 1.013, "rot": True},
             'da.EnKF("Sqrt", N=24, infl=1.013, rot=True)', 0.18),
    "letkf": ({"method": "letkf", "N": 7, "infl": 1.04, "loc_rad": 4, "rot": True},
              "da.LETKF(N=7, infl=1.04, rot=True, loc_rad=4)", 0.22),
}
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

DAPPER_SCRIPT = """
import json, sys, time
import dapper.tools.progressbar as progressbar
progressbar.disable_progbar = True
import dapper as dpr
import dapper.da_methods as da
from dapper.mods.Lorenz96.sakov2008 import HMM
out = []
for seed in json.loads(sys.argv[2]):
    xp = eval(sys.argv[1])
    dpr.set_seed(seed)
    xx, yy = HMM.simulate()
    start = time.perf_counter()
    xp.assimilate(HMM, xx, yy)
    wall_s = time.perf_counter() - start
    xp.stats.average_in_time()
    out.append({"seed": seed, "rmse_a": float(xp.avrgs.err.rms.a.val), "wall_s": wall_s})
print(json.dumps(out))
"""


def ours(args: dict) -> list[dict]:
    """Our runs of one case: rmse_a and assimilation wall time per seed."""
    runs = []
    for seed in SEEDS:
        outcome = run_twin(TwinInput(**args, Ko=1000, seed=seed, device="cpu"))
        runs.append({"seed": seed, "rmse_a": outcome.rmse_a, "wall_s": outcome.wall_s})
    return runs


def dappers(python: str, method: str) -> list[dict] | str:
    """DAPPER's runs of one case (DAPPER seeds 3000+), or why they could not run."""
    seeds = json.dumps([3000 + s for s in SEEDS])
    try:
        done = subprocess.run([python, "-c", DAPPER_SCRIPT, method, seeds], capture_output=True,
                              text=True, timeout=900, env={**os.environ, **ONE_THREAD})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not run: {exc}"
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def describe(runs: list[dict] | str) -> str:
    if isinstance(runs, str):
        return runs
    rmse = ", ".join(f"{r['rmse_a']:.3f}" for r in runs)
    return (f"rmse_a median {statistics.median(r['rmse_a'] for r in runs):.3f} ({rmse}); "
            f"wall {statistics.mean(r['wall_s'] for r in runs):.2f} s per run")


def sweep_seconds(n_workers: int, args: SweepInput) -> float:
    """Wall time of the sweep on a warmed-up LocalCluster of ``n_workers`` processes."""
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        warm = args.model_copy(update={"Ko": 5, "seeds": list(range(n_workers))})
        run_sweep(warm, client)  # imports torch and builds the climatology on every worker
        start = time.perf_counter()
        run_sweep(args, client)
        return time.perf_counter() - start


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else the platform's machine type."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def main() -> None:
    python = os.environ.get("DAPPER_PYTHON", "/tmp/dapper-venv/bin/python")
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, "
          f"GPU: {torch.cuda.is_available()}, load average {os.getloadavg()[0]:.1f}; "
          f"python {sys.version.split()[0]}, torch {torch.__version__}")
    print("Sakov & Oke (2008) L96: N=40, F=8, dt=0.05, obs all sites every step, R=I, "
          f"Ko=1000, seeds {list(SEEDS)}; one thread each")
    for name, (args, dapper_method, published) in CASES.items():
        print(f"\n{name} (published rmse_a {published})")
        print(f"  climcopilot: {describe(ours(args))}")
        print(f"  DAPPER 1.7.1: {describe(dappers(python, dapper_method))}")
    grid = SweepInput(methods=["etkf", "letkf"], Ns=[10, 20], infls=[1.02, 1.04],
                      seeds=list(SEEDS), Ko=1000, loc_rad=4.0)
    one, two = sweep_seconds(1, grid), sweep_seconds(2, grid)
    print(f"\nsweep of 24 runs (etkf, letkf x N 10, 20 x infl 1.02, 1.04 x 3 seeds, Ko=1000): "
          f"1 worker {one:.1f} s, 2 workers {two:.1f} s, speed-up {one / two:.2f}x")


if __name__ == "__main__":
    main()
