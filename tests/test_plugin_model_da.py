"""The example plugin's torch emulator (examples/l96_emulator) as the DA tools' forecast model.

The plugin is installed as tests/test_plugins.py does (package and dist-info on a folder on
PYTHONPATH) and assimilated with through the CLI, in the sandboxed kernel.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from conftest import run_cli
from test_plugins import install_project

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.ensemble import LETKF
from climcopilot.tools.da.inputs import TwinInput
from climcopilot.tools.da.twin import build_setup, run_twin, simulate_truth
from climcopilot.tools.da.variational import Var4D
from climcopilot.tools.emulators.models import TorchModel, resolve_model

EXAMPLE = Path(__file__).parents[1] / "examples" / "l96_emulator"
# ETKF on the 40-variable Lorenz-96 ring, every site observed with obs_var 1; 200 scored cycles.
TWIN = {"method": "etkf", "N": 20, "infl": 1.03, "Ko": 400, "seed": 0, "device": "cpu"}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example installed on a site folder, on PYTHONPATH here and for subprocesses."""
    path = tmp_path / "site"
    path.mkdir()
    install_project(path, EXAMPLE)
    monkeypatch.syspath_prepend(str(path))
    return path


def test_etkf_with_the_emulator_beats_the_observations_and_the_exact_model_beats_both(
        home: Path, site: Path) -> None:
    ran = run_cli("tools", "run", "da.twin_experiment", "--json", "--args",
                  json.dumps({**TWIN, "forecast_model": "l96_cnn"}),
                  env={"PYTHONPATH": str(site)})
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert "forecast by l96_cnn" in result["summary"]
    with_emulator = result["values"]["rmse_a"]
    assert math.isfinite(with_emulator) and with_emulator < 1.0  # obs error std = sqrt(1)
    # Same truth and observations (same seed), forecast with the exact equations instead.
    exact = run_twin(TwinInput(**TWIN)).rmse_a
    assert exact < with_emulator


@pytest.mark.parametrize("args, match", [
    ({"forecast_model": "l96_cnn", "system_params": {"N": 36}},
     "has 40 state variables but the system lorenz96.N=36.* has 36"),
    ({"forecast_model": "l96_gnn"}, "unknown model 'l96_gnn'; known: lorenz63.*l96_cnn"),
    ({"forecast_model": "l96_cnn", "forecast_params": {"F": 9}},
     "'l96_cnn' does not take parameters .'F'."),
    ({"forecast_params": {"F": 9}}, "forecast_params given without forecast_model"),
])
def test_a_forecast_model_that_does_not_fit_is_a_clear_error(site: Path, args: dict,
                                                             match: str) -> None:
    with pytest.raises(ToolError, match=match):
        run_twin(TwinInput(**{**TWIN, "Ko": 5, **args}))


def test_methods_say_what_the_forecast_model_lacks(site: Path) -> None:
    setup = build_setup(TwinInput(**{**TWIN, "Ko": 3}))
    _, yy = simulate_truth(setup, torch.Generator().manual_seed(0))
    emulator = resolve_model("l96_cnn")
    setup.model = TorchModel(emulator.module, dim=40, dt=0.05, tendency=True,
                             differentiable=False)
    with pytest.raises(ToolError, match="4dvar needs gradients .* differentiable=False"):
        Var4D().assimilate(setup, yy, torch.Generator())
    with pytest.raises(ToolError, match="letkf needs a spatial model .* has no positions"):
        LETKF(N=10).assimilate(setup, yy, torch.Generator())
