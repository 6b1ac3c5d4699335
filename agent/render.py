"""The plain-text renderer of ``climcopilot ask``: the plan, each step as it starts and as it
ends (with a one-line summary of its result), the model's answer as it streams in, and the
answer, printed as they come; an answer that was streamed is not printed twice (only what the
answer node added to it: notes, provenance)."""

from __future__ import annotations

import sys
from typing import TextIO

from climcopilot.agent.events import (
    AnswerEvent,
    Event,
    PlanEvent,
    StepEvent,
    StepStarted,
    TokenEvent,
)
from climcopilot.agent.steps import Step


def step_mark(step: Step) -> str:
    """``ok``, ``FAILED`` (the cell failed) or ``CHECK FAILED`` (a result's check failed)."""
    return "FAILED" if not step.ok else "CHECK FAILED" if step.failed_checks() else "ok"


class Streamed:
    """The text of the reply streaming now: what was shown, so the answer is not shown
    twice."""

    def __init__(self) -> None:
        self.text = ""

    def add(self, event: TokenEvent) -> None:
        self.text = event.text if event.start else self.text + event.text

    def rest(self, answer: str) -> str | None:
        """What of ``answer`` was not streamed (None: the streamed text is not its start, so
        all of it must be shown)."""
        shown = self.text.strip()
        if not shown or not answer.startswith(shown):
            return None
        return answer[len(shown):]

    def clear(self) -> None:
        self.text = ""


class TextRenderer:
    """Prints events to ``out`` (default stdout), flushing after each."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.streamed = Streamed()
        self.midline = False  # a step's start or streamed text awaits its line end

    def __call__(self, event: Event) -> None:
        if isinstance(event, TokenEvent):
            if event.start:
                self.newline()
            print(event.text, end="", file=self.out)
            self.streamed.add(event)
            self.midline = True
        elif isinstance(event, PlanEvent) and event.lines:
            self.newline()
            print("Plan:", file=self.out)
            for i, line in enumerate(event.lines, start=1):
                print(f"  {i}. {line}", file=self.out)
        elif isinstance(event, StepStarted):
            self.newline()
            self.streamed.clear()
            print(f"[step {event.number}] {event.action.label()[:100]} ...", end="",
                  file=self.out)
            self.midline = True
        elif isinstance(event, StepEvent):
            step = event.step
            self.midline = False
            print(f" {step_mark(step)}\n       {step.brief(300)}", file=self.out)
        elif isinstance(event, AnswerEvent) and event.text:
            rest = self.streamed.rest(event.text)
            self.newline()
            print(event.text if rest is None else rest.removeprefix("\n"), file=self.out)
        self.out.flush()

    def newline(self) -> None:
        if self.midline:
            print(file=self.out)
            self.midline = False
