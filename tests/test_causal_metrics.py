"""Graph metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np

from climcopilot.tools.causal.metrics import (
    auprc,
    auroc,
    confusion_rates,
    graph_metrics,
    tpr_at_fpr,
)


def test_auroc_extremes_and_ties():
    truth = np.array([True, True, False, False])
    assert auroc(truth, np.array([4.0, 3.0, 2.0, 1.0])) == 1.0
    assert auroc(truth, np.array([1.0, 2.0, 3.0, 4.0])) == 0.0
    assert auroc(truth, np.ones(4)) == 0.5
    # positives at 0.9, 0.4; negatives at 0.8, 0.1: 3 of 4 pairs ordered right
    assert auroc(truth, np.array([0.9, 0.4, 0.8, 0.1])) == 0.75
    assert math.isnan(auroc(np.zeros(4, dtype=bool), np.arange(4.0)))


def test_auprc_by_hand():
    truth = np.array([True, False, True, False])
    # ranking: T (P=1/1), F, T (P=2/3), F -> AP = (1 + 2/3) / 2
    assert np.isclose(auprc(truth, np.array([4.0, 3.0, 2.0, 1.0])), (1 + 2 / 3) / 2)


def test_tpr_at_fpr():
    truth = np.array([True, True, False, False, False, False])
    score = np.array([5.0, 1.2, 6.0, 1.0, 1.5, 0.5])  # negatives 6.0 and 1.5 outrank 1.2
    assert tpr_at_fpr(truth, score, 0.0) == 0.0
    assert tpr_at_fpr(truth, score, 0.25) == 0.5
    assert tpr_at_fpr(truth, score, 0.5) == 1.0


def test_confusion_rates_and_diagonal_ignored():
    truth = np.array([[True, True, False], [False, True, True], [False, False, True]])
    pred = np.array([[False, True, True], [False, False, True], [False, False, False]])
    rates = confusion_rates(truth[~np.eye(3, dtype=bool)], pred[~np.eye(3, dtype=bool)])
    assert rates == {"tpr": 1.0, "fpr": 0.25, "precision": 2 / 3, "f1": 0.8}
    m = graph_metrics(truth, pred, pred.astype(float))
    assert m["tpr"] == 1.0 and m["fpr"] == 0.25  # diagonal (self-links) not counted
