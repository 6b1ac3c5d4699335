"""Packaging: every package folder is installed under the climcopilot namespace."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
TOP = ("agent", "tools", "knowledge", "sandbox", "evals")


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {"climcopilot." + ".".join(p.parent.relative_to(ROOT).parts)
             for top in TOP for p in (ROOT / top).rglob("__init__.py")}
    assert found == listed
    assert all(config["package-dir"][f"climcopilot.{top}"] == top for top in TOP)


def test_tool_schemas_build_for_every_registered_tool() -> None:
    from climcopilot.tools.registry import registry

    tools = registry()
    assert len(tools) >= 4
    for tool in tools.values():
        schema = tool.openai_schema()["function"]
        assert schema["name"] == tool.name.replace(".", "__") and schema["description"]
        assert schema["parameters"]["type"] == "object"
