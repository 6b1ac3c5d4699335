"""Benchmark generators: their truth graphs match their dynamics."""

from __future__ import annotations

import numpy as np
import pytest

from climcopilot.tools.causal.known_graphs import lorenz96, lorenz96_truth, make_system


def test_linear_var_truth_matches_least_squares_fit():
    """A least-squares VAR fit on a long run is large exactly where the truth has links."""
    bench = make_system("linear_var", T=20000, seed=2)
    x, n = bench.data, bench.data.shape[1]
    lags = 3
    design = np.column_stack([x[lags - k:-k] for k in range(1, lags + 1)])
    coef, *_ = np.linalg.lstsq(design, x[lags:], rcond=None)
    strength = np.abs(coef).reshape(lags, n, n).max(axis=0)  # [i, j]: x_i(t-k) -> x_j(t)
    off = ~np.eye(n, dtype=bool)
    assert (strength[bench.truth] > 0.1).all()
    assert (strength[off & ~bench.truth] < 0.05).all()


def test_uncoupled_rossler_has_no_links_and_oscillates():
    bench = make_system("rossler_uncoupled", T=400)
    assert not bench.truth.any()
    assert np.all(bench.data.std(axis=0) > 3)  # x amplitude of the Rossler attractor ~ 8
    # sampled every ~quarter period: autocorrelation ~ cos(pi/2) = 0 at lag 1, ~ cos(pi) at 2
    r1, r2 = ([np.corrcoef(c[:-k], c[k:])[0, 1] for c in bench.data.T] for k in (1, 2))
    assert np.all(np.abs(r1) < 0.3) and np.all(np.array(r2) < -0.6)


def test_lorenz96_truth_is_the_neighbour_rule():
    truth = lorenz96_truth(6)
    assert {i for i, j, _ in truth if j == 0} == {4, 5, 1}  # x_{-2}, x_{-1}, x_{+1} drive x_0
    assert len(truth) == 18


def test_lorenz96_from_the_shared_integrator():
    pytest.importorskip("climcopilot.tools.emulators.systems")
    bench = lorenz96(T=300, n_vars=8)
    assert bench.data.shape == (300, 8)
    assert 2.0 < bench.data.std() < 5.0  # F = 8: climatological std ~ 3.6
