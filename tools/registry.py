"""The registry: every tool the agent can call, from the built-in modules and from plugins.

A module contributes the :class:`~climcopilot.tools.base.Tool` objects it defines at module
level. Built-in modules are listed in ``BUILTIN_MODULES``; plugins name a module in the
``climcopilot.tools`` entry-point group. A plugin that fails to load is skipped with a one-line
warning and the rest still load.
"""

from __future__ import annotations

import importlib
import warnings
from functools import lru_cache
from importlib.metadata import entry_points
from types import ModuleType

from climcopilot.tools.base import Tool, ToolError

BUILTIN_MODULES = (
    "climcopilot.tools.data.bundled",
    "climcopilot.tools.analysis.series",
    "climcopilot.tools.viz.plots",
    "climcopilot.tools.da.tools",
    "climcopilot.tools.causal.tools",
)
ENTRY_POINT_GROUP = "climcopilot.tools"


def tools_in(module: ModuleType) -> list[Tool]:
    """The Tool objects defined at module level in ``module``."""
    return [obj for obj in vars(module).values() if isinstance(obj, Tool)]


@lru_cache(maxsize=1)
def registry() -> dict[str, Tool]:
    """All tools by name: built-ins first, then plugins (a plugin may not shadow a built-in)."""
    found: dict[str, Tool] = {}
    for name in BUILTIN_MODULES:
        for t in tools_in(importlib.import_module(name)):
            found[t.name] = t
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin_tools = tools_in(ep.load())
        except Exception as exc:  # a broken plugin must not stop the others
            warnings.warn(f"skipped plugin {ep.name!r}: {type(exc).__name__}: {exc}",
                          stacklevel=2)
            continue
        for t in plugin_tools:
            if t.name in found:
                warnings.warn(f"skipped plugin tool {t.name!r}: name already taken", stacklevel=2)
            else:
                found[t.name] = t
    return found


def get_tool(name: str) -> Tool:
    """The tool called ``name`` (``family.verb``; ``family__verb`` as LLMs spell it)."""
    tools = registry()
    key = name.replace("__", ".")
    if key not in tools:
        raise ToolError(f"unknown tool {name!r}; `climcopilot tools list` shows the "
                        f"{len(tools)} available")
    return tools[key]
