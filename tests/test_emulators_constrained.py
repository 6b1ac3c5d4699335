"""emulators.constrained_closure: the constrained closure's energy budget X.g = e, computed
here with NumPy from the closure's outputs and the two-scale truth's own fast variables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from climcopilot.tools.base import ToolContext
from climcopilot.tools.emulators.constrained import constrained_closure, run_constrained
from climcopilot.tools.emulators.simulate import simulate_states
from climcopilot.tools.emulators.systems import Lorenz96TwoScale, cpu_threads

SMALL = {"train_duration": 3.0, "online_duration": 3.0, "members": 2, "iterations": 200}


def numpy_budget_error(x: np.ndarray, g: np.ndarray, e: np.ndarray,
                       states: np.ndarray, system: Lorenz96TwoScale) -> np.ndarray:
    """|X.g - e| / rms(X.U), U_k = -(h c / b) sum_j Y_jk from the full states."""
    y = states[..., system.K:].reshape(*states.shape[:-1], system.K, system.J)
    u = -(system.h * system.c / system.b) * y.sum(-1)
    transfer = (x * u).sum(-1)
    return np.abs((x * g).sum(-1) - e) / np.sqrt((transfer**2).mean())


def test_the_constrained_closure_closes_its_budget_to_machine_precision() -> None:
    system = Lorenz96TwoScale()
    with cpu_threads(1):  # as the tool runs: tiny tensors, a shared CPU
        outcome = run_constrained(system, dt=0.005, sample_every=10, penalty=1.0, seed=0,
                                  **SMALL)
        states = simulate_states(system, dt=0.005, duration=2.0, spinup=5.0, every=10, seed=7,
                                 members=2).numpy()
    x = states[..., :system.K]
    errors = {}
    for variant, closure in outcome.closures.items():
        with torch.no_grad():
            g, e = (t.numpy() for t in closure.budget(torch.from_numpy(x)))
        errors[variant] = numpy_budget_error(x, g, e, states, system)
    assert errors["constrained"].max() < 1e-6
    assert errors["penalised"].max() > 1e-6 and errors["unconstrained"].max() > 1e-6
    assert outcome.scores["constrained"].budget_max < 1e-6
    assert outcome.scores["constrained"].online_budget_max < 1e-6
    assert outcome.scores["penalised"].budget_max > 1e-6  # reported, not exact


def test_the_tool_reports_each_variant(tmp_path: Path) -> None:
    result = constrained_closure.run(SMALL, ToolContext(workspace=tmp_path))
    assert result.ok, result.checks
    for variant in ("constrained", "penalised", "unconstrained"):
        assert np.isfinite(result.values[f"budget_error_max_{variant}"])
        assert 0 < result.values[f"r2_tendency_{variant}"] <= 1
        assert np.isfinite(result.values[f"pdf_distance_{variant}"])
    assert result.values["budget_error_max_constrained"] < 1e-6
    assert Path(result.figures[0]).is_file()


@pytest.mark.slow
def test_the_penalty_lowers_the_budget_error_at_the_defaults(tmp_path: Path) -> None:
    result = constrained_closure.run({}, ToolContext(workspace=tmp_path))
    v = result.values
    assert v["budget_error_max_constrained"] < 1e-6
    assert v["online_budget_error_max_constrained"] < 1e-6
    assert v["budget_error_mean_penalised"] < v["budget_error_mean_unconstrained"]
    assert all(v[f"stable_{k}"] == 1.0 for k in ("constrained", "penalised", "unconstrained"))
