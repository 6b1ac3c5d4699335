"""Plugins: scaffold, discovery through entry points, the contract check, use in a plan.

A plugin is "installed" by writing its package and a dist-info folder with entry_points.txt
into a folder on PYTHONPATH: importlib.metadata finds it exactly as it finds a pip install.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import run_cli

from climcopilot.tools.contract import contract_problems, load
from climcopilot.tools.plugins import installed_points, read_local_plugin


def install(site: Path, project: Path, name: str, entry: str) -> None:
    """Put ``project/name`` on ``site`` and declare ``entry`` as its climcopilot.tools entry."""
    write_dist_info(site, name, f"[climcopilot.tools]\n{name} = {entry}\n")
    shutil.copytree(project / name, site / name)


def install_project(site: Path, project: Path) -> str:
    """Install the plugin project at ``project`` onto ``site`` as pip would: its package and
    the entry points of its pyproject.toml; returns the project name."""
    name, points = read_local_plugin(project)
    write_dist_info(site, name, "".join(f"[{ep.group}]\n{ep.name} = {ep.value}\n"
                                        for ep in points))
    shutil.copytree(project / name, site / name, ignore=shutil.ignore_patterns("__pycache__"))
    return name


def write_dist_info(site: Path, name: str, entry_points: str) -> None:
    info = site / f"{name}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_scaffolded_plugin_is_listed_checked_and_called_in_a_plan(home: Path,
                                                                   tmp_path: Path) -> None:
    made = run_cli("tools", "new", "relaxer", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    site = tmp_path / "site"
    site.mkdir()
    install_project(site, tmp_path / "relaxer")
    env = {"PYTHONPATH": str(site)}
    listed = json.loads(run_cli("tools", "list", "--json", env=env).stdout)
    assert "relaxer.relax" in {t["name"] for t in listed}
    checked = run_cli("tools", "check", "relaxer", env=env)
    assert checked.returncode == 0 and "1 tools, 0 problems" in checked.stdout, checked.stdout
    script = tmp_path / "plan.json"
    script.write_text(json.dumps([
        {"tool": "relaxer.relax", "arguments": {"x0": 3.0, "tau_days": 5.0, "days": 5.0}},
        {"answer": "relaxed"}]))
    asked = run_cli("ask", "--json", "--brain", "scripted", "--script", str(script),
                    "How fast does a 3 K temperature anomaly relax?", env=env)
    assert asked.returncode == 0, asked.stderr
    # Exact solution of dx/dt = -x / tau after one time scale: x0 / e.
    assert abs(json.loads(asked.stdout)["values"]["x_final"] - 3.0 / 2.718281828459045) < 1e-9


def test_broken_plugins_are_reported_and_skipped(home: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    run_cli("tools", "new", "good", "--dir", str(tmp_path))
    install(site, tmp_path / "good", "good", "good.tools")
    raising = tmp_path / "src" / "raising"
    raising.mkdir(parents=True)
    (raising / "__init__.py").write_text("")
    (raising / "tools.py").write_text("raise RuntimeError('boom at import')\n")
    install(site, tmp_path / "src", "raising", "raising.tools")
    missing = tmp_path / "src" / "missing"
    missing.mkdir()
    (missing / "__init__.py").write_text("")
    install(site, tmp_path / "src", "missing", "missing.no_such_module")
    schema = tmp_path / "src" / "badschema"
    schema.mkdir()
    (schema / "__init__.py").write_text("")
    (schema / "tools.py").write_text(
        "from typing import Callable\nfrom pydantic import BaseModel, ConfigDict\n"
        "from climcopilot.tools.base import ToolResult, tool\n"
        "class In(BaseModel):\n    model_config = ConfigDict(arbitrary_types_allowed=True)\n"
        "    f: Callable\n"
        "@tool('badschema.run', family='badschema')\n"
        "def run(args: In, ctx) -> ToolResult:\n    'Broken.'\n    return ToolResult()\n")
    install(site, tmp_path / "src", "badschema", "badschema.tools")
    env = {"PYTHONPATH": str(site)}
    listed = run_cli("tools", "list", "--json", env=env)
    names = {t["name"] for t in json.loads(listed.stdout)}
    assert "good.relax" in names and "data.open_series" in names
    assert not {"badschema.run"} & names
    warnings = [line for line in listed.stderr.splitlines() if "warning: skipped" in line]
    assert len(warnings) == 3, listed.stderr
    assert any("boom at import" in w for w in warnings)
    assert any("no_such_module" in w for w in warnings)
    assert any("broken schema" in w for w in warnings)
    for name, expected in [("raising", "boom at import"), ("missing", "no_such_module"),
                           ("badschema", "broken schema")]:
        checked = run_cli("tools", "check", name, env=env)
        assert checked.returncode == 1 and expected in checked.stdout, (name, checked.stdout)


FAULTY_MODELS = '''
import torch
from torch import nn
from climcopilot.tools.base import KnowledgeCard
from climcopilot.tools.emulators.models import TorchModel

class Dropping:
    name, dim, default_dt = "dropping", 4, 0.1
    def step(self, x, dt):
        return x[..., :-1]
    def base_state(self):
        return torch.zeros(4, dtype=torch.float64)

class Detached(Dropping):
    name = "detached"
    def step(self, x, dt):
        return torch.from_numpy(x.detach().numpy().copy())

def dropping():
    return Dropping()

def detached():
    return Detached()

def needs_weights():
    raise RuntimeError("weights file missing")

def not_a_model():
    return 42

def uncited():
    return TorchModel(nn.Linear(4, 4), dim=4, dt=0.1)

uncited.card = KnowledgeCard(what="A linear map of four variables.",
                             when_to_use="Never; it only shows a card without references.")

def linear():
    return TorchModel(nn.Linear(4, 4), dim=4, dt=0.1)
'''

FAULTY_TOOLS = '''
from pydantic import BaseModel, ConfigDict, Field
from climcopilot.tools.base import KnowledgeCard, ToolResult, ValidRange, tool

class In(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"x": 50.0}]})
    x: float = Field(ge=0, le=100, description="a length (m)")

@tool("faulty.measure", family="faulty", card=KnowledgeCard(
    what="Measures nothing at all, on purpose.", when_to_use="In the contract tests only.",
    references=["docs/plugins.md"],
    valid_ranges={"x": ValidRange(low=0, high=10, units="m"),
                  "depth": ValidRange(low=0, high=1, units="m")}))
def measure(args: In, ctx) -> ToolResult:
    "Measure x (m)."
    return ToolResult(values={"x": args.x})
'''

BAD_CARD = '''
from climcopilot.tools.base import KnowledgeCard, ValidRange
CARD = KnowledgeCard(what="A card whose range is upside down.", when_to_use="Never, really.",
                     valid_ranges={"x": ValidRange(low=5, high=1)})
'''


def test_model_and_card_contract_problems_are_reported(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "faulty").mkdir(parents=True)
    (site / "faulty" / "__init__.py").write_text("")
    (site / "faulty" / "models.py").write_text(FAULTY_MODELS)
    (site / "faulty" / "tools.py").write_text(FAULTY_TOOLS)
    (site / "faulty" / "badcard.py").write_text(BAD_CARD)
    models = ["dropping", "detached", "needs_weights", "not_a_model", "uncited", "linear"]
    write_dist_info(site, "faulty", "[climcopilot.tools]\nfaulty = faulty.tools\n"
                    "badcard = faulty.badcard\n[climcopilot.models]\n"
                    + "".join(f"{m} = faulty.models:{m}\n" for m in models))
    monkeypatch.syspath_prepend(str(site))
    loaded = load(installed_points("faulty"))
    problems = "\n".join(loaded.problems)
    assert "model 'dropping': step maps a (2, 4) batch to (2, 3)" in problems
    assert "model 'detached': says differentiable=True but step gives no finite gradient" \
        in problems
    assert "model 'needs_weights' could not be built with {}: RuntimeError: weights file " \
        "missing" in problems
    assert "model 'not_a_model': its factory returned a int, which lacks name, dim" in problems
    assert "model 'uncited': its card cites no references" in problems
    assert "'badcard'" in problems and "low < high" in problems
    assert list(loaded.models) == ["linear"]  # a model with no card needs none
    (measure,) = loaded.tools
    tool_problems = "\n".join(contract_problems(measure))
    assert "valid range for 'depth', which is not one of its inputs (x)" in tool_problems
    assert "example's x=50.0 lies outside its card's valid range 0..10" in tool_problems
    assert "What: Measures nothing" in measure.openai_schema()["function"]["description"]
    assert sys.modules["faulty.models"]  # imported in this process, as at start-up
