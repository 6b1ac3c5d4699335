"""Running one action in the session's kernel: tool arguments are validated here first (bad
ones never reach the kernel), a tool call becomes a code cell, and the kernel runs it."""

from __future__ import annotations

from climcopilot.agent.steps import Action
from climcopilot.sandbox.kernel import KernelSession
from climcopilot.sandbox.observation import Observation
from climcopilot.tools.base import ToolError
from climcopilot.tools.registry import get_tool


def refused(action: Action, error: str) -> Observation:
    """The observation of an action that was not run (cell 0), with its one-line error."""
    return Observation(cell=0, code=action.raw or action.code or "", ok=False, error=error)


def execute(kernel: KernelSession, action: Action) -> Observation:
    """Run ``action``: a tool call (validated, then rendered as a cell) or free code. After
    a kernel restart the earlier successful cells are replayed, and the observation says so."""
    if action.kind == "invalid":
        return refused(action, action.error or "invalid request")
    if action.kind == "tool":
        try:
            tool = get_tool(action.tool or "")
            tool.validate(action.arguments)
        except ToolError as exc:
            return refused(action, f"ToolError: {exc}")
        return kernel.call_tool(tool.name, action.arguments)
    return kernel.execute(action.code or "")
