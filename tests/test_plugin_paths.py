"""Local-path plugins: folders on CLIMCOPILOT_PLUGIN_PATHS, used without installing them."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch
from conftest import run_cli

from climcopilot.sandbox.isolation import ENV_ALLOWED
from climcopilot.tools.contract import load
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.models import known_models, resolve_model
from climcopilot.tools.emulators.systems import integrate
from climcopilot.tools.plugins import PLUGIN_PATHS_ENV, installed_points, local_plugins

EXAMPLE = Path(__file__).parents[1] / "examples" / "l96_emulator"


@pytest.fixture
def local_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example plugin as a local path here; sys.path is restored afterwards."""
    monkeypatch.setenv(PLUGIN_PATHS_ENV, str(EXAMPLE))
    monkeypatch.setattr(sys, "path", list(sys.path))


def test_a_plugin_folder_is_found_and_a_bad_folder_is_one_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv(PLUGIN_PATHS_ENV, os.pathsep.join([str(tmp_path / "no_plugin_here"),
                                                          str(EXAMPLE)]))
    found, problems = local_plugins()
    assert list(found) == ["l96_emulator"] and str(EXAMPLE.resolve()) in sys.path
    assert len(problems) == 1 and "no_plugin_here" in problems[0] and "\n" not in problems[0]
    loaded = load(installed_points())  # what the registry loads at start-up
    assert "l96_emulator.forecast_skill" in {t.name for t in loaded.tools}
    assert not loaded.problems


def test_a_local_model_resolves_and_tracks_the_exact_equations(local_example: None) -> None:
    assert "l96_cnn" in known_models()
    emulator, exact = resolve_model("l96_cnn"), get_system("lorenz96")
    assert emulator.dim == exact.dim == 40
    gen = torch.Generator().manual_seed(3)
    x0 = exact.base_state() + torch.randn(4, 40, generator=gen, dtype=torch.float64)
    x0 = integrate(exact, x0, 0.05, 200, every=200)[-1]  # on the attractor after 10 MTU
    with torch.no_grad():
        truth = integrate(exact, x0, 0.05, 4, every=4)[-1]
        forecast = integrate(emulator, x0, 0.05, 4, every=4)[-1]
    # After 0.2 MTU the exact solution has moved by ~the climatological std (3.6); a working
    # emulator stays within 0.1 of it, one that has lost the dynamics does not.
    assert float((truth - x0).pow(2).mean().sqrt()) > 1.0
    assert float((forecast - truth).pow(2).mean().sqrt()) < 0.1


@pytest.mark.slow
@pytest.mark.skipif(PLUGIN_PATHS_ENV not in ENV_ALLOWED,
                    reason="the sandbox does not pass CLIMCOPILOT_PLUGIN_PATHS to the kernel")
def test_a_local_plugin_tool_is_listed_and_runs_in_the_kernel(home: Path) -> None:
    listed = run_cli("tools", "list", "--json", env={PLUGIN_PATHS_ENV: str(EXAMPLE)})
    assert "l96_emulator.forecast_skill" in {t["name"] for t in json.loads(listed.stdout)}
    ran = run_cli("tools", "run", "l96_emulator.forecast_skill", "--json", "--args",
                  json.dumps({"lead": 0.2, "members": 4}), env={PLUGIN_PATHS_ENV: str(EXAMPLE)})
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["values"]["forecast_rmse"] < 0.1
