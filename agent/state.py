"""The graph's state: typed models only, checkpointed in sqlite as they are (see
:data:`CHECKPOINT_TYPES`), so a session resumes by id with its steps intact.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field

from climcopilot.agent.spec import QuestionSpec
from climcopilot.agent.steps import Action, Finish, Step
from climcopilot.knowledge.records import Finding, Skill

Status = Literal["running", "done", "partial", "refused", "failed"]
"""``partial``: answered, but a condition of the question could not be applied (named)."""


class RecalledSkill(BaseModel):
    """A skill from memory and how close its pattern is to this question (cosine, 0-1)."""

    skill: Skill
    similarity: float


class Recall(BaseModel):
    """What memory offered before planning: findings and skills near the question, and one
    line for each (what a language model reads)."""

    findings: list[Finding] = Field(default_factory=list)
    skills: list[RecalledSkill] = Field(default_factory=list)

    def summaries(self) -> list[str]:
        return [f.summary() for f in self.findings] + [s.skill.summary() for s in self.skills]


class Evidence(BaseModel):
    """What the answer rests on, as the check node found it: each number with its unit and
    the step that produced it (0: from memory), the figures, and whether everything was
    verified (every check passed, every number produced untampered and stated faithfully);
    ``problems`` says what was not; ``not_applied`` names each condition of the question no
    step applied, with why (the answer is then partial)."""

    values: dict[str, float] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    value_steps: dict[str, int] = Field(default_factory=dict)
    figures: list[str] = Field(default_factory=list)
    verified: bool = False
    problems: list[str] = Field(default_factory=list)
    not_applied: list[str] = Field(default_factory=list)
    invented: list[str] = Field(default_factory=list)  # numbers stated that no step produced


class AgentState(TypedDict, total=False):
    question: str
    session_id: str
    status: Status
    reason: str  # why refused or failed, one line
    spec: QuestionSpec  # read once by the guard
    previous: QuestionSpec | None  # the spec of the question before, in a conversation
    recall: Recall
    plan: list[str]
    memo: dict[str, Any]  # the brain's own notes between nodes (e.g. the offline recipe)
    steps: Annotated[list[Step], operator.add]
    pending: list[Action]  # decided, not yet run (several: an LLM's parallel calls)
    final: Finish | None
    feedback: str | None  # an error or failed check the brain must address
    replans: int
    replan_requested: bool
    check_retries: int
    evidence: Evidence
    answer: str
    notes: list[str]  # what the user must know beside the answer (reuse, contradictions)
    finding_id: str | None


CHECKPOINT_TYPES = [
    ("climcopilot.agent.spec.model", "QuestionSpec"), ("climcopilot.agent.spec.model", "Period"),
    ("climcopilot.agent.steps", "Action"),
    ("climcopilot.agent.steps", "Finish"), ("climcopilot.agent.steps", "Step"),
    ("climcopilot.agent.state", "Recall"), ("climcopilot.agent.state", "RecalledSkill"),
    ("climcopilot.agent.state", "Evidence"), ("climcopilot.sandbox.observation", "Observation"),
    ("climcopilot.sandbox.observation", "PublishedResult"),
    ("climcopilot.knowledge.records", "Finding"), ("climcopilot.knowledge.records", "Skill"),
]
"""The classes the checkpointer may rebuild from a saved state (LangGraph's allow-list)."""


def initial_state(question: str, session_id: str,
                  previous: QuestionSpec | None = None) -> AgentState:
    """The state a new question starts from (``previous``: the spec of the question before
    it in the conversation, against which a follow-up is read)."""
    return {"question": question, "session_id": session_id, "status": "running", "steps": [],
            "replans": 0, "check_retries": 0, "feedback": None, "pending": [],
            "final": None, "previous": previous}
