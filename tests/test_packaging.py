"""Packaging: every package folder is installed under the climcopilot namespace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
TOP = ("agent", "tools", "knowledge", "sandbox", "evals")
PACKAGE_TOP = "agent/notebook_api"  # the folder that is `climcopilot` itself


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {"climcopilot." + ".".join(p.parent.relative_to(ROOT).parts)
             for top in TOP for p in (ROOT / top).rglob("__init__.py")
             if p.parent != ROOT / PACKAGE_TOP}
    assert found | {"climcopilot"} == listed
    assert all(config["package-dir"][f"climcopilot.{top}"] == top for top in TOP)
    assert config["package-dir"]["climcopilot"] == PACKAGE_TOP
    assert not [p for p in (ROOT / PACKAGE_TOP).iterdir() if p.is_dir() and
                p.name != "__pycache__"], "the package top holds __init__.py only"


def test_import_climcopilot_is_light() -> None:
    # `import climcopilot` must not pull in the agent (langgraph, torch...): Copilot is lazy.
    code = ("import sys, climcopilot; assert 'climcopilot.agent' not in sys.modules; "
            "assert 'langgraph' not in sys.modules; print(climcopilot.Copilot.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "Copilot", out.stderr


def test_tool_schemas_build_for_every_registered_tool() -> None:
    from climcopilot.tools.registry import registry

    tools = registry()
    assert len(tools) >= 4
    for tool in tools.values():
        schema = tool.openai_schema()["function"]
        assert schema["name"] == tool.name.replace(".", "__") and schema["description"]
        assert schema["parameters"]["type"] == "object"
