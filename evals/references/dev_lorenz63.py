"""Reference for the dev tasks on Lorenz-63 (sigma 10, rho 28, beta 8/3): the long-run mean
and std of z, the mean of x, and the error-doubling time.

Own numpy RK4 (dt 0.01) and QR method (dev_lyapunov_qr.py); nothing from climcopilot.
Statistics pool 16 members x 500 MTU after 20 MTU of spin-up; the spread of 50-MTU pieces
(the tool's default run: one member, 50 MTU) is printed for the tolerances. The leading
exponent (8 members x 400 MTU) checks the published 0.9056 (Sprott 2003) that the doubling
time ln 2 / lambda_1 is taken from. About 30 s on one shared core.
"""

import numpy as np
from dev_lyapunov_qr import lyapunov_spectrum, mean_and_error, rk4_step, spin_up
from dev_report import report
from dev_systems import BETA, SIGMA, lorenz63, lorenz63_jvp

DT = 0.01

rng = np.random.default_rng(3)
state = spin_up(lorenz63, rng.normal(0.0, 5.0, (16, 3)) + [0.0, 0.0, 25.0], DT, 20.0)
steps = int(500 / DT)
trajectory = np.empty((16, steps, 3))
for t in range(steps):
    state = rk4_step(lorenz63, state, DT)
    trajectory[:, t] = state
pieces = trajectory.reshape(16 * 10, int(50 / DT), 3)  # 50-MTU pieces
for task, name, column, stat in (("dev_l63_mean_z", "mean_z", 2, np.mean),
                                 ("dev_l63_std_z_followup", "std_z", 2, np.std),
                                 ("dev_l63_mean_x_terse", "mean_x", 0, np.mean)):
    per_piece = stat(pieces[..., column], axis=1)
    report(task, name, float(stat(trajectory[..., column])),
           f"16 x 500 MTU pooled; spread (std) of 50-MTU pieces {per_piece.std(ddof=1):.3f}, "
           f"largest deviation {np.abs(per_piece - stat(trajectory[..., column])).max():.3f}")

exps = lyapunov_spectrum(lorenz63, lorenz63_jvp, state[:8], DT, 3, 10.0, 400.0)
lead, err = mean_and_error(exps[:, 0])
print(f"check: leading {lead:.4f} +- {err:.4f} /MTU (published 0.9056), sum "
      f"{exps.sum(axis=1).mean():.4f} (exact {-(SIGMA + 1 + BETA):.4f})")
report("dev_l63_doubling_time", "doubling_time", np.log(2) / 0.9056,
       f"MTU, ln 2 / 0.9056 (published); from this run's exponent {np.log(2) / lead:.4f}")
