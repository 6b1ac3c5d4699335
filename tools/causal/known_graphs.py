"""Benchmark systems with known causal graphs (linear VAR, logistic maps, Rossler networks,
the tigramite tutorial process, Lorenz-96).

Each generator returns a :class:`BenchmarkData`: series (T, N) and the true summary graph
``truth[i, j]`` = "x_i drives x_j at some lag >= 1" (self-links excluded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class BenchmarkData:
    """A realisation of a benchmark system: ``data`` (T, N), ``truth`` (N, N) bool."""

    name: str
    data: np.ndarray
    names: list[str]
    truth: np.ndarray
    description: str
    lagged_truth: dict[tuple[int, int, int], float] | None = None  # (i, j, lag) -> coefficient


def _summary(n: int, links: dict[tuple[int, int, int], float]) -> np.ndarray:
    truth = np.zeros((n, n), dtype=bool)
    for i, j, _ in links:
        truth[i, j] = i != j
    return truth


def linear_var(T: int = 1000, seed: int = 0, n_vars: int = 10, link_prob: float = 0.15,
               max_lag: int = 3) -> BenchmarkData:
    """Stable linear VAR with a random sparse graph and Gaussian unit noise.

    Each variable has an AR(1) self-link in [0.3, 0.6]; each ordered pair is linked with
    probability ``link_prob`` at a random lag 1..max_lag with coefficient +-[0.25, 0.5].
    Coefficients are shrunk until the companion matrix has spectral radius < 0.95.
    """
    rng = np.random.default_rng(seed)
    links = {(j, j, 1): rng.uniform(0.3, 0.6) for j in range(n_vars)}
    for i in range(n_vars):
        for j in range(n_vars):
            if i != j and rng.random() < link_prob:
                links[i, j, int(rng.integers(1, max_lag + 1))] = (
                    rng.choice([-1, 1]) * rng.uniform(0.25, 0.5))
    while True:
        a = np.zeros((max_lag, n_vars, n_vars))  # a[k-1, j, i]: x_i(t-k) -> x_j(t)
        for (i, j, k), c in links.items():
            a[k - 1, j, i] = c
        companion = np.zeros((n_vars * max_lag, n_vars * max_lag))
        companion[:n_vars] = np.concatenate(a, axis=1)
        companion[n_vars:, :-n_vars] = np.eye(n_vars * (max_lag - 1))
        if np.abs(np.linalg.eigvals(companion)).max() < 0.95:
            break
        links = {key: 0.9 * c for key, c in links.items()}
    burn = 200
    x = np.zeros((T + burn, n_vars))
    noise = rng.standard_normal(x.shape)
    for t in range(max_lag, T + burn):
        x[t] = sum(a[k] @ x[t - 1 - k] for k in range(max_lag)) + noise[t]
    return BenchmarkData("linear_var", x[burn:], [f"X{i}" for i in range(n_vars)],
                         _summary(n_vars, links),
                         f"linear VAR({max_lag}), {n_vars} variables, random sparse graph",
                         links)


CHAIN_AND_FORK: dict[int, list[int]] = {0: [], 1: [0], 2: [1], 3: [0], 4: [3]}
"""Parents of each node: a chain 0->1->2 and a fork 0->3->4, so the graph holds indirect links
(0->2, 0->4) and a common driver (0 of 1 and 3), the two traps of pairwise methods."""
CHAIN_OF_THREE: dict[int, list[int]] = {0: [], 1: [0], 2: [1]}
"""Parents of each node of the chain 0->1->2."""


def _links(parents: dict[int, list[int]], coupling: float) -> dict[tuple[int, int, int], float]:
    """Lag-1 links (i, j, 1) -> coupling / number of parents of j."""
    return {(i, j, 1): coupling / len(ps) for j, ps in parents.items() for i in ps}


def coupled_logistic(T: int = 1000, seed: int = 0, coupling: float = 0.2,
                     noise: float = 0.001) -> BenchmarkData:
    """Five chaotic logistic maps (r = 3.8) coupled on ``CHAIN_AND_FORK`` (lag 1).

    x_j(t+1) = (1 - c) f(x_j(t)) + c * mean_{i in parents(j)} f(x_i(t)) + noise,
    f(x) = r x (1 - x); the dynamic noise (std ``noise``) prevents synchronisation locks.
    """
    rng = np.random.default_rng(seed)
    parents = CHAIN_AND_FORK
    n, burn = len(parents), 500
    x = np.empty((T + burn, n))
    x[0] = rng.uniform(0.1, 0.9, n)
    for t in range(T + burn - 1):
        f = 3.8 * x[t] * (1 - x[t])
        for j, ps in parents.items():
            drive = np.mean(f[ps]) if ps else f[j]
            x[t + 1, j] = (1 - coupling) * f[j] + coupling * drive
        x[t + 1] = np.clip(x[t + 1] + noise * rng.standard_normal(n), 1e-6, 1 - 1e-6)
    links = _links(parents, coupling)
    return BenchmarkData("coupled_logistic", x[burn:], [f"L{i}" for i in range(n)],
                         _summary(n, links),
                         f"5 coupled logistic maps, r=3.8, coupling {coupling}", links)


def _rossler_rhs(s: np.ndarray, omega: np.ndarray, adjacency: np.ndarray,
                 coupling: float) -> np.ndarray:
    """Time derivative of K Rossler oscillators s (K, 3); x-diffusive coupling i -> j."""
    x, y, z = s.T
    inflow = adjacency.T @ x - adjacency.sum(axis=0) * x
    return np.column_stack([-omega * y - z + coupling * inflow,
                            omega * x + 0.15 * y,
                            0.2 + z * (x - 10.0)])


def rossler(T: int = 1000, seed: int = 0, coupling: float = 0.15,
            parents: dict[int, list[int]] = CHAIN_AND_FORK, dt: float = 0.025,
            sample_every: int = 60, dynamic_noise: float = 0.5,
            name: str = "rossler") -> BenchmarkData:
    """Stochastic Rossler oscillators (a=0.15, b=0.2, c=10), x-coupled along ``parents``.

    Oscillator j feels ``coupling * (x_i - x_j)`` from each parent i. RK4 with step ``dt``
    (time units) plus white dynamic noise of intensity ``dynamic_noise`` on x and y (std
    ``dynamic_noise * sqrt(dt)`` per step), sampled every ``sample_every`` steps, with
    observation noise of std 0.05; frequencies omega_k spread evenly in [0.9, 1.1].

    The defaults sample every 1.5 time units, about a quarter of the mean period (2 pi / omega
    ~ 6.3): the usual delay-embedding interval (first zero of the autocorrelation), so lags
    1..3 reconstruct each oscillator's phase and amplitude. The dynamic noise makes the process
    stochastic, as PCMCI and Granger assume: noiseless coupled oscillators
    (``dynamic_noise=0``) partly synchronise and every method then reports reverse links too.
    At the default coupling 0.15 neighbours are partly phase-locked and indirect links carry
    signal; :func:`rossler_weak_chain` is the weakly coupled regime (docs/causal.md compares).
    """
    rng = np.random.default_rng(seed)
    k = len(parents)
    adjacency = np.zeros((k, k))
    for j, ps in parents.items():
        adjacency[ps, j] = 1.0
    omega = np.linspace(0.9, 1.1, k)
    s = np.column_stack([rng.uniform(-5, 5, k), rng.uniform(-5, 5, k), rng.uniform(0, 1, k)])
    burn = 100
    out = np.empty((T + burn, k))
    f = lambda v: _rossler_rhs(v, omega, adjacency, coupling)  # noqa: E731
    kick = dynamic_noise * np.sqrt(dt)
    for t in range(T + burn):
        for _ in range(sample_every):
            k1 = f(s)
            k2 = f(s + 0.5 * dt * k1)
            k3 = f(s + 0.5 * dt * k2)
            k4 = f(s + dt * k3)
            s = s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            s[:, :2] += kick * rng.standard_normal((k, 2))
        out[t] = s[:, 0]
    x = out[burn:] + 0.05 * rng.standard_normal((T, k))
    links = _links(parents, coupling) if coupling > 0 else {}
    graph = ", ".join(f"{i}->{j}" for i, j, _ in links) or "no links"
    return BenchmarkData(name, x, [f"R{i}" for i in range(k)], _summary(k, links),
                         f"{k} stochastic Rossler oscillators, x-coupling {coupling:g} "
                         f"({graph}), dynamic noise {dynamic_noise:g}, sampled every "
                         f"{sample_every * dt:g} time units", links)


def rossler_weak_chain(T: int = 1000, seed: int = 0) -> BenchmarkData:
    """Three Rossler oscillators weakly x-coupled (0.06) in the chain 0->1->2.

    Too weak for the indirect link 0->2 to show: the regime where pairwise Granger does better
    than PCMCI (docs/causal.md).
    """
    return rossler(T=T, seed=seed, coupling=0.06, parents=CHAIN_OF_THREE,
                   name="rossler_weak_chain")


def rossler_uncoupled(T: int = 1000, seed: int = 0) -> BenchmarkData:
    """Three uncoupled Rossler oscillators: no links; a known trap for cross-mapping methods."""
    return rossler(T=T, seed=seed, coupling=0.0, parents=CHAIN_OF_THREE,
                   name="rossler_uncoupled")


def tigramite_tutorial(T: int = 1000, seed: int = 42) -> BenchmarkData:
    """The 4-variable linear process of tigramite's basic tutorial, generated by tigramite.

    X0 <- 0.7 X0(t-1) - 0.8 X1(t-1); X1 <- 0.8 X1(t-1) + 0.8 X3(t-1);
    X2 <- 0.5 X2(t-1) + 0.5 X1(t-2) + 0.6 X3(t-3); X3 <- 0.4 X3(t-1); unit Gaussian noise.
    """
    from tigramite.toymodels.structural_causal_processes import structural_causal_process

    links = {(0, 0, 1): 0.7, (1, 0, 1): -0.8, (1, 1, 1): 0.8, (3, 1, 1): 0.8,
             (2, 2, 1): 0.5, (1, 2, 2): 0.5, (3, 2, 3): 0.6, (3, 3, 1): 0.4}
    spec: dict[int, list] = {j: [] for j in range(4)}
    for (i, j, lag), c in links.items():
        spec[j].append(((i, -lag), c, _identity))
    data, _ = structural_causal_process(spec, T=T, seed=seed)
    return BenchmarkData("tigramite_tutorial", np.asarray(data, dtype=float),
                         [f"X{i}" for i in range(4)], _summary(4, links),
                         "tigramite tutorial 4-variable linear SCM", links)


def _identity(x: np.ndarray) -> np.ndarray:
    return x



def lorenz96_truth(n: int) -> dict[tuple[int, int, int], float]:
    """True links (source, target, lag 1) -> 1.0: x_{j-2}, x_{j-1}, x_{j+1} drive x_j."""
    return {((j + d) % n, j, 1): 1.0 for j in range(n) for d in (-2, -1, 1)}


def lorenz96(T: int = 1000, seed: int = 0, n_vars: int = 10, forcing: float = 8.0,
             dt: float = 0.01, sample_every: int = 10) -> BenchmarkData:
    """One Lorenz-96 trajectory of T samples, every ``sample_every * dt`` model time units."""
    import torch  # the shared integrator: DA, emulators and causal discovery see one L96

    from climcopilot.tools.emulators.catalog import get_system
    from climcopilot.tools.emulators.systems import integrate

    rng = np.random.default_rng(seed)
    system = get_system("lorenz96", N=n_vars, F=forcing)
    x0 = torch.as_tensor(forcing + rng.standard_normal(n_vars), dtype=torch.float64)
    burn = 200
    traj = integrate(system, x0, dt, (T + burn) * sample_every, every=sample_every)
    x = np.asarray(traj, dtype=float)[-T:]
    links = lorenz96_truth(n_vars)
    truth = np.zeros((n_vars, n_vars), dtype=bool)
    for i, j, _ in links:
        truth[i, j] = True
    return BenchmarkData("lorenz96", x, [f"x{i}" for i in range(n_vars)], truth,
                         f"Lorenz-96, N={n_vars}, F={forcing:g}, sampled every "
                         f"{sample_every * dt:g} time units", links)


SYSTEMS: dict[str, Callable[..., BenchmarkData]] = {
    "linear_var": linear_var,
    "coupled_logistic": coupled_logistic,
    "rossler": rossler,
    "rossler_weak_chain": rossler_weak_chain,
    "rossler_uncoupled": rossler_uncoupled,
    "tigramite_tutorial": tigramite_tutorial,
    "lorenz96": lorenz96,
}


def make_system(name: str, T: int = 1000, seed: int = 0) -> BenchmarkData:
    """One realisation of the benchmark system ``name`` with T samples."""
    return SYSTEMS[name](T=T, seed=seed)
