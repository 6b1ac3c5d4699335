"""Two chaotic PDEs on periodic domains: Kuramoto-Sivashinsky and 2-D Kolmogorov flow.

Both are pseudo-spectral :class:`SpectralSystem` s stepped with ETDRK4, batched over any leading
dimensions, float64, on CPU or CUDA. Space and time are nondimensional (time in "MTU", model
time units, as for the ODEs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators.spectral import SpectralSystem
from climcopilot.tools.emulators.systems import DynamicalSystem


def _on(tensors: dict[str, Tensor], cache: dict[str, dict[str, Tensor]],
        device: torch.device) -> dict[str, Tensor]:
    """``tensors`` copied to ``device`` once, then reused."""
    key = str(device)
    if key not in cache:
        cache[key] = {name: t.to(device) for name, t in tensors.items()}
    return cache[key]


@dataclass
class KuramotoSivashinsky(SpectralSystem):
    """u_t = -u u_x - u_xx - u_xxxx on [0, L) periodic, N grid points.

    Fourier modes k = 2 pi m / L, m = 0 .. N/2 - 1 (the Nyquist mode is dropped, so the state
    space has N - 1 dimensions). The mean (m = 0) is conserved exactly (L and N vanish there);
    :meth:`initial_state` removes it, and a nonzero mean would only add a Galilean drift. Its
    direction stays in the tangent space, a neutral Lyapunov direction. L = 22 is the standard
    chaotic domain (Cvitanovic, Davidchack & Siminos 2010).
    """

    L: float = 22.0
    N: int = 64

    name = "kuramoto_sivashinsky"
    default_dt = 0.25
    default_spinup = 100.0
    default_every = 4
    default_exponents = 16
    default_averaging = 4000.0
    spectral_ndim = 1

    def __post_init__(self) -> None:
        if self.N != int(self.N) or self.N < 8 or int(self.N) % 2 or not self.L > 0:
            raise ToolError(f"kuramoto_sivashinsky needs an even number N >= 8 of grid points "
                            f"and a length L > 0, got N={self.N}, L={self.L}")
        self.N, self.L = int(self.N), float(self.L)
        self.dim = self.N
        self.ring_length = float(self.N)
        m = torch.arange(self.N // 2 + 1, dtype=torch.float64)
        k = 2 * math.pi / self.L * m
        retained = (m < self.N // 2).to(torch.float64)
        self._host = {"k": k, "retained": retained, "linear": (k**2 - k**4) * retained}
        self._devices: dict[str, dict[str, Tensor]] = {}

    def _grid(self, device: torch.device) -> dict[str, Tensor]:
        return _on(self._host, self._devices, device)

    def to_spectral(self, x: Tensor) -> Tensor:
        return torch.fft.rfft(x, dim=-1) * self._grid(x.device)["retained"]

    def to_grid(self, v: Tensor) -> Tensor:
        return torch.fft.irfft(v, n=self.N, dim=-1)

    def linear(self, device: torch.device) -> Tensor:
        return self._grid(device)["linear"]

    def nonlinear(self, v: Tensor) -> Tensor:
        grid = self._grid(v.device)
        u = self.to_grid(v)
        return -0.5j * grid["k"] * torch.fft.rfft(u * u, dim=-1) * grid["retained"]

    def nonlinear_jvp(self, v: Tensor, w: Tensor) -> Tensor:
        grid = self._grid(w.device)
        return (-1j * grid["k"] * torch.fft.rfft(self.to_grid(v) * self.to_grid(w), dim=-1)
                * grid["retained"])

    def coordinates(self) -> Tensor:
        """Grid positions x_j = j L / N, shape (N,)."""
        return torch.arange(self.N, dtype=torch.float64) * self.L / self.N

    def positions(self) -> Tensor:
        return torch.arange(self.N, dtype=torch.float64)

    def base_state(self) -> Tensor:
        """cos(2 pi x / L)(1 + sin(2 pi x / L)), Kassam & Trefethen's initial condition."""
        phase = 2 * math.pi * self.coordinates() / self.L
        return torch.cos(phase) * (1 + torch.sin(phase))

    def initial_state(self, batch_shape: tuple[int, ...] = (), *, seed: int = 0,
                      device: str | torch.device = "auto",
                      dtype: torch.dtype = torch.float64) -> Tensor:
        """As :meth:`DynamicalSystem.initial_state`, with the mean removed."""
        x = super().initial_state(batch_shape, seed=seed, device=device, dtype=dtype)
        return x - x.mean(-1, keepdim=True)


@dataclass
class KolmogorovFlow(SpectralSystem):
    """2-D Kolmogorov flow in vorticity form on [0, 2 pi)^2, N x N grid:

    omega_t + u . grad(omega) = nu lap(omega) - drag omega - F n cos(n y),  nu = 1 / Re,

    the curl of the body force F sin(n y) x-hat (n = ``forcing_wavenumber``); u = (psi_y,
    -psi_x), omega = -lap(psi). Pseudo-spectral with the 2/3 rule (modes |k_x|, |k_y| < N/3
    kept) and the mean mode removed. State: omega on the grid, index y * N + x. Laminar
    solution: u = U sin(n y), omega = -U n cos(n y), U = F / (nu n^2 + drag). Defaults: n = 4,
    Re = 40, F = 1, no drag (Chandler & Kerswell 2013, J. Fluid Mech. 722, 554).
    """

    N: int = 64
    Re: float = 40.0
    F: float = 1.0
    forcing_wavenumber: int = 4
    drag: float = 0.0

    name = "kolmogorov"
    default_dt = 0.02
    default_spinup = 50.0
    default_every = 25
    default_exponents = 4
    default_averaging = 50.0
    spectral_ndim = 2

    def __post_init__(self) -> None:
        n = self.forcing_wavenumber
        if self.N != int(self.N) or self.N < 8 or int(self.N) % 2:
            raise ToolError(f"kolmogorov needs an even number N >= 8 of grid points per side, "
                            f"got N={self.N}")
        if n != int(n) or not 1 <= n < self.N / 3:
            raise ToolError(f"kolmogorov's forcing_wavenumber must be a whole number from 1 to "
                            f"below N/3 = {self.N / 3:.1f} (the dealiased band), got {n}")
        if not self.Re > 0 or self.drag < 0:
            raise ToolError(f"kolmogorov needs Re > 0 and drag >= 0, got Re={self.Re}, "
                            f"drag={self.drag}")
        self.N, self.forcing_wavenumber = int(self.N), int(n)
        self.dim = self.N * self.N
        ky = torch.fft.fftfreq(self.N, 1.0 / self.N, dtype=torch.float64)[:, None]
        kx = torch.fft.rfftfreq(self.N, 1.0 / self.N, dtype=torch.float64)[None, :]
        k2 = (kx**2 + ky**2).expand(self.N, self.N // 2 + 1)
        retained = ((kx.abs() < self.N / 3) & (ky.abs() < self.N / 3) & (k2 > 0))
        retained = retained.to(torch.float64)
        y = self.coordinates()[:, None].expand(self.N, self.N)
        forcing = torch.fft.rfft2(-self.F * n * torch.cos(n * y))
        self._host = {"kx": kx, "ky": ky, "inv_k2": torch.where(k2 > 0, 1 / k2, 0.0),
                      "retained": retained, "forcing": forcing * retained,
                      "linear": (-self.nu * k2 - self.drag) * retained}
        self._devices: dict[str, dict[str, Tensor]] = {}

    @property
    def nu(self) -> float:
        """Kinematic viscosity 1 / Re."""
        return 1.0 / self.Re

    @property
    def laminar_speed(self) -> float:
        """U = F / (nu n^2 + drag) of the laminar flow u = U sin(n y)."""
        return self.F / (self.nu * self.forcing_wavenumber**2 + self.drag)

    def _grid(self, device: torch.device) -> dict[str, Tensor]:
        return _on(self._host, self._devices, device)

    def to_spectral(self, x: Tensor) -> Tensor:
        field = x.unflatten(-1, (self.N, self.N))
        return torch.fft.rfft2(field) * self._grid(x.device)["retained"]

    def to_grid(self, v: Tensor) -> Tensor:
        return torch.fft.irfft2(v, s=(self.N, self.N)).flatten(-2)

    def linear(self, device: torch.device) -> Tensor:
        return self._grid(device)["linear"]

    def _advection(self, v: Tensor, w: Tensor) -> Tensor:
        """Fourier coefficients of u(v) . grad(omega(w)): the velocity of vorticity ``v``
        advecting vorticity ``w`` (retained modes only)."""
        g = self._grid(w.device)
        s = (self.N, self.N)
        psi = v * g["inv_k2"]
        u = torch.fft.irfft2(1j * g["ky"] * psi, s=s)
        v_vel = torch.fft.irfft2(-1j * g["kx"] * psi, s=s)
        wx = torch.fft.irfft2(1j * g["kx"] * w, s=s)
        wy = torch.fft.irfft2(1j * g["ky"] * w, s=s)
        return torch.fft.rfft2(u * wx + v_vel * wy) * g["retained"]

    def nonlinear(self, v: Tensor) -> Tensor:
        return self._grid(v.device)["forcing"] - self._advection(v, v)

    def nonlinear_jvp(self, v: Tensor, w: Tensor) -> Tensor:
        return -(self._advection(v, w) + self._advection(w, v))

    def velocity(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Velocity (u, v) on the grid of the vorticity ``x`` (..., dim): two (..., N, N)."""
        g = self._grid(x.device)
        psi = self.to_spectral(x) * g["inv_k2"]
        s = (self.N, self.N)
        return (torch.fft.irfft2(1j * g["ky"] * psi, s=s),
                torch.fft.irfft2(-1j * g["kx"] * psi, s=s))

    def energy(self, x: Tensor) -> Tensor:
        """Mean kinetic energy (1/2) <|u|^2> of the vorticity ``x`` (..., dim): (...)."""
        u, v = self.velocity(x)
        return 0.5 * (u**2 + v**2).mean((-2, -1))

    def enstrophy(self, x: Tensor) -> Tensor:
        """Mean enstrophy (1/2) <omega^2> of the (retained part of) ``x`` (..., dim): (...)."""
        return 0.5 * self.to_grid(self.to_spectral(x)).pow(2).mean(-1)

    def coordinates(self) -> Tensor:
        """Grid positions 2 pi j / N along x and along y, shape (N,)."""
        return torch.arange(self.N, dtype=torch.float64) * 2 * math.pi / self.N

    def laminar_state(self) -> Tensor:
        """The steady laminar vorticity -U n cos(n y) on the grid, shape (dim,)."""
        n = self.forcing_wavenumber
        y = self.coordinates()[:, None].expand(self.N, self.N)
        return (-self.laminar_speed * n * torch.cos(n * y)).flatten()

    def base_state(self) -> Tensor:
        """The laminar flow plus a perturbation 0.1 (cos x + sin(x + y)) that breaks it."""
        c = self.coordinates()
        x, y = c[None, :].expand(self.N, self.N), c[:, None].expand(self.N, self.N)
        return self.laminar_state() + 0.1 * (torch.cos(x) + torch.sin(x + y)).flatten()


PDE_SYSTEMS: dict[str, type[DynamicalSystem]] = {
    "kuramoto_sivashinsky": KuramotoSivashinsky,
    "kolmogorov": KolmogorovFlow,
}
