"""Lyapunov spectra: exact identities, a published exponent, and bad input."""

import json
import math

import pytest
import torch

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.lyapunov import kaplan_yorke_dimension, lyapunov_spectrum
from climcopilot.tools.emulators.systems import DynamicalSystem, cpu_threads
from climcopilot.tools.emulators.tools import lyapunov
from tests.conftest import run_cli

SMALL = {"lorenz96_two_scale": {"K": 4, "J": 4}, "kuramoto_sivashinsky": {"N": 32},
         "kolmogorov": {"N": 16}}


@pytest.mark.parametrize("name", ["lorenz63", "lorenz96", "lorenz96_two_scale",
                                  "kuramoto_sivashinsky", "kolmogorov"])
def test_tangent_step_matches_finite_differences(name):
    system = get_system(name, **SMALL.get(name, {}))
    x = system.initial_state((2,), device="cpu")
    tangents = torch.randn(2, 3, system.dim, dtype=torch.float64,
                           generator=torch.Generator().manual_seed(0))
    dt, eps = (0.005 if name.startswith("lorenz") else system.default_dt), 1e-6
    new_x, pushed = system.tangent_step(x, tangents, dt)
    torch.testing.assert_close(new_x, system.step(x, dt))
    fd = (system.step(x.unsqueeze(1) + eps * tangents, dt)
          - system.step(x.unsqueeze(1) - eps * tangents, dt)) / (2 * eps)
    torch.testing.assert_close(pushed, fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["lorenz63", "lorenz96", "lorenz96_two_scale",
                                  "kuramoto_sivashinsky", "kolmogorov"])
def test_analytic_jacobian_matches_autograd(name):
    system = get_system(name, **SMALL.get(name, {}))
    x = system.initial_state((3,), device="cpu")
    v = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(system.tendency_jvp(x, v),
                               DynamicalSystem.tendency_jvp(system, x, v))


def test_lorenz96_exponents_sum_to_minus_n():
    # The advection term is trace-free, so the Jacobian's trace is -N at every state.
    spectrum = lyapunov_spectrum(get_system("lorenz96", N=20, F=8.0), dt=0.05, duration=10.0,
                                 transient=2.0, members=2)
    assert float(spectrum.exponents.sum()) == pytest.approx(-20.0, rel=0.01)
    assert spectrum.leading > 0.5  # chaotic


def test_lorenz63_sum_and_leading_exponent():
    with cpu_threads(1):
        spectrum = lyapunov_spectrum(get_system("lorenz63"), dt=0.01, duration=40.0,
                                     transient=5.0, members=4)
    assert float(spectrum.exponents.sum()) == pytest.approx(-(10.0 + 1.0 + 8.0 / 3.0), rel=1e-3)
    assert spectrum.leading == pytest.approx(0.906, abs=0.15)  # Sprott (2003): 0.9056
    assert abs(float(spectrum.exponents[1])) < 0.1  # the flow direction
    assert spectrum.lyapunov_time == pytest.approx(1.0 / spectrum.leading)


def test_kaplan_yorke_dimension_formula():
    # Lorenz-63: 2 + 0.9056 / 14.5723 = 2.0621 (Sprott 2003)
    exps = torch.tensor([0.9056, 0.0, -14.5723], dtype=torch.float64)
    assert kaplan_yorke_dimension(exps) == pytest.approx(2.0621, abs=1e-4)
    assert kaplan_yorke_dimension(torch.tensor([-1.0, -2.0])) == 0.0
    assert kaplan_yorke_dimension(torch.tensor([1.0, 0.5])) == 2.0  # too short to tell


def test_tool_reports_exponents_and_checks(tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    previous = torch.get_num_threads()
    result = lyapunov.run({"system": "lorenz63", "duration": 20, "members": 2}, ctx)
    assert torch.get_num_threads() == previous
    assert result.ok and len(result.exponents) == 3
    assert result.divergence == pytest.approx(-(10.0 + 1.0 + 8.0 / 3.0))
    assert result.units["leading"] == "1/MTU" and math.isfinite(result.values["lyapunov_time"])
    assert (tmp_path / "figures").exists() and result.figures


def test_bad_inputs_say_what_is_wrong(tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    with pytest.raises(ToolError, match="system"):
        lyapunov.run({"system": "lorenz84"}, ctx)
    with pytest.raises(ToolError, match="lorenz63 has no parameter N"):
        lyapunov.run({"system": "lorenz63", "N": 40}, ctx)
    with pytest.raises(ToolError, match="blew up.*reduce"):
        lyapunov.run({"system": "lorenz96", "dt": 0.5, "duration": 20, "transient": 0,
                      "members": 1}, ctx)
    with pytest.raises(ToolError, match="n_exponents"):
        lyapunov.run({"system": "lorenz63", "n_exponents": 4}, ctx)


@pytest.mark.slow
def test_lorenz96_must_show_published_values(home):
    """Lorenz-96 N=40 F=8: leading ~1.67/MTU and D_KY ~27.1 (published), sum = -40 (exact)."""
    proc = run_cli("tools", "run", "emulators.lyapunov", "--json", "--args",
                   '{"system": "lorenz96", "N": 40, "F": 8}', timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["values"]["leading"] == pytest.approx(1.67, abs=0.05)
    assert out["values"]["kaplan_yorke_dim"] == pytest.approx(27.1, abs=1.0)
    assert out["values"]["exponent_sum"] == pytest.approx(-40.0, rel=0.01)
    assert out["values"]["wall_s"] < 60
