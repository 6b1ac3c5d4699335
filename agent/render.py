"""The plain-text renderer of ``climcopilot ask``: the plan, each step as it ends (with a
one-line summary of its result), and the answer, printed as they come."""

from __future__ import annotations

import sys
from typing import TextIO

from climcopilot.agent.events import AnswerEvent, Event, PlanEvent, StepEvent
from climcopilot.agent.steps import Step


def step_mark(step: Step) -> str:
    """``ok``, ``FAILED`` (the cell failed) or ``CHECK FAILED`` (a result's check failed)."""
    return "FAILED" if not step.ok else "CHECK FAILED" if step.failed_checks() else "ok"


class TextRenderer:
    """Prints events to ``out`` (default stdout), flushing after each."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: Event) -> None:
        if isinstance(event, PlanEvent) and event.lines:
            print("Plan:", file=self.out)
            for i, line in enumerate(event.lines, start=1):
                print(f"  {i}. {line}", file=self.out)
        elif isinstance(event, StepEvent):
            step = event.step
            print(f"[{step_mark(step)}] {step.action.label()[:100]}\n       {step.brief(300)}",
                  file=self.out)
        elif isinstance(event, AnswerEvent) and event.status == "done":
            print("\n" + event.text, file=self.out)
        self.out.flush()
