"""The kernel side: runs a tool inside the session kernel and publishes its result.

A tool call from the agent is rendered (by :func:`render_tool_cell`) as a cell such as::

    from climcopilot.sandbox.runtime import call_tool
    call_tool('analysis.lag_correlation', {'a': 'soi', 'b': 'nino3'})

Free code calls tools the same way, or as ``tools.analysis.lag_correlation(a=..., b=...)``
(:mod:`climcopilot.sandbox.namespace`); either returns the result model. Each published result
names its tool and arguments, so the host can re-run it elsewhere to verify it.

Objects a tool leaves in the session (datasets, models) live in one :class:`ToolContext` per
kernel and are also bound as variables in the user namespace, so free code cells can use them.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from climcopilot.sandbox.isolation import gpu_devices
from climcopilot.sandbox.observation import MIME
from climcopilot.tools.base import ToolContext, ToolError, ToolResult

_CONTEXT: ToolContext | None = None


def render_tool_cell(name: str, arguments: dict[str, Any]) -> str:
    """The code cell that calls tool ``name`` with JSON-like ``arguments``; NaN and infinite
    numbers (which repr writes as ``nan``, ``inf``) reach the tool as floats. The closing
    ``;`` keeps IPython from echoing the returned result model."""
    header = "from climcopilot.sandbox.runtime import call_tool\n"
    if _has_nonfinite(arguments):
        header = "from math import inf, nan\n" + header
    return header + f"call_tool({name!r}, {arguments!r});"


def _has_nonfinite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_nonfinite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nonfinite(v) for v in value)
    return False


def visible_device(requested: str = "auto") -> str:
    """The device this kernel reports: ``cuda`` when requested, or ``auto`` with NVIDIA
    device nodes bound in, else ``cpu`` (no torch import: tools pick their torch device
    themselves, with ``climcopilot.tools.emulators.systems.resolve_device``)."""
    if requested != "auto":
        return requested
    return "cuda" if gpu_devices() else "cpu"


def context() -> ToolContext:
    """This kernel's tool context (workspace from ``CLIMCOPILOT_WORKSPACE``, else the cwd)."""
    global _CONTEXT
    if _CONTEXT is None:
        workspace = Path(os.environ.get("CLIMCOPILOT_WORKSPACE", os.getcwd()))
        device = visible_device(os.environ.get("CLIMCOPILOT_DEVICE", "auto"))
        _CONTEXT = ToolContext(workspace=workspace, device=device)
    return _CONTEXT


def _publish(payload: dict[str, Any]) -> None:
    from IPython.display import display

    display({MIME: payload}, raw=True)


def run_tool(name: str, arguments: dict[str, Any]) -> ToolResult:
    """Run a registered tool, bind its handles, publish its result as JSON and return it;
    ToolError if it cannot run."""
    from climcopilot.tools.registry import get_tool

    ctx = context()
    tool = get_tool(name)
    result = tool.run(arguments, ctx)
    _bind_handles(result.handles, ctx)
    _publish({"tool": tool.name, "arguments": arguments, "result": result.model_dump(mode="json"),
              "device": ctx.device})
    return result


def call_tool(name: str, arguments: dict[str, Any]) -> ToolResult | None:
    """:func:`run_tool`, but a ToolError is published as the one-line error (what a tool cell
    reports) and None returned."""
    try:
        return run_tool(name, arguments)
    except ToolError as exc:
        _publish({"error": f"ToolError: {exc}"})
        return None


def _bind_handles(handles: list[str], ctx: ToolContext) -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        for h in handles:
            if h.isidentifier() and h in ctx.store:
                shell.user_ns[h] = ctx.store[h]


def flush_figures(stem: str) -> None:
    """Save and close every open pyplot figure under the workspace; publish their paths."""
    import sys

    if "matplotlib.pyplot" not in sys.modules:
        return
    import matplotlib.pyplot as plt

    paths = []
    for num in plt.get_fignums():
        path = context().figure_path(stem)
        plt.figure(num).savefig(path, dpi=110, bbox_inches="tight")
        paths.append(str(path))
    plt.close("all")
    if paths:
        _publish({"figures": paths})
