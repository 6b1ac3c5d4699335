"""One task's run: ask its question in a new session, score the answer, judge the trajectory.

Runs in a worker process (:mod:`climcopilot.evals.worker`); a failing task is a result
(``error``), never an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from climcopilot.agent.config import Settings
from climcopilot.agent.state import Action
from climcopilot.evals.checkers import load_checker
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
    right_tools: bool | None  # every expected tool called (None: none expected, or no steps)
    right_order: bool | None = None  # ... and in the expected order
    right_args: bool | None = None  # every tool in ``expected_args`` called with those args
    prompt_tokens: int | None = None  # as the LLM endpoint reported them (None: no LLM)
    completion_tokens: int | None = None
    wall_s: float
    values: dict[str, float]
    error: str | None = None


def score(task: Task, state: dict[str, Any]) -> float:
    """Credit in [0, 1]: the expected values the answer hit within tolerance, and the task's
    checker's credit as one more item."""
    values = state.get("values", {})
    credits = [float(name in values and abs(values[name] - e.value) <= e.tol)
               for name, e in task.expected.items()]
    if task.checker is not None:
        credits.append(min(1.0, max(0.0, float(load_checker(task.checker)(state)))))
    return sum(credits) / len(credits)


def in_order(expected: list[str], called: list[str]) -> bool:
    """True if ``expected`` is a subsequence of ``called``."""
    remaining = iter(called)
    return all(any(c == e for c in remaining) for e in expected)


def all_called(expected: list[str], called: list[str]) -> bool:
    """True if every expected tool was called at least as often as it is expected."""
    return all(called.count(name) >= expected.count(name) for name in set(expected))


def right_arguments(expected: dict[str, dict[str, Any]], actions: list[Action]) -> bool:
    """True if, for each tool in ``expected``, some call of it passed all those arguments."""
    return all(any(a.tool == tool and all(a.arguments.get(k) == v for k, v in args.items())
                   for a in actions if a.kind == "tool") for tool, args in expected.items())


def token_counts(brain: Any) -> tuple[int, int] | None:
    """(prompt, completion) tokens a brain has used so far; None for a brain without an LLM
    or whose endpoint has not reported any."""
    usage = getattr(brain, "usage", None)
    return None if usage is None else (usage["prompt_tokens"], usage["completion_tokens"])


def failed_run(task: Task, error: str, wall_s: float) -> TaskRun:
    """The record of a task that produced nothing (a timeout, a dead worker)."""
    return TaskRun(task_id=task.id, level=task.level, family=task.family, passed=False,
                   score=0.0, steps=0, tool_calls=0, right_tools=None, wall_s=round(wall_s, 2),
                   values={}, error=error)


def run_task(task: Task, settings: Settings, make_session: Callable[[Settings], Any]
             ) -> TaskRun:
    """Ask the task's question in a new session; one failing task never raises."""
    started = time.perf_counter()
    state: dict[str, Any] = {}
    error = None
    tokens_before = tokens_after = None
    try:
        with make_session(settings) as session:
            tokens_before = token_counts(session.brain)
            try:
                state = session.ask(task.question)
            finally:
                tokens_after = token_counts(session.brain)
        if state.get("status") != "done":
            error = f"{state.get('status')}: {state.get('reason')}"
    except Exception as exc:  # a task's failure is a result, not the end of the run
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    steps = state.get("steps", [])
    actions = [Action.model_validate(s["action"]) for s in steps]
    called = [a.tool for a in actions if a.kind == "tool" and a.tool]
    values = state.get("values", {}) if error is None else {}
    try:
        credit = score(task, state) if error is None else 0.0
    except Exception as exc:  # a broken checker fails its task, not the run
        error, credit = f"checker {task.checker} failed: {type(exc).__name__}: {exc}", 0.0
    judged = bool(steps)  # no steps: nothing to judge the trajectory by
    used = (None if tokens_after is None
            else [after - before for before, after in zip(tokens_before or (0, 0), tokens_after)])
    return TaskRun(task_id=task.id, level=task.level, family=task.family,
                   passed=error is None and credit == 1.0, score=credit, steps=len(steps),
                   tool_calls=len(called),
                   right_tools=all_called(task.expected_tools, called)
                   if task.expected_tools and judged else None,
                   right_order=in_order(task.expected_tools, called)
                   if task.expected_tools and judged else None,
                   right_args=right_arguments(task.expected_args, actions)
                   if task.expected_args and judged else None,
                   prompt_tokens=used[0] if used else None,
                   completion_tokens=used[1] if used else None,
                   wall_s=round(time.perf_counter() - started, 2), values=values, error=error)
