"""`climcopilot tools new NAME`: a plugin package to start from, with a tool and a test.

The generated tool integrates the relaxation of an anomaly, dx/dt = -x / tau: small, with an
exact solution its test checks, and every part of the plugin contract (described inputs with
ranges, an example call, a result with its own checks).
"""

from __future__ import annotations

import re
from pathlib import Path

from climcopilot.tools.base import ToolError

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
description = "A ClimCopilot plugin"
requires-python = ">=3.10"
dependencies = ["climcopilot"]

[project.entry-points."climcopilot.tools"]
{name} = "{name}.tools"

[tool.setuptools]
packages = ["{name}"]
'''

TOOLS = '''"""Tools of the {name} plugin (the contract: ClimCopilot's docs/plugins.md)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from climcopilot.tools.base import Check, ToolContext, ToolResult, tool


class RelaxInput(BaseModel):
    model_config = ConfigDict(json_schema_extra={{"examples": [{{"x0": 2.0, "tau_days": 30.0,
                                                               "days": 30.0}}]}})

    x0: float = Field(ge=-100, le=100, description="initial anomaly (K)")
    tau_days: float = Field(gt=0, le=36500, description="relaxation time scale (days)")
    days: float = Field(ge=0, le=36500, description="how long to integrate (days)")


class RelaxResult(ToolResult):
    pass


@tool("{name}.relax", family="{name}")
def relax(args: RelaxInput, ctx: ToolContext) -> RelaxResult:
    """Relax a temperature anomaly towards zero, dx/dt = -x / tau, for `days` days; returns
    the final anomaly (K). Replace with your own model."""
    x = args.x0 * math.exp(-args.days / args.tau_days)
    checks = [Check(name="decays", passed=abs(x) <= abs(args.x0),
                    detail="|x(t)| <= |x0| for a relaxation")]
    return RelaxResult(summary=f"anomaly {{x:.3f}} K after {{args.days:g}} days",
                       values={{"x_final": x}}, units={{"x_final": "K"}}, checks=checks)
'''

TEST = '''"""Tests of the {name} plugin."""

import math

from climcopilot.tools.base import ToolContext
from climcopilot.tools.registry import get_tool


def test_relaxation_after_one_time_scale_is_x0_over_e(tmp_path):
    result = get_tool("{name}.relax").run({{"x0": 2.0, "tau_days": 10.0, "days": 10.0}},
                                          ToolContext(workspace=tmp_path))
    assert math.isclose(result.values["x_final"], 2.0 / math.e)
    assert result.ok
'''


def new_plugin(name: str, parent: Path) -> Path:
    """Write the plugin package ``parent/name``; refuses an existing folder."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ToolError(f"plugin name {name!r} must be lower case letters, digits and _ "
                        "(it becomes the tools' family, e.g. mymodel.relax)")
    root = Path(parent) / name
    if root.exists():
        raise ToolError(f"{root} already exists; choose another name or folder")
    (root / name).mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=name))
    (root / name / "__init__.py").write_text(f'"""The {name} ClimCopilot plugin."""\n')
    (root / name / "tools.py").write_text(TOOLS.format(name=name))
    (root / "tests" / f"test_{name}.py").write_text(TEST.format(name=name))
    return root
