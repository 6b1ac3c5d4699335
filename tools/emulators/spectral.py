"""Pseudo-spectral PDEs on periodic domains, stepped with ETDRK4.

A semilinear PDE ``u_t = L u + N(u)`` with ``L`` diagonal in Fourier space is advanced by the
fourth-order exponential time differencing Runge-Kutta scheme of Cox & Matthews (2002), with the
coefficients computed by the contour-integral average of Kassam & Trefethen (2005, SIAM J. Sci.
Comput. 26, 1214), which avoids the cancellation of the direct formulas for small ``|dt L|``.
The state is the field on the grid, flattened to ``(..., dim)``, float64; only the Fourier modes
of ``retained`` (a 0/1 mask: the mean mode removed, dealiasing) are kept, so the state space is
their span.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.emulators.systems import DynamicalSystem

CONTOUR_POINTS = 32  # points on the upper half circle of radius 1 (Kassam & Trefethen use 32)

Nonlinear = Callable[[Tensor], Tensor]
NonlinearJvp = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class ETDRK4:
    """The coefficients of one ETDRK4 step of length ``dt`` for a real diagonal ``L`` (any
    shape S): ``E = exp(dt L)``, ``E2 = exp(dt L / 2)`` and the phi-function weights."""

    E: Tensor
    E2: Tensor
    Q: Tensor
    f1: Tensor
    f2: Tensor
    f3: Tensor

    @classmethod
    def build(cls, linear: Tensor, dt: float) -> ETDRK4:
        """Coefficients for ``linear`` (real, shape S) and step ``dt``.

        Each phi-function is averaged over points ``dt L + r`` on a circle of radius 1 (the mean
        of an analytic function over a circle is its value at the centre); for real ``L`` the
        upper half circle and the real part suffice (Kassam & Trefethen 2005, eq. 2.5).
        """
        hl = (dt * linear).to(torch.complex128)
        m = torch.arange(1, CONTOUR_POINTS + 1, dtype=torch.float64, device=linear.device)
        roots = torch.exp(1j * math.pi * (m - 0.5) / CONTOUR_POINTS)
        lr = hl.unsqueeze(-1) + roots

        def average(values: Tensor) -> Tensor:
            return dt * values.mean(-1).real.to(linear.dtype)

        exp_lr = lr.exp()
        return cls(
            E=(dt * linear).exp(), E2=(dt * linear / 2).exp(),
            Q=average(((lr / 2).exp() - 1) / lr),
            f1=average((-4 - lr + exp_lr * (4 - 3 * lr + lr**2)) / lr**3),
            f2=average((2 + lr + exp_lr * (lr - 2)) / lr**3),
            f3=average((-4 - 3 * lr - lr**2 + exp_lr * (4 - lr)) / lr**3))

    def step(self, v: Tensor, nonlinear: Nonlinear) -> Tensor:
        """``v`` (Fourier coefficients, (..., *S)) advanced by one step."""
        nv = nonlinear(v)
        a = self.E2 * v + self.Q * nv
        na = nonlinear(a)
        b = self.E2 * v + self.Q * na
        nb = nonlinear(b)
        c = self.E2 * a + self.Q * (2 * nb - nv)
        nc = nonlinear(c)
        return self.E * v + self.f1 * nv + 2 * self.f2 * (na + nb) + self.f3 * nc

    def tangent_step(self, v: Tensor, w: Tensor, nonlinear: Nonlinear,
                     jvp: NonlinearJvp) -> tuple[Tensor, Tensor]:
        """One step of ``v`` (..., *S) and its exact linearisation applied to ``w``
        (..., k, *S); ``jvp(state, w)`` is N's Jacobian at ``state`` (..., *S) applied to ``w``."""
        nv, dnv = nonlinear(v), jvp(v, w)
        a, da = self.E2 * v + self.Q * nv, self.E2 * w + self.Q * dnv
        na, dna = nonlinear(a), jvp(a, da)
        b, db = self.E2 * v + self.Q * na, self.E2 * w + self.Q * dna
        nb, dnb = nonlinear(b), jvp(b, db)
        c = self.E2 * a + self.Q * (2 * nb - nv)
        dc = self.E2 * da + self.Q * (2 * dnb - dnv)
        nc, dnc = nonlinear(c), jvp(c, dc)
        return (self.E * v + self.f1 * nv + 2 * self.f2 * (na + nb) + self.f3 * nc,
                self.E * w + self.f1 * dnv + 2 * self.f2 * (dna + dnb) + self.f3 * dnc)


class SpectralSystem(DynamicalSystem):
    """A periodic semilinear PDE ``u_t = L u + N(u)`` stepped with ETDRK4 in Fourier space.

    Subclasses give the transforms between the flattened grid (..., dim) and the retained
    Fourier coefficients (..., *S) (``spectral_ndim`` = len(S)), the linear operator ``L``
    (real, shape S), ``N`` and its Jacobian-vector product, all on a given device. ETDRK4
    coefficients are cached per (dt, device).
    """

    compilable = False  # not measured: the FFTs are library calls inductor does not fuse
    spectral_ndim: int = 1

    def to_spectral(self, x: Tensor) -> Tensor:
        """Retained Fourier coefficients of the grid field ``x`` (..., dim)."""
        raise NotImplementedError

    def to_grid(self, v: Tensor) -> Tensor:
        """The grid field (..., dim) of Fourier coefficients ``v`` (..., *S)."""
        raise NotImplementedError

    def linear(self, device: torch.device) -> Tensor:
        """The diagonal of ``L`` in Fourier space, real, shape S."""
        raise NotImplementedError

    def nonlinear(self, v: Tensor) -> Tensor:
        """``N`` in Fourier space (retained modes only), same shape as ``v``."""
        raise NotImplementedError

    def nonlinear_jvp(self, v: Tensor, w: Tensor) -> Tensor:
        """``N``'s Jacobian at ``v`` applied to ``w`` (``v`` broadcasts against ``w``)."""
        raise NotImplementedError

    def coefficients(self, dt: float, device: torch.device) -> ETDRK4:
        cache = self.__dict__.setdefault("_etdrk4_cache", {})
        key = (float(dt), str(device))
        if key not in cache:
            cache[key] = ETDRK4.build(self.linear(device), dt)
        return cache[key]

    def step(self, x: Tensor, dt: float) -> Tensor:
        """One ETDRK4 step of length ``dt`` (time units) of the grid state ``x`` (..., dim)."""
        scheme = self.coefficients(dt, x.device)
        return self.to_grid(scheme.step(self.to_spectral(x), self.nonlinear))

    def tangent_step(self, x: Tensor, tangents: Tensor, dt: float) -> tuple[Tensor, Tensor]:
        scheme = self.coefficients(dt, x.device)
        lift = -1 - self.spectral_ndim  # where the tangent index k sits in w

        def jvp(state: Tensor, w: Tensor) -> Tensor:
            return self.nonlinear_jvp(state.unsqueeze(lift), w)

        v, w = scheme.tangent_step(self.to_spectral(x), self.to_spectral(tangents),
                                   self.nonlinear, jvp)
        return self.to_grid(v), self.to_grid(w)

    def tendency(self, x: Tensor) -> Tensor:
        v = self.to_spectral(x)
        return self.to_grid(self.linear(x.device) * v + self.nonlinear(v))

    def tendency_jvp(self, x: Tensor, v: Tensor) -> Tensor:
        w = self.to_spectral(v)
        return self.to_grid(self.linear(x.device) * w
                            + self.nonlinear_jvp(self.to_spectral(x), w))
