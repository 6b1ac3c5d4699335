"""Scores of a discovered summary graph against the truth (off-diagonal pairs only)."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata


def auroc(truth: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney form, ties count half); NaN without both classes."""
    pos, neg = score[truth], score[~truth]
    if pos.size == 0 or neg.size == 0:
        return math.nan
    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[:pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def auprc(truth: np.ndarray, score: np.ndarray) -> float:
    """Average precision: mean precision at the rank of each true link; NaN without positives."""
    if not truth.any():
        return math.nan
    order = np.argsort(-score, kind="stable")
    hits = truth[order]
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float(precision[hits].mean())


def tpr_at_fpr(truth: np.ndarray, score: np.ndarray, max_fpr: float) -> float:
    """Largest true-positive rate over score thresholds whose false-positive rate <= max_fpr."""
    pos, neg = score[truth], score[~truth]
    if pos.size == 0 or neg.size == 0:
        return math.nan
    best = 0.0
    for thr in np.unique(score):
        if np.mean(neg >= thr) <= max_fpr:
            best = max(best, float(np.mean(pos >= thr)))
    return best


def confusion_rates(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """TPR, FPR, precision and F1 of a predicted adjacency; NaN where undefined."""
    tp = int(np.sum(truth & predicted))
    fp = int(np.sum(~truth & predicted))
    fn = int(np.sum(truth & ~predicted))
    tn = int(np.sum(~truth & ~predicted))
    tpr = tp / (tp + fn) if tp + fn else math.nan
    precision = tp / (tp + fp) if tp + fp else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fn else math.nan
    return {"tpr": tpr, "fpr": fp / (fp + tn) if fp + tn else math.nan,
            "precision": precision, "f1": f1}


LOW_FPR = 0.05  # the false-positive rate at which methods are compared ("tpr_at_fpr5")


def graph_metrics(truth: np.ndarray, predicted: np.ndarray,
                  score: np.ndarray) -> dict[str, float]:
    """All metrics over the off-diagonal entries of (N, N) truth / predicted / score arrays.

    ``predicted`` is the method's decision at its default threshold (TPR, FPR, precision, F1);
    ``score`` ranks pairs (AUROC, AUPRC, TPR at FPR <= LOW_FPR).
    """
    off = ~np.eye(truth.shape[0], dtype=bool)
    t, p, s = truth[off], predicted[off], score[off]
    return {"auroc": auroc(t, s), "auprc": auprc(t, s), **confusion_rates(t, p),
            "tpr_at_fpr5": tpr_at_fpr(t, s, LOW_FPR)}
