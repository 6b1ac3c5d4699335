"""Running one action in the session's kernel: tool arguments are validated here first (bad
ones never reach the kernel), a tool call becomes a code cell, and the kernel runs it."""

from __future__ import annotations

from typing import Any

from climcopilot.agent.steps import Action
from climcopilot.sandbox.kernel import KernelSession
from climcopilot.sandbox.observation import Observation
from climcopilot.tools.base import ToolError
from climcopilot.tools.manifest import entry
from climcopilot.tools.registry import get_tool


def refused(action: Action, error: str) -> Observation:
    """The observation of an action that was not run (cell 0), with its one-line error."""
    return Observation(cell=0, code=action.raw or action.code or "", ok=False, error=error)


def checked_name(name: str, arguments: dict[str, Any]) -> str:
    """The tool's own name for a call, after checking the name and the argument names: a
    built-in tool from the manifest (no tool is imported here; the kernel checks the values),
    a plugin's by loading it. A ToolError says what is wrong."""
    known = entry(name)
    if known is not None:
        known.check(arguments)
        return known.name
    tool = get_tool(name)
    tool.validate(arguments)
    return tool.name


def execute(kernel: KernelSession, action: Action) -> Observation:
    """Run ``action``: a tool call (checked, then rendered as a cell) or free code. After a
    kernel restart the kernel replays the earlier successful cells itself."""
    if action.kind == "invalid":
        return refused(action, action.error or "invalid request")
    if action.kind == "tool":
        try:
            name = checked_name(action.tool or "", action.arguments)
        except ToolError as exc:
            return refused(action, f"ToolError: {exc}")
        return kernel.call_tool(name, action.arguments)
    return kernel.execute(action.code or "")
