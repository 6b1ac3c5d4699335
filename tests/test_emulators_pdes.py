"""Kuramoto-Sivashinsky and Kolmogorov flow: ETDRK4 against an independent reference, exact
invariants and steady states, published Lyapunov exponents, and blow-up errors."""

import math

import numpy as np
import pytest
import torch

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.lyapunov import lyapunov_spectrum
from climcopilot.tools.emulators.systems import cpu_threads, integrate
from climcopilot.tools.emulators.tools import lyapunov, simulate


def numpy_ks_rk4(u0: np.ndarray, length: float, t_end: float, h: float) -> np.ndarray:
    """Reference: classical RK4 on the Fourier coefficients with a tiny step (NumPy, no
    exponential integrator), the Nyquist mode dropped as in the system under test."""
    n = len(u0)
    k = 2 * np.pi / length * np.arange(n // 2 + 1)
    k[-1] = 0.0
    lin = k**2 - k**4

    def rhs(v: np.ndarray) -> np.ndarray:
        u = np.fft.irfft(v, n=n)
        out = lin * v - 0.5j * k * np.fft.rfft(u * u)
        out[-1] = 0.0
        return out

    v = np.fft.rfft(u0)
    for _ in range(round(t_end / h)):
        a = rhs(v)
        b = rhs(v + h / 2 * a)
        c = rhs(v + h / 2 * b)
        d = rhs(v + h * c)
        v = v + h / 6 * (a + 2 * b + 2 * c + d)
    return np.fft.irfft(v, n=n)


def test_ks_etdrk4_matches_a_tiny_step_reference():
    # Kassam & Trefethen (2005), section 6: L = 32 pi, N = 128, u0 = cos(x/16)(1 + sin(x/16)).
    length, n, t_end = 32 * math.pi, 128, 20.0
    system = get_system("kuramoto_sivashinsky", L=length, N=n)
    u0 = system.base_state()
    reference = numpy_ks_rk4(u0.numpy(), length, t_end, h=0.002)
    scale = np.abs(reference).max()
    errors = {}
    with cpu_threads(1):
        for dt in (0.5, 0.25):
            steps = round(t_end / dt)
            out = integrate(system, u0, dt, steps, every=steps)[-1].numpy()
            errors[dt] = np.abs(out - reference).max() / scale
    assert errors[0.25] < 2e-5
    assert errors[0.5] / errors[0.25] > 8  # at least third order (fourth in theory)


def test_ks_conserves_the_mean_and_is_batched():
    system = get_system("kuramoto_sivashinsky")
    x0 = system.initial_state((3,), device="cpu")
    assert float(x0.mean(-1).abs().max()) < 1e-14  # the mean is removed at the start
    shifted = x0 + torch.tensor([[0.0], [0.3], [-1.0]], dtype=torch.float64)
    with cpu_threads(1):
        traj = integrate(system, shifted, 0.25, 200, every=200)
    # d/dt of the integral of u is -integral of (u^2/2 + u_x + u_xxx)_x = 0 on a periodic domain
    torch.testing.assert_close(traj[-1].mean(-1), shifted.mean(-1), rtol=0, atol=1e-12)
    one = integrate(system, shifted[1], 0.25, 200, every=200)[-1]
    torch.testing.assert_close(traj[-1, 1], one)


def test_kolmogorov_laminar_flow_is_the_steady_state():
    # Derived: u = U sin(n y) has u . grad(omega) = 0, so nu n^2 U + drag U = F.
    system = get_system("kolmogorov", N=32, Re=2.0, drag=0.5, F=1.0, forcing_wavenumber=4)
    speed = 1.0 / (0.5 * 16 + 0.5)
    y = (torch.arange(32, dtype=torch.float64) * 2 * math.pi / 32)[:, None].expand(32, 32)
    laminar = (-speed * 4 * torch.cos(4 * y)).flatten()
    assert float(system.tendency(laminar).abs().max()) < 1e-12
    with cpu_threads(1):
        final = integrate(system, system.initial_state((2,), device="cpu"), 0.1, 300,
                          every=300)[-1]
    assert float((final - laminar).abs().max()) < 1e-6 * float(laminar.abs().max())
    u, v = system.velocity(final)
    energy = float(0.5 * (u**2 + v**2).mean())
    assert energy == pytest.approx(speed**2 / 4, rel=1e-6)  # mean of (U sin)^2 / 2


def test_kolmogorov_energy_and_enstrophy_budgets_are_exact():
    """dE/dt = -2 nu Z - 2 drag E + <f . u> and dZ/dt = -nu <|grad omega|^2> - 2 drag Z +
    <omega curl f>: the dealiased advection conserves both, computed here with NumPy."""
    n_grid, nu, drag, force, n = 32, 1 / 40, 0.1, 1.0, 4
    system = get_system("kolmogorov", N=n_grid, Re=40.0, drag=drag, F=force,
                        forcing_wavenumber=n)
    k = np.fft.fftfreq(n_grid, 1 / n_grid)
    kx, ky = k[None, :], k[:, None]
    keep = (np.abs(kx) < n_grid / 3) & (np.abs(ky) < n_grid / 3) & (kx**2 + ky**2 > 0)
    rng = np.random.default_rng(0)
    omega_hat = np.fft.fft2(rng.standard_normal((n_grid, n_grid))) * keep
    omega = np.fft.ifft2(omega_hat).real
    k2 = np.where(keep, kx**2 + ky**2, 1.0)
    psi = np.fft.ifft2(omega_hat / k2 * keep).real
    u = np.fft.ifft2(1j * ky * omega_hat / k2 * keep).real
    v = np.fft.ifft2(-1j * kx * omega_hat / k2 * keep).real
    grad2 = (np.fft.ifft2(1j * kx * omega_hat).real ** 2
             + np.fft.ifft2(1j * ky * omega_hat).real ** 2)
    y = np.arange(n_grid)[:, None] * 2 * np.pi / n_grid
    energy, enstrophy = 0.5 * np.mean(u**2 + v**2), 0.5 * np.mean(omega**2)
    omega_t = system.tendency(torch.from_numpy(omega.flatten())).numpy().reshape(omega.shape)
    d_energy = np.mean(psi * omega_t)  # E = <psi omega> / 2 and the Laplacian is self-adjoint
    d_enstrophy = np.mean(omega * omega_t)
    assert d_energy == pytest.approx(-2 * nu * enstrophy - 2 * drag * energy
                                     + np.mean(force * np.sin(n * y) * u), rel=1e-10)
    assert d_enstrophy == pytest.approx(-nu * np.mean(grad2) - 2 * drag * enstrophy
                                        + np.mean(omega * -force * n * np.cos(n * y)),
                                        rel=1e-10)


def test_ks_lyapunov_exponents_look_like_the_published_ones():
    # L = 22: lambda_1 ~ 0.043-0.048, lambda_2 ~ 0.003, then neutral directions (time,
    # translation, Galilean) and the first strongly negative one ~ -0.19; D_KY ~ 5.2.
    with cpu_threads(1):
        spectrum = lyapunov_spectrum(get_system("kuramoto_sivashinsky"), dt=0.25,
                                     duration=1000.0, transient=100.0, n_exponents=8,
                                     members=4)
    exps = spectrum.exponents
    assert 0.03 < float(exps[0]) < 0.065
    assert float(exps[2:5].abs().max()) < 0.012
    assert -0.22 < float(exps[5]) < -0.16
    assert spectrum.kaplan_yorke_dim == pytest.approx(5.2, abs=0.3)


@pytest.mark.slow
def test_ks_lyapunov_tool_reaches_the_published_values(tmp_path):
    result = lyapunov.run({"system": "kuramoto_sivashinsky"}, ToolContext(tmp_path))
    # Published (L = 22): leading 0.043 (Edson et al. 2019) to 0.048 (Cvitanovic et al. 2010)
    assert result.leading == pytest.approx(0.0455, abs=0.006)
    assert result.kaplan_yorke_dim == pytest.approx(5.2, abs=0.2)
    assert result.divergence is None  # not a full spectrum


@pytest.mark.parametrize("system, dt", [("kuramoto_sivashinsky", 5.0), ("kolmogorov", 0.5)])
def test_too_large_time_step_is_a_blow_up_error(tmp_path, system, dt):
    args = {"system": system, "dt": dt, "duration": 50, "spinup": 0}
    if system == "kolmogorov":
        args["N"] = 32
    with pytest.raises(ToolError, match="blew up.*reduce dt"):
        simulate.run(args, ToolContext(tmp_path))


def test_bad_pde_parameters_say_what_is_wrong():
    with pytest.raises(ToolError, match="even number N"):
        get_system("kuramoto_sivashinsky", N=63)
    with pytest.raises(ToolError, match="forcing_wavenumber"):
        get_system("kolmogorov", N=16, forcing_wavenumber=8)
    with pytest.raises(ToolError, match="Re > 0"):
        get_system("kolmogorov", Re=-1.0)


@pytest.mark.parametrize("name, params", [("kuramoto_sivashinsky", {"N": 16}),
                                          ("kolmogorov", {"N": 8, "forcing_wavenumber": 2})])
def test_pde_steps_are_differentiable(name, params):
    """Autograd through the ETDRK4 step (4D-Var differentiates the model) matches finite
    differences."""
    system = get_system(name, **params)
    x = system.initial_state((2,), device="cpu").requires_grad_()
    assert torch.autograd.gradcheck(lambda y: system.step(y, system.default_dt), (x,),
                                    fast_mode=True)
