"""What the system tools report for the questions people ask of them: each Lorenz-63 variable's
own statistics, and the error-doubling time of a chaotic system."""

from __future__ import annotations

import math
from pathlib import Path

from climcopilot.tools.base import ToolContext
from climcopilot.tools.registry import get_tool


def test_lorenz63_reports_each_variables_long_run_statistics(tmp_path: Path) -> None:
    result = get_tool("emulators.simulate").run(
        {"system": "lorenz63", "duration": 100, "members": 4}, ToolContext(tmp_path))
    v = result.values
    # x and y are symmetric about 0 on the attractor; z averages rho - 1 - ... ~ 23.5
    # (Lorenz 1963, sigma 10, rho 28, beta 8/3; e.g. Sparrow 1982)
    assert abs(v["mean_x"]) < 1.0 and abs(v["mean_y"]) < 1.0
    assert abs(v["mean_z"] - 23.5) < 0.5 and 7.5 < v["std_z"] < 9.0
    pooled = (v["mean_x"] + v["mean_y"] + v["mean_z"]) / 3
    assert abs(pooled - v["mean"]) < 1e-9  # the old pooled mean is the mean of the three


def test_doubling_time_is_ln2_over_the_leading_exponent(tmp_path: Path) -> None:
    result = get_tool("emulators.lyapunov").run({"system": "lorenz63"}, ToolContext(tmp_path))
    v = result.values
    assert math.isclose(v["doubling_time"], math.log(2) / v["leading"], rel_tol=1e-12)
    assert 0.7 < v["doubling_time"] < 0.9  # leading exponent 0.9056 (Sprott 2003)
