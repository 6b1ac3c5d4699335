"""What one step of a question is: the action a brain chose, and what the kernel observed.

Steps live in the graph state as :class:`Step` models (checkpointed as such), so no other
module parses raw dictionaries: read a step's numbers with :attr:`Step.values`, its checks
with :meth:`Step.failed_checks`, the steps' data with :func:`tool_results`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from climcopilot.sandbox.observation import Observation


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
    turn: int | None = None  # which of the brain's decisions it belongs to (parallel calls)
    content: str | None = None  # text the LLM sent along with the call (first call of a turn)

    def key(self) -> str:
        """Identity for stuck-loop detection: the same key failing twice is a loop."""
        return json.dumps([self.kind, self.tool, self.arguments, self.code], sort_keys=True)

    def label(self) -> str:
        """One line naming the action, e.g. ``data.open_series({"name": "soi"})``."""
        if self.kind == "tool":
            return f"{self.tool}({json.dumps(self.arguments)})"
        if self.kind == "code":
            first = (self.code or "").strip().splitlines()[:1]
            return f"code: {first[0] if first else ''}"
        return f"invalid request: {self.error}"


class Finish(BaseModel):
    """The brain is done; ``answer`` is its final text (empty: compose from the steps).

    ``values``/``units``: numbers the answer rests on that no step of this run produced (an
    answer reused from a verified finding in memory). ``cut_short``: why the run ended before
    the brain finished (e.g. the step budget), so that the answer is partial."""

    answer: str = ""
    values: dict[str, float] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    cut_short: str | None = None


Decision = Action | list[Action] | Finish
"""What a brain decides: one action, several to run in order (an LLM's parallel tool calls),
or the end."""


class Step(BaseModel):
    """Step ``number`` (1-based) of a question: the action and the kernel's observation."""

    number: int
    action: Action
    observation: Observation

    @property
    def ok(self) -> bool:
        """The cell ran without error."""
        return self.observation.ok

    @property
    def result(self) -> dict[str, Any] | None:
        """The (last) tool result model (as JSON) when the step ran without error."""
        return self.observation.result if self.ok else None

    def _results(self) -> list[dict[str, Any]]:
        return [r.result for r in self.observation.results] if self.ok else []

    @property
    def values(self) -> dict[str, float]:
        """The numbers of every tool result the step published (a later one's value of the
        same name wins)."""
        return {k: v for r in self._results() for k, v in r.get("values", {}).items()}

    @property
    def units(self) -> dict[str, str]:
        return {k: v for r in self._results() for k, v in r.get("units", {}).items()}

    def failed_checks(self) -> list[str]:
        """The failed checks of every tool result the step published."""
        return [f"{c['name']} ({c.get('detail', '')})" for r in self._results()
                for c in r.get("checks", []) if not c["passed"]]

    def brief(self, limit: int = 600) -> str:
        return self.observation.brief(limit)


def tool_results(steps: list[Step]) -> list[dict[str, Any]]:
    """Result models (as JSON) of the steps that ran a tool successfully, in order."""
    return [s.result for s in steps if s.result is not None]


def failed_before(steps: list[Step], action: Action) -> bool:
    """True when the same action already failed in an earlier step."""
    return any(not s.ok and s.action.key() == action.key() for s in steps)


def done_before(steps: list[Step], action: Action) -> Step | None:
    """The earlier step that already ran this very action (same tool and arguments, or the
    same code) successfully, if any."""
    return next((s for s in steps if s.ok and s.action.kind != "invalid"
                 and s.action.key() == action.key()), None)


def figures_of(steps: list[Step]) -> list[str]:
    """Figure paths of the steps that succeeded, first mention first."""
    return list(dict.fromkeys(f for s in steps if s.ok for f in s.observation.figures))
