"""Reference for the dev tasks on the Kuramoto-Sivashinsky equation u_t = -u u_x - u_xx - u_xxxx
on a periodic domain: the leading Lyapunov exponent at L = 44, and the error-doubling time at
L = 22 (ln 2 over the published exponent, checked here).

Own numpy ETDRK4 (Cox & Matthews 2002) with the contour-integral coefficients of Kassam &
Trefethen (2005, their kursiv.m: 32 points on a circle of radius 1), N = 64 grid points,
dt = 0.25; nothing from climcopilot. The leading exponent is the mean log growth per step of
a tangent vector propagated by central differences of the step (relative size 1e-6) and
renormalised every step, over 8 members x 3000 time units after 300 of spin-up. About a
minute on one shared core.
"""

import numpy as np
from dev_lyapunov_qr import mean_and_error
from dev_report import report

N_GRID, DT, TRANSIENT, DURATION, MEMBERS = 64, 0.25, 300.0, 3000.0, 8


def etdrk4(length: float):
    """The ETDRK4 step of KS on [0, length) for batched real fields u (M, N_GRID)."""
    k = 2 * np.pi * np.fft.rfftfreq(N_GRID, d=length / N_GRID)
    k[-1] = 0.0  # the Nyquist mode is dropped
    lin = k**2 - k**4
    e, e2 = np.exp(DT * lin), np.exp(DT * lin / 2)
    roots = np.exp(1j * np.pi * (np.arange(1, 33) - 0.5) / 32)
    lr = DT * lin[:, None] + roots[None, :]
    q = DT * np.real(np.mean((np.exp(lr / 2) - 1) / lr, axis=1))
    f1 = DT * np.real(np.mean((-4 - lr + np.exp(lr) * (4 - 3 * lr + lr**2)) / lr**3, axis=1))
    f2 = DT * np.real(np.mean((2 + lr + np.exp(lr) * (-2 + lr)) / lr**3, axis=1))
    f3 = DT * np.real(np.mean((-4 - 3 * lr - lr**2 + np.exp(lr) * (4 - lr)) / lr**3, axis=1))
    g = -0.5j * k
    keep = np.ones_like(k)
    keep[-1] = 0.0

    def nonlinear(v: np.ndarray) -> np.ndarray:
        return g * np.fft.rfft(np.fft.irfft(v, n=N_GRID) ** 2)

    def step(u: np.ndarray) -> np.ndarray:
        v = np.fft.rfft(u) * keep
        nv = nonlinear(v)
        a = e2 * v + q * nv
        na = nonlinear(a)
        b = e2 * v + q * na
        nb = nonlinear(b)
        c = e2 * a + q * (2 * nb - nv)
        nc = nonlinear(c)
        v = e * v + nv * f1 + 2 * (na + nb) * f2 + nc * f3
        return np.fft.irfft(v * keep, n=N_GRID)

    return step


def leading_exponent(length: float, seed: int = 0) -> np.ndarray:
    """Leading exponent (1/time unit) of each member."""
    step = etdrk4(length)
    rng = np.random.default_rng(seed)
    x = np.linspace(0, length, N_GRID, endpoint=False)
    u = (np.cos(2 * np.pi * x / length) * (1 + np.sin(2 * np.pi * x / length))
         + 0.1 * rng.standard_normal((MEMBERS, N_GRID)))
    u -= u.mean(axis=1, keepdims=True)
    for _ in range(int(TRANSIENT / DT)):
        u = step(u)
    v = rng.standard_normal(u.shape)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    growth = np.zeros(MEMBERS)
    n_align, n_steps = int(TRANSIENT / DT), int(DURATION / DT)
    for i in range(n_align + n_steps):
        eps = 1e-6 * np.linalg.norm(u, axis=1, keepdims=True)
        v = (step(u + eps * v) - step(u - eps * v)) / (2 * eps)
        u = step(u)
        size = np.linalg.norm(v, axis=1)
        v /= size[:, None]
        if i >= n_align:
            growth += np.log(size)
    return growth / (n_steps * DT)


lead22, err22 = mean_and_error(leading_exponent(22.0))
print(f"check: L = 22 leading {lead22:.4f} +- {err22:.4f} (published 0.043 Edson et al. 2019 to "
      f"0.048 Cvitanovic et al. 2010)")
report("dev_ks_doubling_followup", "doubling_time", np.log(2) / 0.0455,
       f"time units, ln 2 / 0.0455 (mid of the published range); from this run "
       f"{np.log(2) / lead22:.2f}")
lead44, err44 = mean_and_error(leading_exponent(44.0))
report("dev_ks_l44_lyapunov_terse", "leading", lead44,
       f"+- {err44:.4f} (member spread / sqrt({MEMBERS})), L = 44, N = {N_GRID}, dt {DT}")
