"""Lyapunov spectra by the QR (Benettin) method, with the tangent linear model from autograd.

The tangent linear model of one step is :meth:`DynamicalSystem.tangent_step`: for RK4, RK4
applied to the tendency and its Jacobian-vector products (analytic for the built-in systems,
forward-mode autograd otherwise); for the PDEs, ETDRK4's own linearisation. All tangent vectors
go through one batched pass; independent trajectories
(``members``) are batched, and the tangent vectors of all members are re-orthonormalised by one
batched QR after every step. Exponents are in 1/MTU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators.limits import check_work, step_count
from climcopilot.tools.emulators.systems import DynamicalSystem, integrate


@dataclass
class LyapunovSpectrum:
    """Exponents (1/MTU, descending), per-member estimates and the integration behind them."""

    exponents: Tensor  # (k,) mean over members
    member_exponents: Tensor  # (members, k)
    dt: float
    n_steps: int
    members: int

    @property
    def leading(self) -> float:
        return float(self.exponents[0])

    @property
    def leading_std_error(self) -> float:
        """Standard error of the leading exponent from the spread across members (1/MTU)."""
        if self.members < 2:
            return math.nan
        return float(self.member_exponents[:, 0].std() / math.sqrt(self.members))

    @property
    def lyapunov_time(self) -> float:
        """1 / leading exponent (MTU); infinite when the leading exponent is not positive."""
        return 1.0 / self.leading if self.leading > 0 else math.inf

    @property
    def kaplan_yorke_dim(self) -> float:
        return kaplan_yorke_dimension(self.exponents)


def kaplan_yorke_dimension(exponents: Tensor) -> float:
    """j + (l_1 + ... + l_j) / |l_{j+1}|, j the largest index with a non-negative partial sum.

    ``exponents`` (k,) sorted descending. Returns k when every partial sum is non-negative (the
    spectrum is too short to tell), 0 when the leading exponent is negative.
    """
    sums = torch.cumsum(exponents, 0)
    nonneg = int((sums >= 0).sum())
    if nonneg == 0:
        return 0.0
    if nonneg == len(exponents):
        return float(nonneg)
    return nonneg + float(sums[nonneg - 1]) / abs(float(exponents[nonneg]))


def lyapunov_spectrum(system: DynamicalSystem, *, dt: float, duration: float,
                      transient: float, n_exponents: int | None = None, members: int = 4,
                      seed: int = 0, device: str | torch.device = "cpu",
                      allow_large: bool = False) -> LyapunovSpectrum:
    """The ``n_exponents`` largest Lyapunov exponents of ``system`` (None: its default).

    Each of ``members`` trajectories is first integrated for ``transient`` MTU onto the
    attractor, then its tangent vectors are aligned for another ``transient`` MTU without
    counting, then the exponents are averaged over ``duration`` MTU. Float64 throughout.
    Raises ToolError on a blow-up (reduce ``dt``), impossible sizes, or past the
    :mod:`.limits` (tangent vectors counted as states) unless ``allow_large``.
    """
    k = (system.default_exponents or system.dim) if n_exponents is None else n_exponents
    if not 1 <= k <= system.dim:
        raise ToolError(f"n_exponents must be between 1 and the state size {system.dim}, got {k}")
    if dt <= 0 or duration <= 0 or transient < 0:
        raise ToolError(f"need dt > 0, duration > 0 and transient >= 0 (MTU); got dt={dt}, "
                        f"duration={duration}, transient={transient}")
    n_transient = step_count(transient, dt, what="transient", allow_large=allow_large)
    n_steps = max(1, step_count(duration, dt, allow_large=allow_large))
    check_work(members=members, steps=2 * n_transient + n_steps, values=system.dim * (1 + k),
               allow_large=allow_large,
               hint="lower duration, transient, members or n_exponents, or raise dt")
    x = system.initial_state((members,), seed=seed, device=device)
    x = integrate(system, x, dt, n_transient, every=max(n_transient, 1))[-1]
    gen = torch.Generator().manual_seed(seed + 1)
    tangents = torch.randn(members, system.dim, k, generator=gen, dtype=x.dtype)
    tangents = torch.linalg.qr(tangents.to(x.device)).Q.transpose(1, 2)  # (members, k, dim)
    log_growth = torch.zeros(members, k, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        for step in range(n_transient + n_steps):
            x, advanced = system.tangent_step(x, tangents, dt)
            q, r = torch.linalg.qr(advanced.transpose(1, 2))
            tangents = q.transpose(1, 2)
            if step >= n_transient:
                log_growth += torch.log(torch.diagonal(r, dim1=1, dim2=2).abs())
            if step % 100 == 0 and not bool(torch.isfinite(x).all()):
                raise ToolError(f"{system.name} blew up (non-finite state) at step {step} "
                                f"with dt={dt:g} MTU; reduce dt")
    if bool(torch.isneginf(log_growth).any()):
        raise ToolError(f"{system.name}: the weakest of the {k} tangent directions was damped "
                        f"to zero in one step of dt={dt:g} MTU (a strongly dissipative PDE "
                        "mode); ask for fewer n_exponents")
    if not bool(torch.isfinite(log_growth).all()):
        raise ToolError(f"{system.name} blew up (non-finite tangent growth) with dt={dt:g} MTU; "
                        "reduce dt")
    member_exponents = (log_growth / (n_steps * dt)).cpu()
    # QR keeps the order of growth on average; sort each member's estimate for safety.
    member_exponents = member_exponents.sort(dim=1, descending=True).values
    return LyapunovSpectrum(exponents=member_exponents.mean(0), member_exponents=member_exponents,
                            dt=dt, n_steps=n_steps, members=members)
