"""Own numpy RK4 and QR (Benettin) Lyapunov code for the dev-set emulator references; nothing
from climcopilot. Imported by dev_lorenz63.py and dev_lorenz96.py beside it.

A system is a tendency ``f(x)`` and its Jacobian-vector product ``jvp(x, V)`` on batched
states ``x`` (M, n) and tangent vectors ``V`` (M, n, k). The tangent map of one RK4 step is
RK4 applied to the linearised tendency, so the exponents are those of the RK4 map (they differ
from the flow's by O(dt^4)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Tendency = Callable[[np.ndarray], np.ndarray]
Jvp = Callable[[np.ndarray, np.ndarray], np.ndarray]


def rk4_step(f: Tendency, x: np.ndarray, dt: float) -> np.ndarray:
    """One classical RK4 step of dx/dt = f(x); x (M, n)."""
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4_tangent_step(f: Tendency, jvp: Jvp, x: np.ndarray, v: np.ndarray, dt: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """One RK4 step of the state x (M, n) and of its tangent vectors v (M, n, k)."""
    k1, l1 = f(x), jvp(x, v)
    x2, v2 = x + 0.5 * dt * k1, v + 0.5 * dt * l1
    k2, l2 = f(x2), jvp(x2, v2)
    x3, v3 = x + 0.5 * dt * k2, v + 0.5 * dt * l2
    k3, l3 = f(x3), jvp(x3, v3)
    x4, v4 = x + dt * k3, v + dt * l3
    k4, l4 = f(x4), jvp(x4, v4)
    return (x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4),
            v + dt / 6 * (l1 + 2 * l2 + 2 * l3 + l4))


def spin_up(f: Tendency, x: np.ndarray, dt: float, duration: float) -> np.ndarray:
    """States after ``duration`` MTU of free integration."""
    for _ in range(int(round(duration / dt))):
        x = rk4_step(f, x, dt)
    return x


def lyapunov_spectrum(f: Tendency, jvp: Jvp, x0: np.ndarray, dt: float, n_exponents: int,
                      transient: float, duration: float, seed: int = 0) -> np.ndarray:
    """Exponents (M, n_exponents), 1/MTU, descending, one row per member: the mean log of the
    diagonal of R from a QR decomposition after every RK4 step over ``duration`` MTU, after
    ``transient`` MTU of spin-up and ``transient`` more to align the tangent vectors."""
    rng = np.random.default_rng(seed)
    x = spin_up(f, x0, dt, transient)
    q, _ = np.linalg.qr(rng.standard_normal((x.shape[0], x.shape[1], n_exponents)))
    total = np.zeros((x.shape[0], n_exponents))
    n_align, n_steps = int(round(transient / dt)), int(round(duration / dt))
    for step in range(n_align + n_steps):
        x, v = rk4_tangent_step(f, jvp, x, q, dt)
        q, r = np.linalg.qr(v)
        if step >= n_align:
            total += np.log(np.abs(np.diagonal(r, axis1=1, axis2=2)))
    return total / (n_steps * dt)


def kaplan_yorke(exponents: np.ndarray) -> float:
    """Kaplan-Yorke dimension j + S_j / |lambda_{j+1}| of one descending spectrum, where j is
    the largest count whose partial sum S_j is still >= 0."""
    sums = np.cumsum(exponents)
    j = int(np.nonzero(sums >= 0)[0].max()) + 1 if sums[0] >= 0 else 0
    if j == exponents.size:
        return float(j)
    return j + float(sums[j - 1]) / abs(float(exponents[j])) if j else 0.0


def mean_and_error(per_member: np.ndarray) -> tuple[float, float]:
    """Mean over members and its standard error (member spread / sqrt(M))."""
    m = np.asarray(per_member, float)
    return float(m.mean()), float(m.std(ddof=1) / np.sqrt(m.size)) if m.size > 1 else 0.0
