"""Granger causality: multivariate (conditional, VAR-based) and pairwise (bivariate)."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.api import VAR
from statsmodels.tsa.stattools import grangercausalitytests

from climcopilot.tools.causal.graph import LaggedGraph

Criterion = Literal["aic", "bic", "hqic", "fpe"]

PAIRWISE_WARNING = ("pairwise Granger conditions on no other variable: indirect links "
                    "(X->Y->Z reported as X->Z) and common drivers appear as causal links")


def select_lag(x: np.ndarray, max_lag: int, criterion: Criterion) -> int:
    """VAR order (time steps, 1..max_lag) of x (T, N) minimising the information criterion."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        order = VAR(x).select_order(max_lag).selected_orders[criterion]
    return max(1, int(order))


def _graph(names: list[str], max_lag: int, coef: np.ndarray, p_pair: np.ndarray,
           alpha: float, fdr: bool, method: str, notes: list[str]) -> LaggedGraph:
    """Assemble a LaggedGraph from per-lag coefficients (N, N, max_lag + 1) and pair p-values.

    The pair's joint p-value (over all lags of the model) is stored at every lag; the link is
    reported at the lag with the largest |coefficient|.
    """
    n = len(names)
    off = ~np.eye(n, dtype=bool)
    q = p_pair.copy()
    if fdr:
        q[off] = multipletests(p_pair[off], method="fdr_bh")[1]
    p = np.full((n, n, max_lag + 1), np.nan)
    p[:, :, 1:] = q[:, :, None]
    p[~off] = np.nan
    best = 1 + np.abs(coef[:, :, 1:]).argmax(axis=2)
    sig = np.zeros_like(p, dtype=bool)
    i, j = np.nonzero(off & (q < alpha))
    sig[i, j, best[i, j]] = True
    return LaggedGraph(names=names, value=coef, p_value=p, significant=sig, method=method,
                       notes=notes)


def var_granger(x: np.ndarray, names: list[str], max_lag: int, criterion: Criterion = "aic",
                alpha: float = 0.05, fdr: bool = True) -> LaggedGraph:
    """Conditional Granger causality in one VAR of all N series.

    The order p <= max_lag minimises ``criterion``; for each ordered pair i -> j an F-test
    (``VARResults.test_causality``) asks whether the p lags of x_i help predict x_j given the
    lags of all other series. p-values are Benjamini-Hochberg corrected over the N(N-1) pairs
    when ``fdr``.
    """
    n = x.shape[1]
    order = select_lag(x, max_lag, criterion)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = VAR(x).fit(order)
        p_pair = np.ones((n, n))
        for i in range(n):
            for j in range(n):
                if i != j:
                    p_pair[i, j] = fit.test_causality(j, [i], kind="f").pvalue
    coef = np.zeros((n, n, max_lag + 1))
    coef[:, :, 1:order + 1] = np.transpose(fit.coefs, (2, 1, 0))  # coefs[k, j, i] -> [i, j, k]
    notes = [f"VAR order {order} chosen by {criterion.upper()} (max {max_lag})"]
    return _graph(list(names), max_lag, coef, p_pair, alpha, fdr, "granger_var", notes)


def pairwise_granger(x: np.ndarray, names: list[str], max_lag: int,
                     criterion: Criterion = "aic", alpha: float = 0.05,
                     fdr: bool = True) -> LaggedGraph:
    """Bivariate Granger tests (``grangercausalitytests``, SSR F-test) for every ordered pair.

    Each pair gets its own order p <= max_lag by ``criterion`` on the 2-variable VAR. Reports
    indirect links too (see ``PAIRWISE_WARNING``); use it only as an explicit baseline.
    """
    n = x.shape[1]
    p_pair = np.ones((n, n))
    coef = np.zeros((n, n, max_lag + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                pair = x[:, [j, i]]  # grangercausalitytests: does column 2 cause column 1?
                order = select_lag(pair, max_lag, criterion)
                res = grangercausalitytests(pair, maxlag=[order])[order]
                p_pair[i, j] = res[0]["ssr_ftest"][1]
                params = res[1][1].params  # [own lags 1..p, cause lags 1..p, const]
                coef[i, j, 1:order + 1] = params[order:2 * order]
    return _graph(list(names), max_lag, coef, p_pair, alpha, fdr, "granger_pairwise",
                  [PAIRWISE_WARNING])
