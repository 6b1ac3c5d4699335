"""What every brain does: plan, decide the next action, and compose the answer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from climcopilot.agent.state import AgentState, Decision


class BrainError(RuntimeError):
    """The brain cannot go on (endpoint unreachable, no recipe); the message is one line."""


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
        return (state.get("final") or {}).get("answer", "")


def successful_results(state: AgentState) -> list[dict[str, Any]]:
    """Result models (as dicts) of the tool steps that succeeded, in order."""
    return [s["observation"]["result"] for s in state.get("steps", [])
            if s["observation"].get("ok") and s["observation"].get("result") is not None]
