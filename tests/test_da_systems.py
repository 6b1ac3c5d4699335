"""The dynamical systems shared by the DA and emulator tools, and ``integrate``."""

import math

import numpy as np
import pytest
import torch

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.systems import DynamicalSystem, integrate, resolve_device


@pytest.mark.parametrize("name, dim", [("lorenz63", 3), ("lorenz96", 40),
                                       ("lorenz96_two_scale", 8 * 33)])
def test_systems_are_batched_float64(name, dim):
    system = get_system(name)
    assert isinstance(system, DynamicalSystem) and system.name == name and system.dim == dim
    x = system.initial_state((2, 3), device="cpu")
    assert x.shape == (2, 3, dim) and x.dtype == torch.float64
    assert system.tendency(x).shape == x.shape
    assert system.step(x, system.default_dt).shape == x.shape
    one = system.step(x[1, 2], system.default_dt)  # batching does not mix members
    torch.testing.assert_close(system.step(x, system.default_dt)[1, 2], one)


def test_lorenz96_tendency_matches_the_equation():
    system = get_system("lorenz96", N=6, F=8.0)
    x = torch.arange(6, dtype=torch.float64)
    expected = torch.tensor([(x[(i + 1) % 6] - x[i - 2]) * x[i - 1] - x[i] + 8.0
                             for i in range(6)])
    torch.testing.assert_close(system.tendency(x), expected)
    rest = torch.full((6,), 8.0, dtype=torch.float64)  # x = F is a fixed point
    torch.testing.assert_close(system.tendency(rest), torch.zeros(6, dtype=torch.float64))


def test_two_scale_couples_slow_and_fast_variables():
    system = get_system("lorenz96_two_scale", K=4, J=2)
    x = torch.zeros(system.dim, dtype=torch.float64)
    x[4:6] = 1.0  # the two fast variables of slow variable 0
    d = system.tendency(x)
    # dX_0 gets F - (h c / b) * sum_j Y_j0 = 20 - 1 * 2
    assert d[0].item() == pytest.approx(20.0 - 2.0)
    assert d[1].item() == pytest.approx(20.0)


def test_rk4_is_fourth_order():
    system = get_system("lorenz63")
    x0 = system.base_state()
    reference = integrate(system, x0, 1e-4, 1000)[-1]
    errors = [(integrate(system, x0, dt, round(0.1 / dt))[-1] - reference).norm()
              for dt in (0.01, 0.005)]
    assert 12 < errors[0] / errors[1] < 20  # 2^4 = 16


def test_integrate_shapes_and_every():
    system = get_system("lorenz96")
    x0 = system.initial_state((5,), device="cpu")
    out = integrate(system, x0, 0.05, 10, every=5)
    assert out.shape == (3, 5, 40)
    torch.testing.assert_close(out[0], x0)


def test_integrate_raises_on_blow_up():
    system = get_system("lorenz96")
    with pytest.raises(ToolError, match="blew up"):
        integrate(system, system.initial_state(device="cpu"), 1.0, 50)


def test_unknown_system_and_parameter_are_clear_errors():
    with pytest.raises(ToolError, match="known: lorenz63, lorenz96, lorenz96_two_scale"):
        get_system("lorenz84")
    with pytest.raises(ToolError, match="no parameter G"):
        get_system("lorenz96", G=3)
    with pytest.raises(ToolError, match="N >= 4"):
        get_system("lorenz96", N=2)


def test_auto_device_is_cuda_only_when_available():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ToolError, match="no GPU"):
            resolve_device("cuda")


def numpy_rk4(tendency, x: np.ndarray, dt: float, n_steps: int) -> np.ndarray:
    """An RK4 trajectory written separately from the project: (n_steps + 1, *x.shape)."""
    out = [x]
    for _ in range(n_steps):
        k1 = tendency(x)
        k2 = tendency(x + 0.5 * dt * k1)
        k3 = tendency(x + 0.5 * dt * k2)
        k4 = tendency(x + dt * k3)
        x = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(x)
    return np.stack(out)


def numpy_lorenz96(x: np.ndarray) -> np.ndarray:
    return (np.roll(x, -1, -1) - np.roll(x, 2, -1)) * np.roll(x, 1, -1) - x + 8.0


def numpy_lorenz63(x: np.ndarray) -> np.ndarray:
    u, v, w = x[..., 0], x[..., 1], x[..., 2]
    return np.stack((10.0 * (v - u), u * (28.0 - w) - v, u * v - 8.0 / 3.0 * w), axis=-1)


def on_attractor(tendency, dim: int, members: int) -> np.ndarray:
    x0 = np.random.default_rng(1).normal(1.0, 1.0, (members, dim))
    return numpy_rk4(tendency, x0, 0.01, 1000)[-1]


@pytest.mark.parametrize("name, tendency, dim", [("lorenz96", numpy_lorenz96, 40),
                                                 ("lorenz63", numpy_lorenz63, 3)])
def test_integrate_is_the_numpy_rk4_trajectory(name, tendency, dim):
    x0 = on_attractor(tendency, dim, members=64)
    expected = numpy_rk4(tendency, x0, 0.005, 400)  # 2 MTU: rounding grows ~30x
    with torch.no_grad():
        got = integrate(get_system(name), torch.from_numpy(x0), 0.005, 400)
    assert got.dtype == torch.float64 and got.shape == expected.shape
    assert np.abs(got.numpy() - expected).max() < 1e-11


def test_lorenz96_ensemble_path_is_bitwise_the_step():
    """integrate runs Lorenz-96 through the hand-fused column stepper; same bits as step()."""
    system = get_system("lorenz96")
    x = system.initial_state((3, 5), device="cpu")
    with torch.no_grad():
        got = integrate(system, x, 0.05, 300, every=3)
    for k in range(1, 301):
        x = system.step(x, 0.05)
        if k % 3 == 0:
            assert torch.equal(got[k // 3], x), k


def test_every_keeps_the_same_states():
    system = get_system("lorenz96")
    x0 = system.initial_state((4,), device="cpu")
    assert torch.equal(integrate(system, x0, 0.05, 20, every=1)[::5],
                       integrate(system, x0, 0.05, 20, every=5))
    assert integrate(system, x0, 0.05, 3, every=5).shape == (1, 4, 40)


class NaNOnce:
    """A model whose state is NaN after step 3 only (later steps are finite again)."""

    name, dim = "nan_once", 2

    def __init__(self) -> None:
        self.calls = 0

    def step(self, x: torch.Tensor, dt: float) -> torch.Tensor:
        self.calls += 1
        return torch.full_like(x, math.nan) if self.calls == 3 else torch.ones_like(x)


def test_every_stored_state_is_checked_not_only_the_last():
    with pytest.raises(ToolError, match=r"nan_once blew up \(non-finite state\) at step 3 "):
        integrate(NaNOnce(), torch.zeros(2), 0.1, 10)


def test_blow_up_between_stored_states_is_reported():
    system = get_system("lorenz96")
    with pytest.raises(ToolError, match="blew up .* by step 50 .*reduce dt"):
        integrate(system, system.initial_state(device="cpu"), 1.0, 50, every=1000)


def test_gradients_flow_through_integrate():
    system = get_system("lorenz96", N=8)
    x0 = system.initial_state(device="cpu").requires_grad_()
    integrate(system, x0, 0.05, 10, every=5)[-1].sum().backward()
    y0 = x0.detach().clone().requires_grad_()
    y = y0
    for _ in range(10):
        y = system.step(y, 0.05)
    y.sum().backward()
    torch.testing.assert_close(x0.grad, y0.grad, rtol=0, atol=0)
