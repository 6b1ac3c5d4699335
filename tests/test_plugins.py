"""Plugins: scaffold, discovery through entry points, the contract check, use in a plan.

A plugin is "installed" by writing its package and a dist-info folder with entry_points.txt
into a folder on PYTHONPATH: importlib.metadata finds it exactly as it finds a pip install.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import run_cli


def install(site: Path, project: Path, name: str, entry: str) -> None:
    """Put ``project/name`` on ``site`` and declare ``entry`` as its climcopilot.tools entry."""
    shutil.copytree(project / name, site / name)
    info = site / f"{name}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[climcopilot.tools]\n{name} = {entry}\n")


def test_scaffolded_plugin_is_listed_checked_and_called_in_a_plan(home: Path,
                                                                   tmp_path: Path) -> None:
    made = run_cli("tools", "new", "relaxer", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    site = tmp_path / "site"
    site.mkdir()
    install(site, tmp_path / "relaxer", "relaxer", "relaxer.tools")
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
