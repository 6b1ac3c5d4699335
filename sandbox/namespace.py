"""The ``tools`` object of the kernel's namespace: every registered tool as a plain function.

``tools.analysis.lag_correlation(a="soi", b="nino3")`` runs the tool with those arguments and
returns its result model (``.values``, ``.summary``, ...); a bad call raises ToolError. The
result is also published to the host, which records it as coming from free code (never
trusted). Importing this module is cheap: the registry loads at the first call.
"""

from __future__ import annotations

from typing import Any


class ToolNamespace:
    """One level of dotted tool names (``tools``, ``tools.analysis``, ...); calling a full
    name runs that tool."""

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> ToolNamespace:
        if name.startswith("_"):
            raise AttributeError(name)
        return ToolNamespace(f"{self._prefix}.{name}" if self._prefix else name)

    def __call__(self, **arguments: Any) -> Any:
        from climcopilot.sandbox.runtime import run_tool

        return run_tool(self._prefix, arguments)

    def __dir__(self) -> list[str]:
        from climcopilot.tools.registry import registry

        prefix = f"{self._prefix}." if self._prefix else ""
        below = (n.removeprefix(prefix).split(".") for n in registry() if n.startswith(prefix))
        return sorted({parts[0] for parts in below})

    def __repr__(self) -> str:
        return f"<tools {self._prefix or '(all)'}: {', '.join(dir(self))}>"


tools = ToolNamespace()
