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
from types import ModuleType

from climcopilot.tools.base import Tool, ToolError
from climcopilot.tools.contract import load
from climcopilot.tools.plugins import installed_points, local_plugins

BUILTIN_MODULES = (
    "climcopilot.tools.data.bundled",
    "climcopilot.tools.analysis.series",
    "climcopilot.tools.viz.plots",
    "climcopilot.tools.data.access",
    "climcopilot.tools.data.ensemble",
    "climcopilot.tools.data.connectors",
    "climcopilot.tools.analysis.climatology",
    "climcopilot.tools.analysis.area",
    "climcopilot.tools.analysis.trend",
    "climcopilot.tools.analysis.smoothing",
    "climcopilot.tools.analysis.composite",
    "climcopilot.tools.analysis.eof",
    "climcopilot.tools.analysis.spectrum",
    "climcopilot.tools.analysis.comparison",
    "climcopilot.tools.viz.maps",
    "climcopilot.tools.da.tools",
    "climcopilot.tools.causal.tools",
    "climcopilot.tools.emulators.tools",
)


def tools_in(module: ModuleType) -> list[Tool]:
    """The Tool objects defined at module level in ``module``."""
    return [obj for obj in vars(module).values() if isinstance(obj, Tool)]


@lru_cache(maxsize=1)
def registry() -> dict[str, Tool]:
    """All tools by name: built-ins first, then plugins (a plugin may not shadow a built-in).

    Plugins that fail to load are skipped with one line each on stderr."""
    found: dict[str, Tool] = {}
    for name in BUILTIN_MODULES:
        for t in tools_in(importlib.import_module(name)):
            found[t.name] = t
    plugins = load(installed_points())
    plugins.problems += local_plugins()[1]
    for t in plugins.tools:
        if t.name in found:
            plugins.problems.append(f"tool {t.name!r} of a plugin: name already taken")
        else:
            found[t.name] = t
    for problem in plugins.problems:
        print(f"climcopilot: warning: skipped {problem}", file=sys.stderr)
    return found


def get_tool(name: str) -> Tool:
    """The tool called ``name`` (``family.verb``; ``family__verb`` as LLMs spell it)."""
    tools = registry()
    key = name.replace("__", ".")
    if key not in tools:
        raise ToolError(f"unknown tool {name!r}; `climcopilot tools list` shows the "
                        f"{len(tools)} available")
    return tools[key]
