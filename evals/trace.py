"""What evaluating one task needs to know of the system under test, and how it is asked.

The harness never imports the agent: whatever answers questions implements
:class:`Answerer` (picklable, sent to worker processes) and returns a :class:`Trace`; the
agent's own answerer is :class:`climcopilot.agent.eval_answerer.SessionAnswerer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field


class ToolCall(BaseModel):
    """One tool step of the run, as called."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Trace(BaseModel):
    """What answering one question produced: ``status`` (done, refused, failed), the answer
    text or one-line ``reason``, the numbers with units, figures, whether it was verified,
    the steps (count and tool calls), the LLM tokens spent (None without an LLM), the
    constraints of the question as the system read them (quantity, subjects, periods,
    season, transforms, settings: the task file's ``constraints`` form) and those it named as
    not applied."""

    status: str
    reason: str | None = None
    answer: str = ""
    values: dict[str, float] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    figures: list[str] = Field(default_factory=list)
    verified: bool = False
    steps: int = 0
    tool_calls: list[ToolCall] = Field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    constraints: dict[str, Any] = Field(default_factory=dict)
    not_applied: list[str] = Field(default_factory=list)
    invented: list[str] = Field(default_factory=list)  # numbers stated that no step produced


class Answerer(Protocol):
    """Answers a question in a fresh session whose memory lives under ``home``; earlier
    ``history`` questions are asked first in the same session (a follow-up's context)."""

    name: str  # e.g. the brain, for the report
    model: str | None  # the LLM model, if any

    def warm_up(self) -> None:
        """Load what every task needs (once per worker process, before any task's clock)."""

    def __call__(self, question: str, history: list[str], home: Path) -> Trace: ...
