"""The Lorenz-63 and Lorenz-96 equations for the dev-set references, in numpy (nothing from
climcopilot): tendencies on batched states (..., n) and Jacobian-vector products on tangent
vectors (M, n, k), as dev_lyapunov_qr.py takes them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0


def lorenz63(s: np.ndarray) -> np.ndarray:
    """dx/dt = sigma (y - x), dy/dt = x (rho - z) - y, dz/dt = x y - beta z."""
    x, y, z = s[..., 0], s[..., 1], s[..., 2]
    return np.stack([SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z], axis=-1)


def lorenz63_jvp(s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """J(s) v for states s (M, 3) and tangent vectors v (M, 3, k)."""
    x, y, z = (s[:, i, None] for i in range(3))
    a, b, c = v[:, 0], v[:, 1], v[:, 2]
    return np.stack([SIGMA * (b - a), (RHO - z) * a - b - x * c, y * a + x * b - BETA * c],
                    axis=1)


def lorenz96(forcing: float) -> Callable[[np.ndarray], np.ndarray]:
    """dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F on a ring (the last axis)."""
    def tendency(x: np.ndarray) -> np.ndarray:
        return (np.roll(x, -1, -1) - np.roll(x, 2, -1)) * np.roll(x, 1, -1) - x + forcing
    return tendency


def lorenz96_jvp(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """J(x) v for states x (M, n) and tangent vectors v (M, n, k); the ring is axis -2 of v."""
    xs = x[..., None]
    return ((np.roll(v, -1, -2) - np.roll(v, 2, -2)) * np.roll(xs, 1, -2)
            + (np.roll(xs, -1, -2) - np.roll(xs, 2, -2)) * np.roll(v, 1, -2) - v)
