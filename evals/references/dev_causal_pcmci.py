"""PCMCI and VAR-Granger decisions for the dev-set causal references, written against tigramite
and statsmodels directly (nothing from climcopilot). Imported by dev_causal_benchmarks.py and
dev_causal_indices.py beside it.

Conventions, as docs/causal.md states them: links are lagged (lag >= 1); p-values are
Benjamini-Hochberg corrected with cross-links (i != j) and self-links as separate families and
a link is kept when q < alpha; a graph is scored on its summary (i -> j at any lag, self-links
excluded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.api import VAR
from tigramite.data_processing import DataFrame
from tigramite.independence_tests.parcorr import ParCorr
from tigramite.pcmci import PCMCI


@dataclass
class Pcmci:
    """PCMCI result on N series: BH q-values and MCI values (N, N, tau_max + 1) and the kept
    lagged links ``significant`` (q < alpha, lag >= 1)."""

    q: np.ndarray
    value: np.ndarray
    significant: np.ndarray

    @property
    def summary(self) -> np.ndarray:
        """(N, N) bool: i -> j at some lag >= 1, i != j."""
        return self.significant[:, :, 1:].any(axis=2) & ~np.eye(self.q.shape[0], dtype=bool)


def pcmci(x: np.ndarray, tau_max: int, alpha: float = 0.05,
          pc_alpha: float | None = None) -> Pcmci:
    """PCMCI (ParCorr, analytic test) on x (T, N), p-values corrected by family."""
    engine = PCMCI(dataframe=DataFrame(x), cond_ind_test=ParCorr(significance="analytic"),
                   verbosity=0)
    res = engine.run_pcmci(tau_min=1, tau_max=tau_max, pc_alpha=pc_alpha, alpha_level=alpha,
                           fdr_method="none")
    q = np.asarray(res["p_matrix"], dtype=float).copy()
    self_link = np.broadcast_to(np.eye(x.shape[1], dtype=bool)[:, :, None], q.shape)
    lagged = np.zeros_like(q, dtype=bool)
    lagged[:, :, 1:] = True
    for family in (lagged & ~self_link, lagged & self_link):
        q[family] = multipletests(q[family], method="fdr_bh")[1]
    return Pcmci(q=q, value=np.asarray(res["val_matrix"], dtype=float),
                 significant=lagged & (q < alpha))


def pcmciplus_summary(x: np.ndarray, tau_max: int, alpha: float = 0.05) -> np.ndarray:
    """PCMCI+ (ParCorr, pc_alpha = alpha) on x (T, N): directed lagged summary adjacency."""
    engine = PCMCI(dataframe=DataFrame(x), cond_ind_test=ParCorr(significance="analytic"),
                   verbosity=0)
    graph = np.asarray(engine.run_pcmciplus(tau_min=0, tau_max=tau_max, pc_alpha=alpha)["graph"])
    return (graph[:, :, 1:] == "-->").any(axis=2) & ~np.eye(x.shape[1], dtype=bool)


def var_granger_summary(x: np.ndarray, max_lag: int, alpha: float = 0.05) -> np.ndarray:
    """Multivariate Granger: one VAR of all columns (order by AIC up to ``max_lag``, at least
    1), an F-test per ordered pair given all other series, BH over the pairs."""
    fit = VAR(x).fit(maxlags=max_lag, ic="aic")
    if fit.k_ar == 0:
        fit = VAR(x).fit(1)
    n = x.shape[1]
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    p = [fit.test_causality(j, [i], kind="f").pvalue for i, j in pairs]
    q = multipletests(p, method="fdr_bh")[1]
    summary = np.zeros((n, n), dtype=bool)
    for (i, j), qij in zip(pairs, q, strict=True):
        summary[i, j] = qij < alpha
    return summary


def pairwise_granger_summary(x: np.ndarray, max_lag: int, alpha: float = 0.05) -> np.ndarray:
    """Pairwise Granger: a two-series VAR per ordered pair (order by AIC up to ``max_lag``),
    the F-test of the cause's lags, BH over the pairs."""
    n = x.shape[1]
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    p = []
    for i, j in pairs:
        fit = VAR(x[:, [i, j]]).fit(maxlags=max_lag, ic="aic")
        fit = fit if fit.k_ar > 0 else VAR(x[:, [i, j]]).fit(1)
        p.append(fit.test_causality(1, [0], kind="f").pvalue)
    q = multipletests(p, method="fdr_bh")[1]
    summary = np.zeros((n, n), dtype=bool)
    for (i, j), qij in zip(pairs, q, strict=True):
        summary[i, j] = qij < alpha
    return summary


def tpr_fpr(truth: np.ndarray, found: np.ndarray) -> tuple[float, float]:
    """True- and false-positive rates of a summary graph over the ordered pairs i != j."""
    off = ~np.eye(truth.shape[0], dtype=bool)
    tp = (found & truth & off).sum()
    fp = (found & ~truth & off).sum()
    return float(tp / (truth & off).sum()), float(fp / (~truth & off).sum())
