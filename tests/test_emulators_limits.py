"""Work limits: a request past them is a one-line error, found before any work is done."""

from __future__ import annotations

import time

import pytest

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators import limits
from climcopilot.tools.emulators.tools import evaluate, hybrid, lyapunov, simulate, train

CASES = [
    (simulate, {"system": "lorenz96", "dt": 1e-300, "spinup": 0},
     r"duration 50 MTU at dt=1e-300 MTU is 5e\+301 solver steps; the limit is 1,000,000: "
     r"lower duration or raise dt"),
    (simulate, {"system": "lorenz63", "dt": 1e-320, "duration": 1000, "spinup": 0},
     r"duration 1000 MTU at dt=9.99989e-321 MTU is inf solver steps"),
    (simulate, {"system": "lorenz96", "spinup": 1e5}, r"spinup 100000 MTU .* lower spinup"),
    (simulate, {"system": "lorenz96", "members": 100_000, "duration": 5000},
     r"100,000 members x 100,200 steps x 40 values = 4.01e\+11 state updates; the limit is "
     r"1e\+10: lower duration, spinup or members, or raise dt"),
    (simulate, {"system": "kolmogorov", "members": 100, "duration": 20, "every": 1},
     r"the result would keep 4.1e\+08 values \(3.3 GB of float64\); the limit is 2.5e\+08"),
    (lyapunov, {"system": "lorenz96", "dt": 1e-9}, r"transient 10 MTU at dt=1e-09 MTU"),
    (lyapunov, {"system": "lorenz96", "members": 1024, "duration": 20_000},
     r"1,024 members x 400,400 steps x 1,640 values .* lower duration, transient, members or "
     r"n_exponents"),
    (train, {"system": "lorenz96", "epochs": 1000, "members": 64, "duration": 1000},
     r"1,000 epochs x 1,280,000 training pairs x 1 rollout steps = 1.28e\+09 sample steps; "
     r"the limit is 5e\+07"),
    (evaluate, {"model": None, "forecast_model": "lorenz96", "n_starts": 100_000,
                "lead_time": 1000}, r"100,000 members x 20,000 steps x 40 values .* lower "
     r"lead_time or n_starts"),
    (hybrid, {"dt": 1e-12}, r"spinup 10 MTU at dt=1e-12 MTU"),
]


@pytest.mark.parametrize("tool, args, message", CASES,
                         ids=[f"{tool.name}-{i}" for i, (tool, _, _) in enumerate(CASES)])
def test_past_a_limit_is_a_one_line_error_at_once(tmp_path, tool, args, message):
    start = time.perf_counter()
    with pytest.raises(ToolError, match=message) as error:
        tool.run(args, ToolContext(workspace=tmp_path))
    assert time.perf_counter() - start < 5  # refused before the work
    text = str(error.value)
    assert "\n" not in text and text.endswith("or pass allow_large=true")


def test_allow_large_lifts_the_limits():
    assert limits.step_count(3e6, 1.0, allow_large=True) == 3_000_000
    limits.check_work(members=10**6, steps=10**6, values=40, allow_large=True)
    limits.check_training(epochs=1000, pairs=10**8, rollout_steps=1, allow_large=True)
    with pytest.raises(ToolError, match="inf solver steps"):  # no count is not a count
        limits.step_count(1.0, 1e-320 / 1e10, allow_large=True)


def test_the_limits_are_in_every_tool_schema():
    for tool in (simulate, lyapunov, train, evaluate, hybrid):
        field = tool.openai_schema()["function"]["parameters"]["properties"]["allow_large"]
        assert field["type"] == "boolean" and "1,000,000 solver steps" in field["description"]
