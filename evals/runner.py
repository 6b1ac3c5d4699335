"""Run a suite of tasks through the agent, each in a worker process with a timeout.

Memory settings: ``fresh`` (one new, empty memory for the whole run, kept across repeats:
what the agent learns in pass 1 is there in pass 2), ``keep`` (the user's memory), ``off`` (a
new, empty memory for every task). With ``parallel > 1`` (or a Dask ``scheduler``) the tasks
of a pass run concurrently; passes still run one after the other, so pass 2 sees everything
pass 1 learned. Concurrent tasks share the run's memory (its journal is safe for several
writers), but a task cannot count on what another task of the same pass has written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from climcopilot.evals.task import Task
from climcopilot.evals.taskrun import TaskRun
from climcopilot.evals.trace import Answerer
from climcopilot.evals.worker import PassRunner, one_by_one

DEFAULT_TIMEOUT_S = 300.0


def pass_runner(answerer: Answerer, parallel: int = 1, scheduler: str | None = None
                ) -> AbstractContextManager[PassRunner]:
    """One task worker in this process's care, or a Dask cluster of ``parallel`` workers."""
    if parallel <= 1 and scheduler is None:
        return one_by_one(answerer)
    from climcopilot.evals.cluster import on_dask

    return on_dask(answerer, parallel, scheduler)


def run_suite(tasks: list[Task], answerer: Answerer, home: Path, memory: str = "fresh",
              repeat: int = 1, timeout: float = DEFAULT_TIMEOUT_S, parallel: int = 1,
              scheduler: str | None = None,
              progress: Callable[[int, TaskRun], None] | None = None) -> list[list[TaskRun]]:
    """Every task ``repeat`` times (passes), under the memory setting (``home``: the user's
    home, for ``keep``); runs per pass, in task order. A task's own ``timeout_s`` replaces
    ``timeout`` (seconds)."""
    with tempfile.TemporaryDirectory(prefix="climcopilot-eval-") as scratch, \
            pass_runner(answerer, parallel, scheduler) as run_pass:
        shared = home if memory == "keep" else Path(scratch) / "run"
        passes = []
        for number in range(1, repeat + 1):
            jobs = [(task, Path(scratch) / f"p{number}-{i}" if memory == "off" else shared,
                     task.timeout_s or timeout) for i, task in enumerate(tasks)]
            passes.append(run_pass(jobs, lambda run, n=number: progress and progress(n, run)))
        return passes
