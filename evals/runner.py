"""Run a suite of tasks through the agent and score each answer against its expected values.

Memory settings: ``fresh`` (one new, empty memory for the whole run, kept across repeats:
what the agent learns in pass 1 is there in pass 2), ``keep`` (the user's memory), ``off`` (a
new, empty memory for every task).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from climcopilot.agent.config import Settings
from climcopilot.agent.state import Action
from climcopilot.evals.task import Task


class TaskRun(BaseModel):
    """How one task went in one pass."""

    task_id: str
    level: int
    family: str
    passed: bool
    score: float  # fraction of expected values within tolerance (partial credit)
    steps: int
    tool_calls: int
    right_tools: bool | None  # expected tools all called, in order (None: none expected)
    wall_s: float
    values: dict[str, float]
    error: str | None = None


def score(task: Task, values: dict[str, float]) -> float:
    """Fraction of the task's expected values that the answer hit within tolerance."""
    hits = [name in values and abs(values[name] - e.value) <= e.tol
            for name, e in task.expected.items()]
    return sum(hits) / len(hits)


def in_order(expected: list[str], called: list[str]) -> bool:
    """True if ``expected`` is a subsequence of ``called``."""
    remaining = iter(called)
    return all(any(c == e for c in remaining) for e in expected)


def run_task(task: Task, settings: Settings, make_session: Callable[[Settings], Any]
             ) -> TaskRun:
    """Ask the task's question in a new session; one failing task never raises."""
    started = time.perf_counter()
    state: dict[str, Any] = {}
    error = None
    try:
        with make_session(settings) as session:
            state = session.ask(task.question)
        if state.get("status") != "done":
            error = f"{state.get('status')}: {state.get('reason')}"
    except Exception as exc:  # a task's failure is a result, not the end of the run
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    steps = state.get("steps", [])
    actions = [Action.model_validate(s["action"]) for s in steps]
    called = [a.tool for a in actions if a.kind == "tool" and a.tool]
    values = state.get("values", {}) if error is None else {}
    credit = score(task, values)
    return TaskRun(task_id=task.id, level=task.level, family=task.family,
                   passed=error is None and credit == 1.0, score=credit, steps=len(steps),
                   tool_calls=len(called),
                   right_tools=in_order(task.expected_tools, called)
                   if task.expected_tools and steps else None,  # None: no steps to judge
                   wall_s=round(time.perf_counter() - started, 2), values=values, error=error)


def run_suite(tasks: list[Task], settings: Settings, make_session: Callable[[Settings], Any],
              memory: str = "fresh", repeat: int = 1,
              progress: Callable[[int, TaskRun], None] | None = None) -> list[list[TaskRun]]:
    """Every task ``repeat`` times (passes), under the memory setting; runs per pass."""
    with tempfile.TemporaryDirectory(prefix="climcopilot-eval-") as scratch:
        shared = settings if memory == "keep" else replace(settings, home=Path(scratch) / "run")
        passes = []
        for number in range(1, repeat + 1):
            runs = []
            for i, task in enumerate(tasks):
                task_settings = (replace(settings, home=Path(scratch) / f"p{number}-{i}")
                                 if memory == "off" else shared)
                run = run_task(task, task_settings, make_session)
                runs.append(run)
                if progress is not None:
                    progress(number, run)
            passes.append(runs)
        return passes
