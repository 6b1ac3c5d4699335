"""The typed events a question streams while it runs, and the one protocol that renders them.

The graph's nodes emit them (LangGraph's custom stream); the terminal, the chat, the notebook
and the eval runner each implement :class:`Renderer`, so none of them reads node updates.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from climcopilot.agent.steps import Action, Step


class PlanEvent(BaseModel):
    """The brain's plan, one line per item."""

    lines: list[str]


class StepStarted(BaseModel):
    """Step ``number`` is about to run ``action`` in the kernel."""

    number: int
    action: Action


class TokenEvent(BaseModel):
    """Text of the model's reply as it streams in; ``start`` marks the first piece of a
    new reply (what came before it belonged to another one)."""

    text: str
    start: bool = False


class StepEvent(BaseModel):
    """A step has run."""

    step: Step


class CheckEvent(BaseModel):
    """The check node's verdict on the evidence: ``problems`` lists what is not verified."""

    verified: bool
    problems: list[str]


class ApprovalEvent(BaseModel):
    """Step ``action`` waits for the user's approval, for ``reason``."""

    action: Action
    reason: str


class AnswerEvent(BaseModel):
    """The question ended: ``status`` done (with ``text``), refused or failed (``reason``)."""

    status: str
    text: str = ""
    reason: str = ""


Event = (PlanEvent | StepStarted | TokenEvent | StepEvent | CheckEvent | ApprovalEvent
         | AnswerEvent)


class Renderer(Protocol):
    """Something that shows events as they come (a terminal, a chat, a notebook)."""

    def __call__(self, event: Event) -> None: ...


def ignore(event: Event) -> None:
    """The renderer of a run nobody watches."""
