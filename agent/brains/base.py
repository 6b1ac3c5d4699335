"""What every brain does: plan, decide the next action, and compose the answer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from climcopilot.agent.errors import BrainError as BrainError
from climcopilot.agent.state import AgentState
from climcopilot.agent.steps import Decision


class Brain(ABC):
    """Decides what happens next; the graph runs it, the kernel executes it."""

    name: str

    @abstractmethod
    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        """A short numbered plan, and the brain's notes to keep in the state (``memo``)."""

    @abstractmethod
    def decide(self, state: AgentState) -> Decision:
        """The next action, or Finish."""

    def compose(self, state: AgentState) -> str:
        """The answer text (markdown); by default the brain's final message."""
        final = state.get("final")
        return final.answer if final is not None else ""

    def not_applied(self, state: AgentState) -> dict[str, str]:
        """Conditions of the question the brain knowingly left out, with why (by the names
        :func:`climcopilot.agent.coverage.unapplied` gives them); none by default."""
        return {}

    def learned(self, state: AgentState) -> dict[str, Any]:
        """The plan to keep as this run's skill: by default the one the brain noted at plan
        time (``memo["skill_plan"]``); a brain may derive it from the steps that ran."""
        return (state.get("memo") or {}).get("skill_plan", {})
