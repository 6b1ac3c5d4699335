"""The dynamical systems shared by the DA and emulator tools."""

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
