"""Which steps wait for the user's approval in an interactive chat.

A tool says itself what a call costs (``long_running``, ``writes_files``, ``downloads`` on
:class:`~climcopilot.tools.base.Tool`); free code is judged by what it contains: writing or
deleting files, sleeping or looping forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from climcopilot.agent.steps import Action
from climcopilot.tools.base import ToolError
from climcopilot.tools.manifest import entry
from climcopilot.tools.registry import get_tool

WRITES_FILES = re.compile(
    r"\bopen\([^)]*['\"][wax]b?\+?['\"]|\.to_(csv|netcdf|zarr|parquet|json|excel|pickle|hdf)\("
    r"|\bsavefig\(|\bnp\.save|\.write_(text|bytes)\(|\bshutil\.|\bos\.(remove|unlink|rename|"
    r"makedirs|mkdir)\(|\.(unlink|mkdir|rename)\(|\brmtree\(")
RUNS_LONG = re.compile(r"\btime\.sleep\(|\bwhile True\b")


def approval_reason(action: Action) -> str | None:
    """Why a step may deserve the user's approval first (None: nothing to approve)."""
    if action.kind == "code":
        code = action.code or ""
        if WRITES_FILES.search(code):
            return "this code writes files"
        if RUNS_LONG.search(code):
            return "this code may run long"
    elif action.kind == "tool":
        known = entry(action.tool or "")
        if known is not None:
            return known.approval
        try:
            return get_tool(action.tool or "").approval_reason()
        except ToolError:  # an unknown tool fails when it runs, with its own message
            return None
    return None


@dataclass(frozen=True)
class ApprovalPolicy:
    """``risky``: steps with an :func:`approval_reason` wait (chat); ``never``: none does."""

    mode: Literal["risky", "never"] = "never"

    def reason(self, action: Action) -> str | None:
        return approval_reason(action) if self.mode == "risky" else None
