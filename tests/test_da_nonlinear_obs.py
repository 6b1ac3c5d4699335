"""Nonlinear observation operators (arctan, quadratic, abs, a plugin's callable) in every DA
method: values against NumPy, Jacobians (autograd) and adjoints against finite differences,
each method's twin experiment naming its operator, and the traced-cycle cache keyed by it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from test_plugins import write_dist_info

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.da import forecast
from climcopilot.tools.da.inputs import TwinInput
from climcopilot.tools.da.operators import build_obs, callable_obs
from climcopilot.tools.da.twin import build_setup, run_twin, simulate_truth
from climcopilot.tools.da.variational import Var3D
from climcopilot.tools.registry import get_tool

f64 = torch.float64
NUMPY = {"identity": lambda z: z, "arctan": np.arctan, "quadratic": np.square, "abs": np.abs}
SITES = [None, [0, 2, 3, 5]]  # all sites in order, and a subset
# Lorenz-96 (40 variables) observed through arctan at every site, a short warm-started run.
ARCTAN_TWIN = {"system": "lorenz96", "obs_operator": "arctan", "obs_var": 0.01, "Ko": 30,
               "N": 20, "device": "cpu"}
METHOD_ARGS = {"oi": {}, "3dvar": {"xB": 0.1}, "4dvar": {"xB": 0.1, "Ko": 10},
               "enkf": {"infl": 1.05}, "etkf": {"infl": 1.05}, "denkf": {"infl": 1.05},
               "letkf": {"infl": 1.05}, "ensf": {"sde_steps": 20},
               # a PF degenerates on 40-variable Lorenz-96 whatever it observes: Lorenz-63
               "pf": {"N": 200, "system": "lorenz63", "dt": 0.01, "dko": 25, "Ko": 40}}


def central_differences(h, x: torch.Tensor, step: float = 1e-6) -> torch.Tensor:
    """dh/dx (n_obs, dim) at ``x`` (dim,) by central differences."""
    columns = []
    for i in range(len(x)):
        e = torch.zeros_like(x)
        e[i] = step
        columns.append((h(x + e) - h(x - e)) / (2 * step))
    return torch.stack(columns, -1)


@pytest.mark.parametrize("name", list(NUMPY))
@pytest.mark.parametrize("sites", SITES)
def test_operator_values_jacobian_and_adjoint(name, sites):
    gen = torch.Generator().manual_seed(1)
    x = 0.5 + torch.rand(3, 6, generator=gen, dtype=f64) * 2  # away from abs' kink at 0
    x[1] *= -1
    obs = build_obs(6, sites, 0.1, name)
    picked = x.numpy()[:, sites if sites is not None else slice(None)]
    np.testing.assert_allclose(obs(x).numpy(), NUMPY[name](picked), rtol=1e-15)
    assert obs.name == name and obs.linear == (name == "identity")
    for row in x:
        H = obs.jacobian(row)
        torch.testing.assert_close(H, central_differences(obs, row), rtol=1e-6, atol=1e-8)
    dy = torch.randn(3, obs.n_obs, generator=gen, dtype=f64)
    by_rows = torch.stack([obs.jacobian(row).T @ d for row, d in zip(x, dy)])
    torch.testing.assert_close(obs.adjoint(x, dy), by_rows)


def test_a_callable_operator_has_an_autograd_jacobian_and_adjoint():
    mean_of_neighbours = callable_obs(lambda s: torch.sin(s + s.roll(1, -1)), 5, 0.1)
    x = torch.linspace(-1, 1, 10, dtype=f64).reshape(2, 5)
    for row in x:
        torch.testing.assert_close(mean_of_neighbours.jacobian(row),
                                   central_differences(mean_of_neighbours, row),
                                   rtol=1e-6, atol=1e-8)
    dy = torch.ones(2, 5, dtype=f64)
    expected = torch.stack([mean_of_neighbours.jacobian(row).T @ d for row, d in zip(x, dy)])
    torch.testing.assert_close(mean_of_neighbours.adjoint(x, dy), expected)


@pytest.mark.parametrize("method", list(METHOD_ARGS))
def test_every_method_runs_with_arctan_observations_and_names_them(tmp_path, method):
    args = {**ARCTAN_TWIN, "method": method, **METHOD_ARGS[method]}
    result = get_tool("da.twin_experiment").run(args, ToolContext(workspace=tmp_path))
    assert "with arctan observations" in result.summary, result.summary
    assert result.obs_operator == "arctan"
    assert math.isfinite(result.rmse_a)


def test_ensemble_filters_track_through_arctan_observations():
    # tan() of an observation inverts it only where |x| is small; the filters must do far better
    # than the climatological std (about 3.6) on a warm start
    for method in ("etkf", "letkf"):
        outcome = run_twin(TwinInput(**{**ARCTAN_TWIN, "Ko": 100, "infl": 1.05,
                                        "method": method}))
        assert outcome.rmse_a < 0.1 * outcome.setup.clim.std, (method, outcome.rmse_a)


def test_the_traced_cycle_is_kept_per_operator():
    base = {**ARCTAN_TWIN, "method": "etkf", "Ko": 20}
    forecast._TRACED.clear()
    alone = run_twin(TwinInput(**base)).err_a
    forecast._TRACED.clear()
    run_twin(TwinInput(**{**base, "obs_operator": "quadratic"}))  # same set-up otherwise
    after_another = run_twin(TwinInput(**base)).err_a
    assert torch.equal(alone, after_another)


def test_aliases_name_the_operators():
    assert TwinInput(obs_operator="atan").obs_operator == "arctan"
    assert TwinInput(obs_operator="absolute value").obs_operator == "abs"
    assert TwinInput(obs_operator="x^2").obs_operator == "quadratic"


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plugin with two operators installed on a site folder on sys.path."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "obs_plugin.py").write_text(
        "import torch\n\n"
        "def pair_mean(x):\n    return 0.5 * (x + x.roll(1, -1))\n\n"
        "def scalar(x):\n    return x.sum()\n")
    write_dist_info(site, "obs_plugin", "[climcopilot.obs_operators]\n"
                                        "pair_mean = obs_plugin:pair_mean\n"
                                        "scalar = obs_plugin:scalar\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_a_plugin_operator_is_assimilated(plugin_site):
    twin = {**ARCTAN_TWIN, "obs_operator": "pair_mean", "Ko": 60}
    for method, settings in (("etkf", {"infl": 1.05}), ("3dvar", {"xB": 0.1})):
        outcome = run_twin(TwinInput(**twin, method=method, **settings))
        assert outcome.setup.obs.name == "pair_mean" and outcome.setup.obs.sites is None
        assert "with pair_mean observations" in outcome.described
        assert not outcome.diverged, (method, outcome.rmse_a)


@pytest.mark.parametrize("args, match", [
    ({"obs_operator": "cubic"}, "unknown obs_operator 'cubic'; known: identity, arctan, "
                                "quadratic, abs, pair_mean"),
    ({"obs_operator": "pair_mean", "obs_sites": "every_other"},
     "plugin operator 'pair_mean' maps the whole state, so leave obs_sites null"),
    ({"obs_operator": "scalar"}, r"obs operator 'scalar' must map \(\.\.\., 40\) states"),
    ({"obs_operator": "pair_mean", "method": "letkf"}, "letkf needs observations of state "
                                                       "sites"),
])
def test_bad_operators_are_one_line_errors(plugin_site, args, match):
    with pytest.raises(ToolError, match=match):
        run_twin(TwinInput(**{**ARCTAN_TWIN, "Ko": 3, **args}))


def test_3dvar_linearises_arctan_about_its_forecast():
    # one cycle: x_a = x_f + K (y - arctan(x_f)), K = B H^T (H B H^T + R)^-1 with
    # H = diag(1 / (1 + x_f^2)) at the observed sites, written here with NumPy
    args = TwinInput(**{**ARCTAN_TWIN, "Ko": 1, "method": "3dvar", "xB": 0.1,
                        "obs_sites": "every_other"})
    setup = build_setup(args)
    gen = torch.Generator().manual_seed(0)
    _, yy = simulate_truth(setup, gen)
    trace = Var3D(xB=0.1).assimilate(setup, yy, gen)
    x_f, y = trace.mean_f[0].numpy(), yy[0].numpy()
    B, sites = 0.1 * setup.clim.cov.numpy(), np.arange(0, 40, 2)
    H = np.zeros((20, 40))
    H[np.arange(20), sites] = 1.0 / (1.0 + x_f[sites] ** 2)
    K = B @ H.T @ np.linalg.inv(H @ B @ H.T + 0.01 * np.eye(20))
    np.testing.assert_allclose(trace.mean_a[0].numpy(), x_f + K @ (y - np.arctan(x_f[sites])),
                               rtol=1e-10, atol=1e-12)
