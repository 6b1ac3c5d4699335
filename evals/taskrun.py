"""One task's run: ask its question through the answerer, score the answer, judge the
trajectory.

Runs in a worker process (:mod:`climcopilot.evals.worker`); a failing task is a result
(``error``), never an exception.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from climcopilot.evals.checkers import load_checker
from climcopilot.evals.task import Task
from climcopilot.evals.trace import Answerer, ToolCall, Trace


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
    constraints: dict[str, str] = Field(default_factory=dict)  # see constraint_report
    hallucinated: int = 0  # numbers the answer stated that no step produced


def score(task: Task, trace: Trace) -> float:
    """Credit in [0, 1]: the expected values the answer hit within tolerance, and the task's
    checker's credit as one more item."""
    values = trace.values
    credits = [float(name in values and abs(values[name] - e.value) <= e.tol)
               for name, e in task.expected.items()]
    if task.checker is not None:
        credits.append(min(1.0, max(0.0, float(load_checker(task.checker)(trace)))))
    return sum(credits) / len(credits)


def in_order(expected: list[str], called: list[str]) -> bool:
    """True if ``expected`` is a subsequence of ``called``."""
    remaining = iter(called)
    return all(any(c == e for c in remaining) for e in expected)


def all_called(expected: list[str], called: list[str]) -> bool:
    """True if every expected tool was called at least as often as it is expected."""
    return all(called.count(name) >= expected.count(name) for name in set(expected))


def right_arguments(expected: dict[str, dict[str, Any]], calls: list[ToolCall]) -> bool:
    """True if, for each tool in ``expected``, some call of it passed all those arguments."""
    return all(any(c.tool == tool and all(c.arguments.get(k) == v for k, v in args.items())
                   for c in calls) for tool, args in expected.items())


def failed_run(task: Task, error: str, wall_s: float) -> TaskRun:
    """The record of a task that produced nothing (a timeout, a dead worker)."""
    return TaskRun(task_id=task.id, level=task.level, family=task.family, passed=False,
                   score=0.0, steps=0, tool_calls=0, right_tools=None, wall_s=round(wall_s, 2),
                   values={}, error=error)


def _same(a: Any, b: Any) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return str(a).lower().replace("-", "") == str(b).lower().replace("-", "")


def constraint_report(task: Task, trace: Trace) -> dict[str, str]:
    """For each constraint of the task: ``applied`` (the system read it and a step applied
    it), ``not applied: why`` (read, and named in the answer as not applied), or ``not
    read`` (the system never saw it: a condition silently dropped)."""
    wanted = task.constraints
    if wanted is None:
        return {}
    read = trace.constraints
    items: list[tuple[str, bool]] = []
    if wanted.quantity:
        items.append((f"quantity {wanted.quantity}", read.get("quantity") == wanted.quantity))
    subjects = read.get("subjects", [])
    items += [(f"subject {s}", s in subjects) for s in wanted.subjects]
    periods = read.get("periods", [])
    for first, last in wanted.periods:
        items.append((f"period {first}-{last}", any(
            (a is None or a == first) and (b is None or b == last) for a, b in periods)))
    if wanted.season:
        items.append((f"season {wanted.season}", _same(read.get("season"), wanted.season)))
    items += [(t, t in read.get("transforms", [])) for t in wanted.transforms]
    settings = read.get("settings", {})
    items += [(f"{k} = {v}", k in settings and (settings[k] == v or _same(settings[k], v)))
              for k, v in wanted.settings.items()]
    report = {}
    for name, seen in items:
        missing = next((line for line in trace.not_applied
                        if line.split(":")[0].split(" = ")[0] in name), None)
        report[name] = ("not read" if not seen else
                        f"not applied: {missing}" if missing else "applied")
    return report


def refusal_verdict(task: Task, trace: Trace) -> tuple[str | None, float]:
    """(error, credit) of a task whose right outcome is not an answer: the expected status,
    with the expected word in its one-line reason."""
    wanted = (task.reason_contains or "").lower()
    if trace.status == task.expect_status and wanted in (trace.reason or "").lower():
        return None, 1.0
    return (f"expected {task.expect_status} naming {task.reason_contains!r}, got "
            f"{trace.status}: {trace.reason}"), 0.0


def run_task(task: Task, home: Path, answerer: Answerer) -> TaskRun:
    """Ask the task's question (after its history) in a new session; a failing task never
    raises."""
    started = time.perf_counter()
    try:
        trace = answerer(task.question, task.history, home)
    except Exception as exc:  # a task's failure is a result, not the end of the run
        trace = Trace(status="failed", reason=f"{type(exc).__name__}: {exc}".splitlines()[0])
    called = [c.tool for c in trace.tool_calls]
    if task.expect_status != "done":
        error, credit = refusal_verdict(task, trace)
    else:
        answered = ("done", "partial") if task.accept_partial else ("done",)
        error = None if trace.status in answered else f"{trace.status}: {trace.reason}"
        try:
            credit = score(task, trace) if error is None else 0.0
        except Exception as exc:  # a broken checker fails its task, not the run
            error, credit = f"checker {task.checker} failed: {type(exc).__name__}: {exc}", 0.0
    judged = trace.steps > 0  # no steps: nothing to judge the trajectory by
    return TaskRun(task_id=task.id, level=task.level, family=task.family,
                   passed=error is None and credit == 1.0, score=credit, steps=trace.steps,
                   tool_calls=len(called),
                   right_tools=all_called(task.expected_tools, called)
                   if task.expected_tools and judged else None,
                   right_order=in_order(task.expected_tools, called)
                   if task.expected_tools and judged else None,
                   right_args=right_arguments(task.expected_args, trace.tool_calls)
                   if task.expected_args and judged else None,
                   prompt_tokens=trace.prompt_tokens, completion_tokens=trace.completion_tokens,
                   wall_s=round(time.perf_counter() - started, 2),
                   values=trace.values if error is None else {}, error=error,
                   constraints=constraint_report(task, trace),
                   hallucinated=len(trace.invented))
