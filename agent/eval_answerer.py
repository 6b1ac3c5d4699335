"""The agent as the eval harness sees it: a picklable answerer that asks each task's questions
in a new session and returns its :class:`~climcopilot.evals.trace.Trace`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from climcopilot.agent.brains.base import Brain
from climcopilot.agent.brains.factory import make_brain
from climcopilot.agent.config import Settings
from climcopilot.agent.outcome import outcome_of
from climcopilot.agent.session import Session
from climcopilot.evals.trace import ToolCall, Trace
from climcopilot.sandbox.isolation import SandboxPolicy


def token_counts(brain: Brain) -> tuple[int, int] | None:
    """(prompt, completion) tokens a brain has used so far; None for a brain without an LLM
    or whose endpoint has not reported any."""
    usage = getattr(brain, "usage", None)
    return None if usage is None else (usage["prompt_tokens"], usage["completion_tokens"])


@dataclass
class SessionAnswerer:
    """How a worker answers each task: the brain, built once per process from ``settings``
    (and ``script`` for the scripted brain), the sandbox policy, and the session class (tests
    pass a subclass with a deliberately wrong tool)."""

    settings: Settings
    script: Path | None = None
    policy: SandboxPolicy | None = None
    session_class: type[Session] = Session
    _brain: Brain | None = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_brain": None}  # a brain may hold an HTTP client

    @property
    def name(self) -> str:
        return self.settings.brain

    @property
    def model(self) -> str | None:
        return self.settings.model if self.settings.brain == "openai" else None

    @property
    def brain(self) -> Brain:
        if self._brain is None:
            self._brain = make_brain(self.settings, self.script)
        return self._brain

    def warm_up(self) -> None:
        """Build the brain and load the embedder."""
        from climcopilot.knowledge.embedder import embed

        _ = self.brain
        embed(["warm up"])

    def __call__(self, question: str, history: list[str], home: Path) -> Trace:
        brain = self.brain
        before = token_counts(brain)
        try:
            with self.session_class(replace(self.settings, home=home), brain,
                                    policy=self.policy) as session:
                for earlier in history:
                    session.ask(earlier)
                outcome = outcome_of(session.ask(question))
        finally:
            after = token_counts(brain)
        used = None if after is None else [a - b for a, b in zip(after, before or (0, 0))]
        return Trace(status=outcome.status, reason=outcome.reason, answer=outcome.text,
                     values=outcome.values, units=outcome.units, figures=outcome.figures,
                     verified=outcome.verified, steps=len(outcome.steps),
                     tool_calls=[ToolCall(tool=s.tool, arguments=s.arguments)
                                 for s in outcome.steps if s.kind == "tool" and s.tool],
                     prompt_tokens=used[0] if used else None,
                     completion_tokens=used[1] if used else None,
                     constraints=outcome.constraints, not_applied=outcome.not_applied,
                     invented=outcome.invented)
