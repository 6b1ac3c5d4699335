"""Reference for the dev causal tasks on benchmark systems with known graphs: the tigramite
tutorial process with PCMCI at tau_max 2, with PCMCI+ and with pairwise Granger; PCMCI on the
coupled logistic maps, on Lorenz-96 at tau_max 1, and on the linear VAR at alpha 0.01.

tigramite and statsmodels directly (dev_causal_pcmci.py); the generators are written here from
their description in docs/causal.md (nothing from climcopilot): the tutorial process with
tigramite's own toy-model generator (seed 42, T = 1000, as its basic tutorial); the other
systems over several realisations of our own generators, whose mean and spread are printed
for the tolerances. About 2 minutes on one shared core.
"""

from __future__ import annotations

import numpy as np
from dev_causal_pcmci import (
    pairwise_granger_summary,
    pcmci,
    pcmciplus_summary,
    tpr_fpr,
)
from dev_lyapunov_qr import spin_up
from dev_report import report
from dev_systems import lorenz96
from tigramite.toymodels.structural_causal_processes import structural_causal_process

T = 1000


def tutorial() -> tuple[np.ndarray, np.ndarray]:
    """tigramite's basic-tutorial process (X1 -> X0 lag 1, X3 -> X1 lag 1, X1 -> X2 lag 2,
    X3 -> X2 lag 3, AR self-links), seed 42: data (T, 4) and the true summary graph."""
    def lin(v):
        return v

    links = {0: [((0, -1), 0.7, lin), ((1, -1), -0.8, lin)],
             1: [((1, -1), 0.8, lin), ((3, -1), 0.8, lin)],
             2: [((2, -1), 0.5, lin), ((1, -2), 0.5, lin), ((3, -3), 0.6, lin)],
             3: [((3, -1), 0.4, lin)]}
    data, _ = structural_causal_process(links, T=T, seed=42)
    truth = np.zeros((4, 4), dtype=bool)
    for j, parents in links.items():
        for (i, _), _, _ in parents:
            truth[i, j] = i != j
    return np.asarray(data, float), truth


CHAIN_AND_FORK = {1: [0], 2: [1], 3: [0], 4: [3]}


def coupled_logistic(seed: int, coupling: float = 0.2, noise: float = 0.001
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Five logistic maps f(x) = 3.8 x (1 - x); x_j(t+1) = (1 - c) f(x_j) + c mean f(parents)
    + noise, on the chain 0 -> 1 -> 2 and the fork 0 -> 3 -> 4."""
    rng = np.random.default_rng(seed)
    burn = 500
    x = np.empty((T + burn, 5))
    x[0] = rng.uniform(0.1, 0.9, 5)
    for t in range(T + burn - 1):
        f = 3.8 * x[t] * (1 - x[t])
        drive = np.array([np.mean(f[CHAIN_AND_FORK[j]]) if j in CHAIN_AND_FORK else f[j]
                          for j in range(5)])
        x[t + 1] = np.clip((1 - coupling) * f + coupling * drive
                           + noise * rng.standard_normal(5), 1e-6, 1 - 1e-6)
    truth = np.zeros((5, 5), dtype=bool)
    for j, parents in CHAIN_AND_FORK.items():
        truth[parents, j] = True
    return x[burn:], truth


def lorenz96_benchmark(seed: int, n: int = 10, forcing: float = 8.0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz-96 (own RK4, dt 0.01) sampled every 0.1 MTU after 20 MTU: x_{j-2}, x_{j-1} and
    x_{j+1} drive x_j."""
    tendency = lorenz96(forcing)
    x = spin_up(tendency, forcing + np.random.default_rng(seed).standard_normal(n), 0.01, 20.0)
    out = []
    for _ in range(T):
        x = spin_up(tendency, x, 0.01, 0.1)
        out.append(x)
    truth = np.zeros((n, n), dtype=bool)
    for j in range(n):
        truth[[(j - 2) % n, (j - 1) % n, (j + 1) % n], j] = True
    return np.array(out), truth


def linear_var(seed: int, n: int = 10, p_link: float = 0.15, max_lag: int = 3
               ) -> tuple[np.ndarray, np.ndarray]:
    """Stable sparse VAR: AR(1) self-links U(0.3, 0.6); each ordered pair linked with
    probability 0.15 at a random lag 1-3, coefficient +-U(0.25, 0.5); all coefficients x 0.9
    until the companion matrix's spectral radius is < 0.95; unit Gaussian noise."""
    rng = np.random.default_rng(seed)
    a = np.zeros((max_lag, n, n))  # a[k-1, j, i]: x_i(t - k) -> x_j(t)
    a[0][np.diag_indices(n)] = rng.uniform(0.3, 0.6, n)
    truth = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(n):
            if i != j and rng.random() < p_link:
                a[rng.integers(0, max_lag), j, i] = rng.choice([-1, 1]) * rng.uniform(0.25, 0.5)
                truth[i, j] = True
    while True:
        companion = np.zeros((n * max_lag, n * max_lag))
        companion[:n] = np.concatenate(a, axis=1)
        companion[n:, :-n] = np.eye(n * (max_lag - 1))
        if np.abs(np.linalg.eigvals(companion)).max() < 0.95:
            break
        a *= 0.9
    x = np.zeros((T + 200, n))
    noise = rng.standard_normal(x.shape)
    for t in range(max_lag, T + 200):
        x[t] = sum(a[k] @ x[t - 1 - k] for k in range(max_lag)) + noise[t]
    return x[200:], truth


def scores(label: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
    tpr, fpr = np.array(runs).T
    print(f"  {label}: TPR {', '.join(f'{v:.3f}' for v in tpr)}; FPR "
          f"{', '.join(f'{v:.3f}' for v in fpr)}")
    return float(tpr.mean()), float(fpr.mean())


x, truth = tutorial()
for tau_max in (2, 3):
    tpr, fpr = tpr_fpr(truth, pcmci(x, tau_max).summary)
    print(f"  tutorial, PCMCI tau_max {tau_max}: TPR {tpr:.3f}, FPR {fpr:.3f}")
    if tau_max == 2:
        report("dev_causal_tutorial_tau_max2_followup", "truth_tpr", tpr,
               "4 true links; X3 -> X2 acts at lag 3 only")
        report("dev_causal_tutorial_tau_max2_followup", "truth_fpr", fpr, "8 absent pairs")
tpr, fpr = tpr_fpr(truth, pcmciplus_summary(x, 3))
report("dev_causal_tutorial_pcmciplus_followup", "truth_tpr", tpr,
       "PCMCI+, tau_max 3, pc_alpha 0.05")
report("dev_causal_tutorial_pcmciplus_followup", "truth_fpr", fpr)
found = pairwise_granger_summary(x, 3)
tpr, fpr = tpr_fpr(truth, found)
false = [f"X{i}->X{j}" for i, j in zip(*np.nonzero(found & ~truth), strict=True)]
report("dev_causal_tutorial_pairwise_granger", "truth_fpr", fpr,
       f"pairwise VAR Granger, max_lag 3 (AIC), BH over 12 pairs; false: {', '.join(false)}")
report("dev_causal_tutorial_pairwise_granger", "truth_tpr", tpr)

tpr, fpr = scores("coupled logistic, PCMCI tau_max 3, seeds 0-4",
                  [tpr_fpr(t, pcmci(d, 3).summary)
                   for d, t in (coupled_logistic(s) for s in range(5))])
report("dev_causal_logistic_pcmci", "truth_tpr", tpr, "mean of 5 realisations")
report("dev_causal_logistic_pcmci", "truth_fpr", fpr, "mean of 5 realisations")

tpr, fpr = scores("Lorenz-96 N 10, PCMCI tau_max 1, seeds 0-2",
                  [tpr_fpr(t, pcmci(d, 1).summary)
                   for d, t in (lorenz96_benchmark(s) for s in range(3))])
report("dev_causal_lorenz96_tau_max1_terse", "truth_tpr", tpr, "mean of 3 realisations")
scores("Lorenz-96 N 10, PCMCI tau_max 3 (the default, for contrast), seeds 0-2",
       [tpr_fpr(t, pcmci(d, 3).summary) for d, t in (lorenz96_benchmark(s) for s in range(3))])

tpr, fpr = scores("linear VAR, PCMCI tau_max 3 at alpha 0.01, seeds 0-4",
                  [tpr_fpr(t, pcmci(d, 3, alpha=0.01).summary)
                   for d, t in (linear_var(s) for s in range(5))])
report("dev_causal_linear_var_alpha001", "truth_fpr", fpr, "mean of 5 realisations")
report("dev_causal_linear_var_alpha001", "truth_tpr", tpr, "mean of 5 realisations")
