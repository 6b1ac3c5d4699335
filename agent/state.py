"""The graph's typed state, and the decisions a brain can make.

State holds plain JSON-able data only (dicts, lists, strings) so that the sqlite checkpointer
can store every step and a session can resume by id.
"""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field


class Action(BaseModel):
    """One thing to run in the kernel: a typed tool call or a free code cell.

    ``kind == "invalid"`` records a request the brain got wrong (e.g. arguments that are not
    JSON); it is answered with ``error`` instead of being run.
    """

    kind: Literal["tool", "code", "invalid"]
    tool: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    code: str | None = None
    error: str | None = None
    raw: str | None = None  # the arguments text as the LLM sent it, when it was not JSON
    call_id: str | None = None  # the LLM's tool-call id, echoed back in its transcript

    def key(self) -> str:
        """Identity for stuck-loop detection: the same key failing twice is a loop."""
        return json.dumps([self.kind, self.tool, self.arguments, self.code], sort_keys=True)

    def label(self) -> str:
        if self.kind == "tool":
            return f"{self.tool}({json.dumps(self.arguments)})"
        if self.kind == "code":
            first = (self.code or "").strip().splitlines()[:1]
            return f"code: {first[0] if first else ''}"
        return f"invalid request: {self.error}"


class Finish(BaseModel):
    """The brain is done; ``answer`` is its final text (empty: compose from the steps).

    ``values``/``units``: numbers the answer rests on that no step of this run produced (an
    answer reused from a verified finding in memory)."""

    answer: str = ""
    values: dict[str, float] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)


Decision = Action | Finish


class AgentState(TypedDict, total=False):
    question: str
    session_id: str
    status: Literal["running", "done", "refused", "failed"]
    reason: str  # why refused or failed, one line
    recalled: list[str]  # one-line summaries for a language model's context
    recalled_findings: list[dict[str, Any]]
    recalled_skills: list[dict[str, Any]]  # skill dicts with their "similarity"
    notes: list[str]  # what the user must know beside the answer (reuse, contradictions)
    plan: list[str]
    memo: dict[str, Any]  # the brain's own notes between nodes (e.g. the offline recipe)
    steps: Annotated[list[dict[str, Any]], operator.add]  # {"action": ..., "observation": ...}
    pending: dict[str, Any] | None
    final: dict[str, Any] | None
    feedback: str | None  # an error or failed check the brain must address
    replans: int
    replan_requested: bool
    check_retries: int
    verified: bool  # every check of every result passed
    value_steps: dict[str, int]  # value name -> number of the step that produced it
    answer: str
    values: dict[str, float]
    units: dict[str, str]
    figures: list[str]
    finding_id: str | None
