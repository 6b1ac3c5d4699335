"""Reference for the dev tasks on Lorenz-96: leading exponent, Lyapunov and doubling times at
F = 10, 12 and 16 (40 sites), the Kaplan-Yorke dimension at F = 6 (40 sites) and with 60
sites at F = 8, and the long-run mean and std at F = 10.

dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F on a ring, own numpy RK4 (dt 0.05) and QR
method (dev_lyapunov_qr.py); nothing from climcopilot. 8 members x 400 MTU each after 2 x 20
MTU of spin-up and alignment (the tool's default averaging); the printed standard error is the
member spread / sqrt(8). The climate pools 8 members x 200 MTU, every step and site. F = 8 is
run too, as a check against the published 1.67 / 27.1. About 2-3 minutes on one shared core
(slow: the test runs it under ``-m slow``).
"""

import numpy as np
from dev_lyapunov_qr import kaplan_yorke, lyapunov_spectrum, mean_and_error, spin_up
from dev_report import report
from dev_systems import lorenz96, lorenz96_jvp

DT, TRANSIENT, DURATION, CLIMATE, MEMBERS = 0.05, 20.0, 400.0, 200.0, 8


def start(n: int, forcing: float, seed: int) -> np.ndarray:
    return forcing + np.random.default_rng(seed).standard_normal((MEMBERS, n))


def spectrum(n: int, forcing: float, n_exponents: int) -> np.ndarray:
    """Exponents (member, exponent) of Lorenz-96 with n sites and forcing F."""
    return lyapunov_spectrum(lorenz96(forcing), lorenz96_jvp, start(n, forcing, 1), DT,
                             n_exponents, TRANSIENT, DURATION)


for forcing in (8.0, 10.0, 12.0, 16.0):
    exps = spectrum(40, forcing, 40)
    lead, err = mean_and_error(exps[:, 0])
    dky = [kaplan_yorke(row) for row in exps]
    note = (f"N 40, F {forcing:g}: leading {lead:.4f} +- {err:.4f} /MTU, D_KY "
            f"{np.mean(dky):.2f}, sum {exps.sum(axis=1).mean():.3f} (exact -40)")
    if forcing == 8.0:
        print(f"check {note}; published 1.67 and 27.1")
    if forcing == 10.0:
        report("dev_l96_f10_followup", "leading", lead, note)
        report("dev_l96_f10_lyapunov_time_followup", "lyapunov_time", 1 / lead, "MTU")
    if forcing == 12.0:
        report("dev_l96_f12_lyapunov_terse", "leading", lead, note)
    if forcing == 16.0:
        report("dev_l96_f16_doubling_time", "doubling_time", np.log(2) / lead,
               f"MTU, ln 2 / leading; {note}")

exps = spectrum(40, 6.0, 40)
dky, err = mean_and_error([kaplan_yorke(row) for row in exps])
report("dev_l96_f6_kaplan_yorke", "kaplan_yorke_dim", dky,
       f"+- {err:.3f}; N 40, F 6: leading {exps[:, 0].mean():.4f}, sum "
       f"{exps.sum(axis=1).mean():.3f} (exact -40)")

exps = spectrum(60, 8.0, 60)
dky, err = mean_and_error([kaplan_yorke(row) for row in exps])
report("dev_l96_n60_kaplan_yorke", "kaplan_yorke_dim", dky,
       f"+- {err:.3f}; N 60, F 8: leading {exps[:, 0].mean():.4f}, sum "
       f"{exps.sum(axis=1).mean():.3f} (exact -60)")

x = spin_up(lorenz96(10.0), start(40, 10.0, 2), DT, TRANSIENT)
samples = []
for _ in range(int(CLIMATE / DT)):
    x = spin_up(lorenz96(10.0), x, DT, DT)
    samples.append(x)
states = np.stack(samples, axis=1)  # (member, time, site)
chunks = states.reshape(-1, int(50 / DT), 40)  # 50-MTU pieces: the spread of a short run
means, stds = chunks.mean(axis=(1, 2)), chunks.reshape(chunks.shape[0], -1).std(axis=1)
report("dev_l96_f10_climate", "mean", float(states.mean()),
       f"N 40, F 10, {MEMBERS} x {CLIMATE:g} MTU, every site and step pooled; std of the "
       f"means of {means.size} 50-MTU pieces {means.std(ddof=1):.3f}")
report("dev_l96_f10_climate", "std", float(states.std()),
       f"std of the 50-MTU pieces' stds {stds.std(ddof=1):.3f}")
