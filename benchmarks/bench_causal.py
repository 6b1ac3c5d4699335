"""Wall time of the causal-discovery methods, and the benchmark table of causal.benchmark.

Run: .venv/bin/python benchmarks/bench_causal.py [--quick]
Prints PCMCI (ParCorr) time for N = 10, 20, 40 variables at T = 1000, Koopman causality time,
the accuracy table (AUROC, AUPRC, F1, TPR, FPR, TPR at FPR <= 0.05) over the systems and a
sweep of the Rossler network's coupling, and per system whether PCMCI beats pairwise Granger
at FPR <= 0.05.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from climcopilot.tools.base import ToolContext
from climcopilot.tools.causal.known_graphs import linear_var, make_system
from climcopilot.tools.causal.koopman import koopman_causality
from climcopilot.tools.causal.pcmci import run_pcmci
from climcopilot.tools.registry import get_tool


def timed(func, *args, **kwargs) -> float:
    start = time.perf_counter()
    func(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 realisation, no Koopman row "
                        "for linear_var / lorenz96 in the table")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, GPU: {torch.cuda.is_available()}")

    print("\n| method | N | T | tau_max | seconds |\n|---|---|---|---|---|")
    for n in (10, 20, 40):
        bench = linear_var(T=1000, seed=0, n_vars=n, link_prob=1.5 / n)
        for pc_alpha in (0.2, None):
            if pc_alpha is None and n > 10:
                continue  # the AIC search over pc_alpha is too slow beyond N = 10
            sec = timed(run_pcmci, bench.data, bench.names, tau_max=3, pc_alpha=pc_alpha)
            print(f"| PCMCI ParCorr, pc_alpha={pc_alpha} | {n} | 1000 | 3 | {sec:.1f} |")
    for name in ("rossler", "linear_var"):
        bench = make_system(name, T=1000, seed=0)
        sec = timed(koopman_causality, bench.data, bench.names, lags=3)
        print(f"| Koopman (100 features, 99 surrogates) | {bench.data.shape[1]} | 1000 | 3 "
              f"| {sec:.1f} |")

    methods = ["pcmci", "granger_var", "granger_pairwise"]
    systems = ["linear_var", "coupled_logistic", "rossler", "rossler_weak_chain",
               "rossler_uncoupled", "lorenz96"]
    n_real = 1 if args.quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        ctx = ToolContext(workspace=Path(tmp))
        table = get_tool("causal.benchmark").run(
            {"systems": systems, "methods": methods, "n_realizations": n_real,
             "rossler_couplings": [0.06, 0.1, 0.15, 0.2]}, ctx)
        print(f"\n{n_real} realisations of T = 1000, tau_max = 3, alpha = 0.05 (FDR)\n")
        print(table.table)
        print(f"\nTPR at FPR <= 0.05, PCMCI vs pairwise Granger: {table.comparison}")
        koop_systems = ["coupled_logistic", "rossler", "rossler_weak_chain", "rossler_uncoupled"]
        if not args.quick:
            koop_systems += ["linear_var", "lorenz96"]
        koop = get_tool("causal.benchmark").run(
            {"systems": koop_systems, "methods": ["koopman"], "n_realizations": n_real}, ctx)
        print("\n" + "\n".join(koop.table.splitlines()[2:]))


if __name__ == "__main__":
    main()
