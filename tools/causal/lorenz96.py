"""Lorenz-96 benchmark: x_i is driven by x_{i-2}, x_{i-1} and x_{i+1} (cyclic indices).

dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F. The integrator is the project's shared one
(:mod:`climcopilot.tools.emulators.systems`), so DA, emulators and causal discovery all see the
same dynamics.
"""

from __future__ import annotations

import numpy as np

from climcopilot.tools.base import ToolError
from climcopilot.tools.causal.systems import BenchmarkData


def lorenz96_truth(n: int) -> dict[tuple[int, int, int], float]:
    """True links (source, target, lag 1) -> 1.0: x_{j-2}, x_{j-1}, x_{j+1} drive x_j."""
    return {((j + d) % n, j, 1): 1.0 for j in range(n) for d in (-2, -1, 1)}


def lorenz96(T: int = 1000, seed: int = 0, n_vars: int = 10, forcing: float = 8.0,
             dt: float = 0.01, sample_every: int = 10) -> BenchmarkData:
    """One Lorenz-96 trajectory of T samples, every ``sample_every * dt`` model time units."""
    try:
        import torch

        from climcopilot.tools.emulators.systems import get_system, integrate
    except ImportError as exc:
        raise ToolError(f"the lorenz96 benchmark needs climcopilot.tools.emulators.systems "
                        f"({exc}); use another system until it is installed") from None
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
