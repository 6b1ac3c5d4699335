"""The registry: every tool the agent can call, from the built-in modules and from plugins.

A module contributes the :class:`~climcopilot.tools.base.Tool` objects it defines at module
level. Built-in modules are listed in ``BUILTIN_MODULES``; plugins name a module in the
``climcopilot.tools`` entry-point group or are folders on ``CLIMCOPILOT_PLUGIN_PATHS``
(:mod:`climcopilot.tools.plugins`). A plugin that fails to load is skipped with a one-line
warning and the rest still load.
"""

from __future__ import annotations

import importlib
import sys
from functools import lru_cache

from climcopilot.tools.base import Tool, ToolError
from climcopilot.tools.contract import load
from climcopilot.tools.manifest import BUILTIN_MODULES, ToolEntry, entries, entry, tools_in
from climcopilot.tools.plugins import installed_points, local_plugins


def listing() -> list[ToolEntry]:
    """Every tool's entry: the built-ins' from the manifest (none imported), then the
    plugins' (loaded)."""
    return [*entries().values(), *(ToolEntry.of(t) for t in plugin_tools().values())]


@lru_cache(maxsize=1)
def plugin_tools() -> dict[str, Tool]:
    """The plugins' tools by name (a plugin may not shadow a built-in). Plugins that fail to
    load are skipped with one line each on stderr."""
    plugins = load(installed_points())
    plugins.problems += local_plugins()[1]
    found: dict[str, Tool] = {}
    for t in plugins.tools:
        if entry(t.name) is not None:
            plugins.problems.append(f"tool {t.name!r} of a plugin: name already taken")
        else:
            found[t.name] = t
    for problem in plugins.problems:
        print(f"climcopilot: warning: skipped {problem}", file=sys.stderr)
    return found


@lru_cache(maxsize=1)
def registry() -> dict[str, Tool]:
    """All tools by name: built-ins first (every tool module imported), then plugins."""
    found: dict[str, Tool] = {}
    for name in BUILTIN_MODULES:
        for t in tools_in(importlib.import_module(name)):
            found[t.name] = t
    return {**found, **plugin_tools()}


def reload() -> None:
    """Forget the plugins loaded so far (after the plugin paths or packages changed)."""
    plugin_tools.cache_clear()
    registry.cache_clear()


def get_tool(name: str) -> Tool:
    """The tool called ``name`` (``family.verb``; ``family__verb`` as LLMs spell it). A
    built-in tool imports only its own module (found in the manifest); any other name loads
    every tool, plugins included."""
    key = name.replace("__", ".")
    known = entry(key)
    if known is not None:
        found = {t.name: t for t in tools_in(importlib.import_module(known.module))}
        if key in found:
            return found[key]
    tools = registry()
    if key not in tools:
        raise ToolError(f"unknown tool {name!r}; `climcopilot tools list` shows the "
                        f"{len(tools)} available")
    return tools[key]
