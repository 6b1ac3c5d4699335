"""emulators.evaluate on a model that resolve_model builds (a built-in system, the example
plugin's torch emulator) instead of an emulators.train handle.

The example plugin (examples/l96_emulator) is installed as in tests/test_plugin_model_da.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_plugin_model_da import site  # noqa: F401 (the fixture installing the example)

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.tools import EvaluateResult, evaluate

# Lorenz-96 N = 40, F = 8 (Lyapunov time about 0.6 MTU); leads every 0.05 MTU up to 3 MTU.
SETTINGS = {"system": "lorenz96", "lead_time": 3.0, "n_starts": 20, "climate_duration": 5.0}


@pytest.fixture(scope="module")
def exact(tmp_path_factory: pytest.TempPathFactory) -> EvaluateResult:
    """The built-in lorenz96 (same dt) scored against itself."""
    ctx = ToolContext(workspace=tmp_path_factory.mktemp("exact"))
    return evaluate.run({**SETTINGS, "forecast_model": "lorenz96"}, ctx)


def test_the_exact_model_has_zero_error_at_every_lead(exact: EvaluateResult) -> None:
    assert len(exact.leads) == 61 and exact.leads[-1] == pytest.approx(3.0)
    assert max(exact.rmse) < 1e-8
    assert min(exact.acc) > 1 - 1e-12
    # Valid over the whole lead range: no lead where RMSE / climatological std exceeds 0.5.
    assert "valid_time" not in exact.values and "beyond the 3 MTU leads" in exact.summary
    assert exact.rmse_persistence[-1] > 3.0  # the truth does move: persistence is poor
    assert all(check.passed for check in exact.checks)


@pytest.mark.usefixtures("site")
def test_the_plugin_emulator_beats_persistence_and_loses_skill_before_the_exact_model(
        exact: EvaluateResult, tmp_path: Path) -> None:
    cnn = evaluate.run({**SETTINGS, "forecast_model": "l96_cnn"},
                       ToolContext(workspace=tmp_path))
    assert cnn.summary.startswith("l96_cnn on lorenz96(N=40, F=8.0)")
    assert cnn.leads == exact.leads  # tau = the plugin's dt = 0.05 MTU
    values = cnn.values
    assert values["rmse_at_1lt"] < 0.1 * values["rmse_persistence_at_1lt"]
    assert {c.name: c.passed for c in cnn.checks}["beats_persistence"]
    assert 0 < cnn.rmse[1] < cnn.rmse[-1]  # an imperfect model: the error grows with lead
    assert math.isfinite(values["valid_time"]) and 1.0 < values["valid_time"] < 3.0


@pytest.mark.parametrize("args, match", [
    ({"model": "emulator", "forecast_model": "lorenz96"},
     "give model 'emulator' or forecast_model 'lorenz96', not both"),
    ({"model": None}, "nothing to score: give model"),
    ({"forecast_model": "l96_gnn"}, "unknown model 'l96_gnn'; known: lorenz63"),
    ({"forecast_model": "lorenz96", "forecast_params": {"N": 36}},
     "forecast_model lorenz96.N=36.* has 36 state variables but the true system's states have "
     "40"),
    ({"system": "lorenz63"}, "system and forecast_params go with forecast_model"),
])
def test_what_cannot_be_scored_is_a_clear_error(args: dict, match: str, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=match):
        evaluate.run(args, ToolContext(workspace=tmp_path))
