"""Koopman (EDMD) causality: does lifting the candidate cause improve the target's linear dynamics?

For target j and candidate cause i, the state observables are delay vectors of the series
(lags 1..L, standardised) lifted by random Fourier features (a random-feature dictionary
for EDMD). The target coordinate is in the dictionary, so the row of the least-squares Koopman
matrix that advances x_j one step is a ridge regression of x_j(t) on the observables at t-1.
The statistic is log(MSE without the cause's observables / MSE with them). Its null
distribution comes from time-shift surrogates of x_i (circular shifts by 10-90 % of the record),
which keep every series' own dynamics and break only the i-j alignment, so two uncoupled
oscillators are no more "causal" than a shifted copy of themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests
from threadpoolctl import threadpool_limits

from climcopilot.tools.causal.graph import LaggedGraph


def delay_embed(x: np.ndarray, lags: int) -> np.ndarray:
    """Rows t = lags..T-1 of [x(t-1), ..., x(t-lags)] for x (T, k): shape (T - lags, k * lags)."""
    t = x.shape[0]
    return np.concatenate([x[lags - k:t - k] for k in range(1, lags + 1)], axis=1)


@dataclass(frozen=True)
class RandomFourierFeatures:
    """Observables sqrt(2/D) cos(z W + b) with W ~ N(0, 1/bandwidth^2): z (n, d) -> (n, D)."""

    weights: np.ndarray
    phases: np.ndarray

    @classmethod
    def draw(cls, dim: int, n_features: int, rng: np.random.Generator) -> RandomFourierFeatures:
        bandwidth = np.sqrt(dim)  # median distance of standardised d-dimensional points ~ sqrt(d)
        return cls(rng.standard_normal((dim, n_features)) / bandwidth,
                   rng.uniform(0, 2 * np.pi, n_features))

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return np.sqrt(2.0 / self.phases.size) * np.cos(z @ self.weights + self.phases)


def one_step_mse(observables: np.ndarray, target: np.ndarray, ridge: float = 1e-3) -> float:
    """Mean squared one-step error of the least-squares (ridge) Koopman row for ``target``."""
    phi = np.column_stack([np.ones(len(target)), observables])
    gram = phi.T @ phi
    gram[np.diag_indices_from(gram)] += ridge * np.trace(gram) / gram.shape[0]
    beta = np.linalg.solve(gram, phi.T @ target)
    return float(np.mean((target - phi @ beta) ** 2))


@dataclass(frozen=True)
class PairTest:
    """Statistic for one target given its conditioning series: reusable across causes/shifts."""

    base: np.ndarray      # (n, .) observables without the cause
    base_state: np.ndarray  # (n, .) delay vectors of the conditioning series
    target: np.ndarray    # (n,) x_j(t)
    base_mse: float
    joint: RandomFourierFeatures
    lags: int

    def score(self, cause: np.ndarray, lag_mask: np.ndarray | None = None) -> float:
        """log(MSE without / MSE with) the observables of ``cause`` (T,) at lags 1..L."""
        emb = delay_embed(cause[:, None], self.lags)
        if lag_mask is not None:
            emb = emb * lag_mask
        lifted = self.joint(np.column_stack([self.base_state, emb]))
        return float(np.log(self.base_mse / one_step_mse(
            np.column_stack([self.base, emb, lifted]), self.target)))


def _pair_test(z: np.ndarray, j: int, cond: list[int], lags: int, n_features: int,
               rng: np.random.Generator) -> PairTest:
    state = delay_embed(z[:, cond], lags)
    own = RandomFourierFeatures.draw(state.shape[1], n_features, rng)
    joint = RandomFourierFeatures.draw(state.shape[1] + lags, n_features, rng)
    base = np.column_stack([state, own(state)])
    target = z[lags:, j]
    return PairTest(base, state, target, one_step_mse(base, target), joint, lags)


def koopman_causality(x: np.ndarray, names: list[str], lags: int = 3, n_features: int = 100,
                      n_surrogates: int = 99, conditional: bool = False, alpha: float = 0.05,
                      fdr: bool = True, seed: int = 0) -> LaggedGraph:
    """Direction-specific Koopman causality scores and surrogate p-values for x (T, N).

    ``lags``: delay-embedding depth L (time steps); ``n_features``: random Fourier features per
    dictionary; ``conditional``: also give the target model every other series (removes indirect
    and common-driver links, costs a wider dictionary). ``value[i, j, k]`` (k = 1..L) is the
    statistic with the cause seen at lag k only, minus the surrogate median; a significant link
    is reported at its best lag. The p-value is the upper Gaussian tail of the statistic's z-score
    against the surrogates (a rank p-value could not go below 1 / (1 + n_surrogates), too coarse
    for FDR over many pairs); Benjamini-Hochberg over the N(N-1) pairs when ``fdr``.
    """
    with threadpool_limits(1, user_api="blas"):  # many small solves: threads only contend
        return _koopman_causality(x, names, lags, n_features, n_surrogates, conditional, alpha,
                                  fdr, seed)


def _koopman_causality(x: np.ndarray, names: list[str], lags: int, n_features: int,
                       n_surrogates: int, conditional: bool, alpha: float, fdr: bool,
                       seed: int) -> LaggedGraph:
    rng = np.random.default_rng(seed)
    t, n = x.shape
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    lo, hi = max(lags + 1, t // 10), max(lags + 2, 9 * t // 10)
    p_pair = np.ones((n, n))
    stat = np.zeros((n, n))
    null_median = np.zeros((n, n))
    tests: dict[tuple[int, int], PairTest] = {}
    for j in range(n):
        shared = None if conditional else _pair_test(z, j, [j], lags, n_features, rng)
        for i in range(n):
            if i == j:
                continue
            cond = [k for k in range(n) if k != i] if conditional else [j]
            test = shared or _pair_test(z, j, cond, lags, n_features, rng)
            tests[i, j] = test
            stat[i, j] = test.score(z[:, i])
            null = np.array([test.score(np.roll(z[:, i], s))
                             for s in rng.integers(lo, hi, n_surrogates)])
            null_median[i, j] = np.median(null)
            spread = max(float(null.std(ddof=1)), 1e-12)
            p_pair[i, j] = norm.sf((stat[i, j] - null.mean()) / spread)
    off = ~np.eye(n, dtype=bool)
    q = p_pair.copy()
    if fdr:
        q[off] = multipletests(p_pair[off], method="fdr_bh")[1]
    value = np.zeros((n, n, lags + 1))
    p = np.full((n, n, lags + 1), np.nan)
    sig = np.zeros_like(p, dtype=bool)
    for (i, j), test in tests.items():
        p[i, j, 1:] = q[i, j]
        for k in range(1, lags + 1):
            value[i, j, k] = test.score(z[:, i], np.eye(lags)[k - 1]) - null_median[i, j]
        if q[i, j] < alpha:
            sig[i, j, 1 + int(np.argmax(value[i, j, 1:]))] = True
    notes = [f"Koopman/EDMD with {n_features} random Fourier features per dictionary, delay "
             f"depth {lags}, {n_surrogates} time-shift surrogates per pair; "
             + ("conditional on all other series" if conditional else
                "bivariate: indirect and common-driver links may appear")]
    return LaggedGraph(names=list(names), value=value, p_value=p, significant=sig,
                       method="koopman", notes=notes)
