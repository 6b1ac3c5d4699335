"""Plugins: tools from other packages, found through the ``climcopilot.tools`` entry points.

A plugin package declares, in its pyproject.toml::

    [project.entry-points."climcopilot.tools"]
    mymodel = "mymodel.tools"

and defines its tools in that module with :func:`climcopilot.tools.base.tool`. A plugin that
cannot be imported, or a tool whose schema does not build, is skipped with a one-line reason;
the other tools still load. :func:`contract_problems` is what ``climcopilot tools check`` runs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, distributions, entry_points
from pathlib import Path
from typing import Any

from climcopilot.tools.base import Tool

ENTRY_POINT_GROUP = "climcopilot.tools"


@dataclass
class PluginLoad:
    """What loading one or more entry points gave: usable tools, and what was skipped why."""

    tools: list[Tool] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load(points: list[EntryPoint]) -> PluginLoad:
    """Import each entry point's module and keep the tools whose schemas build."""
    out = PluginLoad()
    for ep in points:
        try:
            module = ep.load()
        except Exception as exc:  # a broken plugin must not stop the others
            detail = str(exc).splitlines()[0] if str(exc) else ""
            out.problems.append(f"plugin {ep.name!r} ({ep.value}) failed to import: "
                                f"{type(exc).__name__}: {detail}")
            continue
        found = [obj for obj in vars(module).values() if isinstance(obj, Tool)]
        if not found:
            out.problems.append(f"plugin {ep.name!r} ({ep.value}) defines no tool")
        for t in found:
            try:
                t.openai_schema()
            except Exception as exc:
                out.problems.append(f"tool {t.name!r} of plugin {ep.name!r} has a broken "
                                    f"schema: {type(exc).__name__}: {exc}")
                continue
            out.tools.append(t)
    return out


def installed_points(distribution: str | None = None) -> list[EntryPoint]:
    """Entry points of the group, of every installed package or of one (by its name)."""
    if distribution is None:
        return list(entry_points(group=ENTRY_POINT_GROUP))
    for dist in distributions():
        if dist.metadata["Name"].lower().replace("_", "-") == \
                distribution.lower().replace("_", "-"):
            return [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
    return []


def source_dirs() -> list[Path]:
    """Folders holding the plugins' top-level packages (the sandbox binds them read-only)."""
    dirs = []
    for ep in installed_points():
        spec = importlib.util.find_spec(ep.value.split(":")[0].split(".")[0])
        if spec is not None and spec.origin is not None:
            dirs.append(Path(spec.origin).resolve().parent.parent)
    return sorted(set(dirs))


def contract_problems(tool: Tool) -> list[str]:
    """What a tool lacks under the plugin contract: a description, a description and a range
    for every input, and an example call (model ``examples`` or all-default inputs)."""
    problems = []
    if not tool.description.strip():
        problems.append(f"{tool.name}: no description (the function's docstring)")
    schema = tool.input_model.model_json_schema()
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description"):
            problems.append(f"{tool.name}: input {name!r} has no description (units, meaning)")
        kinds = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
        bounded = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} & prop.keys()
        if kinds & {"number", "integer"} and not bounded:
            problems.append(f"{tool.name}: numeric input {name!r} declares no range (ge/le)")
    if example_arguments(tool) is None:
        problems.append(f"{tool.name}: no example call: give the input model "
                        "json_schema_extra={'examples': [{...}]} or defaults for every input")
    return problems


def example_arguments(tool: Tool) -> dict[str, Any] | None:
    """Arguments for a trial call: the input model's first example, else all defaults."""
    extra = tool.input_model.model_config.get("json_schema_extra") or {}
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if examples:
        return dict(examples[0])
    try:
        tool.input_model()
    except Exception:
        return None
    return {}
