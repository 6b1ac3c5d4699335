"""Benchmark the DA tools beside DAPPER 1.7.1, lean and as shipped, and the Dask sweep.

Five cases at DAPPER's tuned settings: ETKF, stochastic EnKF, 3D-Var and LETKF on Sakov & Oke
(2008)'s Lorenz-96 (DAPPER's ``mods/Lorenz96/sakov2008``: 40 sites, F=8, dt=0.05, all sites
observed every step with error variance 1) and the particle filter on Sakov et al. (2012)'s
Lorenz-63 (``mods/Lorenz63/sakov2012``: obs every 25 steps of 0.01, variance 2); Ko = 1000
cycles (DAPPER's Ko=1000 makes 1001). Wall time is the assimilation only (truth, observations
and imports excluded), one CPU thread each.

"DAPPER lean" is DAPPER with its online statistics (``dapper.stats.Stats``: spread, skewness,
CRPS, rank histograms, SVD of the ensemble at every cycle) reduced to the one the comparison
needs, the RMS error of the analysis mean; its rmse_a is checked to be bit-identical to the
full run's. Runs are interleaved (ours, lean, as shipped, the order rotating each repetition),
five repetitions with seeds 0-4 (ours) and 3000-3004 (DAPPER); figures are medians and
ratios are ours / DAPPER's medians. Then the PF's divergences over 10 seeds at its defaults
(ours) and at DAPPER's tuned settings, the wall time per cycle of EnSF and LETKF on Bao et
al. (2024)'s arctan-observed Lorenz-96 at 100 and 1,000 variables (CPU, and CUDA where
present), and the sweep's speed-up on 1 vs 2 Dask workers.

DAPPER runs in its own venv as a worker process (``DAPPER_PYTHON``, default
/work/dapper-venv/bin/python); without it those columns say why::

    python3 -m venv /work/dapper-venv && /work/dapper-venv/bin/pip install dapper==1.7.1
    .venv/bin/python benchmarks/bench_da.py [--only PF] [--no-divergences] [--no-ensf]
        [--no-sweep]
"""

from __future__ import annotations

import argparse
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
from climcopilot.tools.emulators import native

REPEATS = 5
KO = 1000
L96 = "dapper.mods.Lorenz96.sakov2008"
L63 = "dapper.mods.Lorenz63.sakov2012"
PF_SETUP = {"system": "lorenz63", "dt": 0.01, "dko": 25, "obs_var": 2.0}
# name: (our arguments, DAPPER's module and method, DAPPER's published rmse_a, target ratio)
CASES = {
    "ETKF N=24": ({"method": "etkf", "N": 24, "infl": 1.013, "rot": True},
                  L96, 'da.EnKF("Sqrt", N=24, infl=1.013, rot=True)', 0.18, 0.5),
    "EnKF N=40": ({"method": "enkf", "N": 40, "infl": 1.06},
                  L96, 'da.EnKF("PertObs", N=40, infl=1.06)', 0.22, 0.5),
    "3D-Var": ({"method": "3dvar", "xB": 0.02}, L96, "da.Var3D(xB=0.02)", 0.41, 0.5),
    "LETKF N=7": ({"method": "letkf", "N": 7, "infl": 1.04, "loc_rad": 4, "rot": True},
                  L96, "da.LETKF(N=7, infl=1.04, rot=True, loc_rad=4)", 0.22, 0.25),
    "PF N=100 (L63)": ({"method": "pf", "N": 100, **PF_SETUP},
                       L63, "da.PartFilt(N=100, reg=2.4, NER=0.3)", 0.38, 0.5),
}
# Bao et al. (2024)'s set-up (every variable observed through arctan, sigma 0.05, every 10
# steps of 0.01; cold start) and the LETKF tuned on it (infl 1.1, loc_rad 2: 0.05 on 2 of 3
# seeds at 40 variables, where the default infl 1, loc_rad 4 never converges)
ENSF_SETUP = {"system": "lorenz96", "dt": 0.01, "dko": 10, "obs_operator": "arctan",
              "obs_var": 0.05**2, "cold_start": True, "N": 20, "burn_in": 0.0}
ENSF_VS_LETKF = {"EnSF": {"method": "ensf", "sde_steps": 200, "eps_a": 0.1, "eps_b": 0.025},
                 "LETKF": {"method": "letkf", "infl": 1.1, "loc_rad": 2.0}}
ENSF_CYCLES = 20
PF_DIVERGED = 1.0  # rmse_a above this (2.6x DAPPER's tuned 0.38, 20 x its seed spread)
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

DAPPER_WORKER = r'''
import json, sys, time
import numpy as np
import dapper.tools.progressbar as progressbar
progressbar.disable_progbar = True
import dapper as dpr
import dapper.stats
import dapper.da_methods as da
from dapper.tools.series import mean_with_conf

SHIPPED = dapper.stats.Stats


class Ignored:
    """Takes the diagnostics a method writes (trHK, N_eff, ...) and keeps none."""
    def __setitem__(self, key, value):
        pass


class LeanStats:
    """DAPPER's Stats reduced to the RMS error of the analysis mean, computed as Stats does."""
    def __init__(self, xp, HMM, xx, yy, liveplots=False, store_u=False):
        self.HMM, self.xx, self.stat_register = HMM, xx, []
        self.err_rms_a = np.full(yy.shape[0], np.nan)

    def __getattr__(self, name):
        return Ignored()

    def new_series(self, *args, **kwargs):
        pass

    def write(self, *args, **kwargs):
        pass

    def assess(self, k, ko=None, faus=None, E=None, w=None, mu=None, Cov=None):
        if ko is None or "a" not in (faus or "au"):
            return
        if E is not None:
            if not np.all(np.isfinite(E)):
                raise RuntimeError("Ensemble not finite.")
            mu = E.mean(0) if w is None else w @ E
        err = mu - self.xx[k]
        self.err_rms_a[ko] = np.sqrt(np.mean(err**2, axis=0))

    def rmse_a(self):
        return float(mean_with_conf(self.err_rms_a[self.HMM.tseq.masko]).val)


for line in sys.stdin:
    job = json.loads(line)
    HMM = __import__(job["model"], fromlist=["HMM"]).HMM.copy()
    HMM.tseq.Ko = job["Ko"]
    xp = eval(job["method"])
    dpr.set_seed(job["seed"])
    start = time.perf_counter()
    xx, yy = HMM.simulate()
    truth_s = time.perf_counter() - start
    dapper.stats.Stats = LeanStats if job["lean"] else SHIPPED
    start, start_cpu = time.perf_counter(), time.process_time()
    xp.assimilate(HMM, xx, yy)
    wall_s, cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
    if job["lean"]:
        rmse_a = xp.stats.rmse_a()
    else:
        xp.stats.average_in_time()
        rmse_a = float(xp.avrgs.err.rms.a.val)
    print("RESULT", json.dumps({"rmse_a": rmse_a, "wall_s": wall_s, "cpu_s": cpu_s,
                                "truth_s": truth_s}), flush=True)
'''


class Dapper:
    """A DAPPER worker process in its own venv, one run per request; or why there is none."""

    def __init__(self, python: str) -> None:
        self.missing: str | None = None
        if not os.path.exists(python):
            self.missing = f"no DAPPER venv at {python} (see this script's docstring)"
            return
        self.process = subprocess.Popen([python, "-c", DAPPER_WORKER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env={**os.environ, **ONE_THREAD})

    def run(self, model: str, method: str, seed: int, lean: bool) -> dict:
        job = {"model": model, "method": method, "seed": seed, "lean": lean, "Ko": KO}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        for reply in self.process.stdout:  # DAPPER prints notices of its own
            if reply.startswith("RESULT "):
                return json.loads(reply.removeprefix("RESULT "))
        error = self.process.stderr.read().strip().splitlines()
        raise RuntimeError(f"DAPPER worker failed: {error[-1] if error else 'no output'}")

    def close(self) -> None:
        if self.missing is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


def ours(args: dict, seed: int) -> dict:
    outcome = run_twin(TwinInput(**args, Ko=KO, seed=seed, device="cpu"))
    return {"rmse_a": outcome.rmse_a, "wall_s": outcome.wall_s, "cpu_s": outcome.cpu_s,
            "truth_s": outcome.truth_s}


def compare(dapper: Dapper, only: str) -> None:
    """Per case (whose name contains ``only``): medians of rmse_a, wall and CPU time of ours,
    DAPPER lean and as shipped, and ours / theirs for both times."""
    print(f"\n{'case':15s} {'library':12s} {'rmse_a (per seed)':31s} {'wall s (per run)':27s} "
          f"{'CPU s':6s} ours/this wall, CPU")
    for name, (args, model, method, published, target) in CASES.items():
        if only not in name:
            continue
        runs: dict[str, list[dict]] = {"ours": [], "lean": [], "shipped": []}
        for rep in range(REPEATS):
            order = ["ours", "lean", "shipped"]
            for library in order[rep % 3:] + order[:rep % 3]:
                if library == "ours":
                    runs["ours"].append(ours(args, rep))
                elif dapper.missing is None:
                    runs[library].append(dapper.run(model, method, 3000 + rep,
                                                    lean=library == "lean"))
        mine = {key: statistics.median(r[key] for r in runs["ours"]) for key in ("wall_s", "cpu_s")}
        for library, label in (("ours", "climcopilot"), ("lean", "DAPPER lean"),
                               ("shipped", "DAPPER 1.7.1")):
            if not runs[library]:
                print(f"{name:15s} {label:12s} not run: {dapper.missing}")
                continue
            rmse = [r["rmse_a"] for r in runs[library]]
            wall = [r["wall_s"] for r in runs[library]]
            cpu = statistics.median(r["cpu_s"] for r in runs[library])
            ratios = ("" if library == "ours" else
                      f"{mine['wall_s'] / statistics.median(wall):.2f}, {mine['cpu_s'] / cpu:.2f}"
                      + (f" (target <= {target})" if library == "lean" else ""))
            print(f"{name:15s} {label:12s} {statistics.median(rmse):.3f} "
                  f"({', '.join(f'{v:.3f}' for v in rmse)}){'':4s} "
                  f"{statistics.median(wall):.3f} ({', '.join(f'{v:.2f}' for v in wall)}) "
                  f"{cpu:6.3f} {ratios}")
        truth = ", ".join(f"{label} {statistics.median(r['truth_s'] for r in runs[lib]):.2f} s"
                          for lib, label in (("ours", "ours"), ("lean", "DAPPER"))
                          if runs[lib])
        print(f"{'':15s} truth and observations (wall, median): {truth}")
        if runs["lean"]:
            same = [a["rmse_a"] == b["rmse_a"] for a, b in zip(runs["lean"], runs["shipped"])]
            print(f"{'':15s} lean rmse_a bit-identical to shipped: {all(same)}; published "
                  f"{published}")


def pf_divergences(dapper: Dapper, seeds: range = range(10)) -> None:
    """Seeds whose PF rmse_a exceeds PF_DIVERGED: ours at its defaults, DAPPER's tuned."""
    args, model, method, _, _ = CASES["PF N=100 (L63)"]
    mine = [ours(args, s)["rmse_a"] for s in seeds]
    print(f"\nPF N=100 on Lorenz-63, {len(seeds)} seeds, diverged = rmse_a > {PF_DIVERGED}:")
    print(f"  climcopilot (defaults): {sum(r > PF_DIVERGED for r in mine)} diverged; rmse_a "
          + ", ".join(f"{r:.3f}" for r in mine))
    if dapper.missing is None:
        theirs = [dapper.run(model, method, 3000 + s, lean=True)["rmse_a"] for s in seeds]
        print(f"  DAPPER {method}: {sum(r > PF_DIVERGED for r in theirs)} diverged; rmse_a "
              + ", ".join(f"{r:.3f}" for r in theirs))


def ensf_vs_letkf(dims: tuple[int, ...] = (100, 1000)) -> None:
    """Wall time per cycle (ms) of EnSF and LETKF, ``ENSF_CYCLES`` cycles per run after a run
    that traces the graphs; 3 runs each, interleaved; CPU and CUDA where present."""
    devices = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
    print(f"\nEnSF vs LETKF, wall ms per cycle (median of 3 interleaved runs of {ENSF_CYCLES} "
          "cycles; arctan obs, N 20, EnSF 200 SDE steps)")
    for device, dim in ((d, n) for d in devices for n in dims):
        runs: dict[str, list[float]] = {name: [] for name in ENSF_VS_LETKF}
        for rep in range(4):  # the first run of each traces its graphs and is not counted
            for name, method in ENSF_VS_LETKF.items():
                outcome = run_twin(TwinInput(**ENSF_SETUP, **method, Ko=ENSF_CYCLES, seed=rep,
                                             system_params={"N": dim}, device=device))
                if rep:
                    runs[name].append(1000 * outcome.wall_s / ENSF_CYCLES)
        medians = {name: statistics.median(times) for name, times in runs.items()}
        print(f"  {device:4s} {dim:5d} variables: " + ", ".join(
            f"{name} {medians[name]:.1f} ({', '.join(f'{t:.1f}' for t in runs[name])})"
            for name in runs) + f"; EnSF / LETKF {medians['EnSF'] / medians['LETKF']:.1f}")


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="cases whose name contains this (e.g. PF)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the Dask sweep")
    parser.add_argument("--no-divergences", action="store_true", help="skip the 10-seed PF runs")
    parser.add_argument("--no-ensf", action="store_true", help="skip EnSF vs LETKF")
    options = parser.parse_args()
    dapper = Dapper(os.environ.get("DAPPER_PYTHON", "/work/dapper-venv/bin/python"))
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, GPU: {torch.cuda.is_available()}, "
          f"load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}, torch "
          f"{torch.__version__}; DAPPER: {dapper.missing or 'dapper 1.7.1 worker'}")
    library = native.library()
    print("forecasts: " + (f"the compiled C RK4 steps ({library._name})" if library else
                           "the torch steps (no compiled C steps here: see the warning)"))
    try:
        compare(dapper, options.only)
        if not options.no_divergences:
            pf_divergences(dapper)
    finally:
        dapper.close()
    if not options.no_ensf:
        ensf_vs_letkf()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if options.no_sweep:
        return
    grid = SweepInput(methods=["etkf", "letkf"], Ns=[10, 20], infls=[1.02, 1.04],
                      seeds=[0, 1, 2], Ko=1000, loc_rad=4.0)
    one, two = sweep_seconds(1, grid), sweep_seconds(2, grid)
    print(f"\nsweep of 24 runs (etkf, letkf x N 10, 20 x infl 1.02, 1.04 x 3 seeds, Ko=1000): "
          f"1 worker {one:.1f} s, 2 workers {two:.1f} s, speed-up {one / two:.2f}x")


if __name__ == "__main__":
    main()
