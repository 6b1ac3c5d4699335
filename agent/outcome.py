"""What a question produced, read out of its final state in one place (:func:`outcome_of`):
the CLI's report, the notebook's answer and the eval runner all use it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from climcopilot.agent.state import AgentState, Evidence


class StepSummary(BaseModel):
    """One step as a report lists it."""

    number: int
    kind: str  # tool, code or invalid
    action: str
    tool: str | None
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool
    summary: str


class Outcome(BaseModel):
    """The answer to one question: ``status`` done, refused or failed; the answer ``text``
    (markdown, with provenance) or the one-line ``reason``; the numbers with units and the
    step behind each; figures; whether it was verified; the finding it stored (if any); the
    question spec; and the steps."""

    session_id: str
    question: str
    status: str
    text: str = ""
    reason: str | None = None
    values: dict[str, float] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    value_steps: dict[str, int] = Field(default_factory=dict)
    figures: list[str] = Field(default_factory=list)
    verified: bool = False
    finding_id: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)
    constraints: dict[str, Any] = Field(default_factory=dict)
    not_applied: list[str] = Field(default_factory=list)
    invented: list[str] = Field(default_factory=list)
    steps: list[StepSummary] = Field(default_factory=list)


def outcome_of(state: AgentState) -> Outcome:
    """The outcome of a question from its (final or interrupted) state."""
    evidence = state.get("evidence") or Evidence()
    spec = state.get("spec")
    return Outcome(
        session_id=state.get("session_id", ""), question=state.get("question", ""),
        status=state.get("status") or "failed", text=state.get("answer", ""),
        reason=state.get("reason"), values=evidence.values, units=evidence.units,
        value_steps=evidence.value_steps, figures=evidence.figures,
        verified=evidence.verified, finding_id=state.get("finding_id"),
        spec=spec.model_dump() if spec is not None else {},
        constraints=spec.constraints() if spec is not None else {},
        not_applied=evidence.not_applied, invented=evidence.invented,
        steps=[StepSummary(number=s.number, kind=s.action.kind, action=s.action.label(),
                           tool=s.action.tool,
                           arguments=s.action.arguments, ok=s.ok, summary=s.brief(300))
               for s in state.get("steps", [])])
