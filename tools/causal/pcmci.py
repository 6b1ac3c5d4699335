"""PCMCI and PCMCI+ (Runge et al. 2019, Runge 2020) through tigramite, with pluggable CI tests."""

from __future__ import annotations

from typing import Literal

import numpy as np
from statsmodels.stats.multitest import multipletests
from tigramite.data_processing import DataFrame
from tigramite.independence_tests.cmiknn import CMIknn
from tigramite.independence_tests.parcorr import ParCorr
from tigramite.pcmci import PCMCI

from climcopilot.tools.causal.graph import LaggedGraph

CITest = Literal["parcorr", "cmiknn", "gpdc"]
Method = Literal["pcmci", "pcmciplus"]


def independence_test(name: CITest, seed: int = 0):
    """The tigramite conditional-independence test called ``name``.

    parcorr: linear partial correlation, analytic t-test (fast; linear Gaussian dependence).
    cmiknn: conditional mutual information, nearest-neighbour estimator with a local shuffle
    test (any dependence; slow, O(T log T) per test times the shuffle samples).
    gpdc: Gaussian-process regression + distance correlation (smooth nonlinear additive
    dependence; needs scikit-learn).
    """
    if name == "parcorr":
        return ParCorr(significance="analytic")
    if name == "cmiknn":
        # A fixed block length (5 steps) for the unconditional block-shuffle test: tigramite
        # 5.2.10 estimates it with np.corrcoef(..., ddof=0), which numpy >= 2.4 rejects.
        return CMIknn(significance="shuffle_test", knn=0.1, shuffle_neighbors=5,
                      sig_samples=200, sig_blocklength=5, seed=seed, workers=1)
    if name == "gpdc":
        from tigramite.independence_tests.gpdc import GPDC
        return GPDC(significance="analytic", seed=seed)
    raise ValueError(f"unknown independence test {name!r}")


def fdr_by_family(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of lagged links (lag >= 1), cross- and self-links apart.

    ``p`` (N, N, tau_max + 1). Cross-links (i != j, the hypotheses a user asks about) form one
    family and self-links (autodependence) another. In one pooled family, as tigramite pools
    them, the N * tau_max self-links of autocorrelated series (p ~ 0) raise the BH threshold of
    every cross-link: with N = 3 and tau_max = 3, three independent AR(1) series get a false
    cross-link in 5 of 25 realisations at q = 0.05 (0 of 25 with separate families). Lag-0
    entries stay uncorrected, as in tigramite.
    """
    q = p.copy()
    lagged = np.zeros(p.shape, dtype=bool)
    lagged[:, :, 1:] = True
    self_link = np.eye(p.shape[0], dtype=bool)[:, :, None]
    for family in (lagged & ~self_link, lagged & self_link):
        valid = family & np.isfinite(p)
        if valid.any():
            q[valid] = multipletests(p[valid], method="fdr_bh")[1]
    return q


def run_pcmci(x: np.ndarray, names: list[str], tau_max: int, tau_min: int = 1,
              test: CITest = "parcorr", method: Method = "pcmci", alpha: float = 0.05,
              fdr: bool = True, pc_alpha: float | None = None, max_conds_px: int | None = None,
              seed: int = 0) -> LaggedGraph:
    """Discover lagged (and with PCMCI+ contemporaneous) links among the columns of x (T, N).

    PCMCI: the PC1 step selects candidate parents of each variable (``pc_alpha``; None lets
    tigramite pick it by AIC for ParCorr), the MCI step tests every link conditioned on the
    parents of both ends; p-values are Benjamini-Hochberg corrected when ``fdr`` (cross- and
    self-links as separate families, :func:`fdr_by_family`) and links with corrected
    p < ``alpha`` are kept. ``max_conds_px`` caps how many of the driver's parents the MCI test
    conditions on (None = all, tigramite's default). PCMCI+: skeleton and orientation at
    ``pc_alpha`` (default ``alpha``), which also orients lag-0 links.
    """
    frame = DataFrame(x, var_names=list(names))
    engine = PCMCI(dataframe=frame, cond_ind_test=independence_test(test, seed), verbosity=0)
    notes = []
    if method == "pcmci":
        res = engine.run_pcmci(tau_min=tau_min, tau_max=tau_max, pc_alpha=pc_alpha,
                               max_conds_px=max_conds_px, alpha_level=alpha, fdr_method="none")
        if fdr:
            res["p_matrix"] = fdr_by_family(np.asarray(res["p_matrix"], dtype=float))
            res["graph"] = engine.get_graph_from_pmatrix(res["p_matrix"], alpha, tau_min,
                                                         tau_max)
        if tau_min == 0:
            notes.append("PCMCI leaves lag-0 links undirected (o-o); use PCMCI+ to orient them")
    else:
        res = engine.run_pcmciplus(tau_min=tau_min, tau_max=tau_max,
                                   pc_alpha=alpha if pc_alpha is None else pc_alpha)
        notes.append("PCMCI+ decides links at pc_alpha during the skeleton search; "
                     "its p-values are the largest over the tests made, not FDR-corrected")
    graph = np.asarray(res["graph"])
    directed = (graph == "-->") | (graph == "o-o") | (graph == "x-x")
    p = np.asarray(res["p_matrix"], dtype=float).copy()
    p[:, :, :tau_min] = np.nan
    kind = np.where(directed, graph, "")
    return LaggedGraph(names=list(names), value=np.asarray(res["val_matrix"], dtype=float),
                       p_value=p, significant=directed, method=f"{method}/{test}", kind=kind,
                       notes=notes)
