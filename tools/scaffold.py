"""`climcopilot tools new NAME`: a plugin package to start from: a tool, a model and a test.

The generated tool integrates the relaxation of an anomaly, dx/dt = -x / tau: small, with an
exact solution its test checks, and every part of the plugin contract (described inputs with
ranges, an example call, a result with its own checks, a knowledge card). The generated model
is the same relaxation as a :class:`~climcopilot.tools.emulators.models.Model` the DA tools can use.
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

[project.entry-points."climcopilot.models"]
{name}_relaxation = "{name}.models:relaxation"

[tool.setuptools]
packages = ["{name}"]
'''

TOOLS = '''"""Tools of the {name} plugin (the contract: ClimCopilot's docs/plugins.md)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from climcopilot.tools.sdk import (
    Check,
    KnowledgeCard,
    ToolContext,
    ToolResult,
    ValidRange,
    tool,
)


class RelaxInput(BaseModel):
    model_config = ConfigDict(json_schema_extra={{"examples": [{{"x0": 2.0, "tau_days": 30.0,
                                                               "days": 30.0}}]}})

    x0: float = Field(ge=-100, le=100, description="initial anomaly (K)")
    tau_days: float = Field(gt=0, le=36500, description="relaxation time scale (days)")
    days: float = Field(ge=0, le=36500, description="how long to integrate (days)")


class RelaxResult(ToolResult):
    pass


CARD = KnowledgeCard(
    what="Exponential relaxation of a temperature anomaly towards zero, dx/dt = -x / tau.",
    when_to_use="To estimate how much of an anomaly is left after some days, given its "
                "damping time scale; not for forced or oscillating anomalies.",
    references=["Hasselmann (1976), Stochastic climate models, doi:10.3402/tellusa.v28i6.11316"],
    valid_ranges={{"tau_days": ValidRange(low=1, high=3650, units="days")}},
)


@tool("{name}.relax", family="{name}", card=CARD)
def relax(args: RelaxInput, ctx: ToolContext) -> RelaxResult:
    """Relax a temperature anomaly towards zero, dx/dt = -x / tau, for `days` days; returns
    the final anomaly (K). Replace with your own model."""
    x = args.x0 * math.exp(-args.days / args.tau_days)
    checks = [Check(name="decays", passed=abs(x) <= abs(args.x0),
                    detail="|x(t)| <= |x0| for a relaxation")]
    return RelaxResult(summary=f"anomaly {{x:.3f}} K after {{args.days:g}} days",
                       values={{"x_final": x}}, units={{"x_final": "K"}}, checks=checks)
'''

MODELS = '''"""Models of the {name} plugin: what the DA tools can forecast with (docs/plugins.md).

A model has name, dim, default_dt, step(x, dt) on states (..., dim) and base_state(); wrap a
torch emulator with climcopilot.tools.emulators.models.TorchModel instead of writing a class.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from climcopilot.tools.sdk import KnowledgeCard


class Relaxation:
    """dx/dt = -x / tau for each of ``dim`` variables, stepped exactly: x exp(-dt / tau)."""

    name = "{name}_relaxation"
    default_dt = 0.05  # model time units
    differentiable = True

    def __init__(self, dim: int = 40, tau: float = 1.0) -> None:
        self.dim, self.tau = dim, tau

    def step(self, x: Tensor, dt: float) -> Tensor:
        return x * math.exp(-dt / self.tau)

    def base_state(self) -> Tensor:
        return torch.ones(self.dim, dtype=torch.float64)


def relaxation(dim: int = 40, tau: float = 1.0) -> Relaxation:
    """The {name}_relaxation model (entry point climcopilot.models). Replace with your own."""
    return Relaxation(dim, tau)


relaxation.card = KnowledgeCard(
    what="Independent exponential relaxation of each state variable, dx/dt = -x / tau.",
    when_to_use="A placeholder forecast model to replace with your own; it has no dynamics "
                "worth assimilating into.",
    references=["docs/plugins.md of ClimCopilot"],
)
'''

TEST = '''"""Tests of the {name} plugin."""

import math

import torch

from climcopilot.tools.sdk import ToolContext, get_tool, resolve_model


def test_relaxation_after_one_time_scale_is_x0_over_e(tmp_path):
    result = get_tool("{name}.relax").run({{"x0": 2.0, "tau_days": 10.0, "days": 10.0}},
                                          ToolContext(workspace=tmp_path))
    assert math.isclose(result.values["x_final"], 2.0 / math.e)
    assert result.ok


def test_the_model_relaxes_by_e_over_one_time_scale():
    model = resolve_model("{name}_relaxation", dim=3, tau=0.5)
    x = torch.ones(2, 3, dtype=torch.float64)
    for _ in range(10):
        x = model.step(x, 0.05)
    assert torch.allclose(x, torch.full((2, 3), math.exp(-1.0), dtype=torch.float64))
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
    (root / name / "models.py").write_text(MODELS.format(name=name))
    (root / "tests" / f"test_{name}.py").write_text(TEST.format(name=name))
    return root
