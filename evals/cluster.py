"""A pass's tasks run concurrently on Dask.

Each Dask worker process keeps one :class:`~climcopilot.evals.worker.TaskWorker` and runs
one task at a time through it, so a timeout still stops the task's work (kernel and all). A
task whose Dask worker dies is recorded as failed; the other tasks go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from climcopilot.evals.task import Task
from climcopilot.evals.taskrun import TaskRun, failed_run
from climcopilot.evals.trace import Answerer
from climcopilot.evals.worker import Job, PassRunner, TaskWorker

_worker: TaskWorker | None = None  # this Dask worker process's task worker
_lock = threading.Lock()  # one task at a time per process, whatever the Dask thread count


def run_on_dask_worker(task: Task, home: Path, answerer: Answerer, timeout: float) -> TaskRun:
    """Run one task in this Dask worker process's task worker (started on first use)."""
    global _worker
    with _lock:
        if _worker is None or _worker.answerer != answerer:
            close_task_worker()
            _worker = TaskWorker(answerer)
        return _worker.run(task, home, timeout)


def close_task_worker() -> None:
    """Stop this process's task worker, if any (run on every Dask worker at the end)."""
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


@contextmanager
def on_dask(answerer: Answerer, workers: int, scheduler: str | None = None
            ) -> Iterator[PassRunner]:
    """A pass runner over a Dask cluster: the one at ``scheduler`` (an address), or a local
    cluster of ``workers`` processes with one thread each."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(scheduler or cluster)

    def run_pass(jobs: list[Job], report: Callable[[TaskRun], None]) -> list[TaskRun]:
        futures = {client.submit(run_on_dask_worker, *job[:2], answerer, job[2],
                                 pure=False): i for i, job in enumerate(jobs)}
        runs: list[TaskRun | None] = [None] * len(jobs)
        for future in as_completed(futures):
            i = futures[future]
            try:
                run = future.result()
            except Exception as exc:  # the Dask worker died (or could not run it)
                run = failed_run(jobs[i][0], f"dask: {type(exc).__name__}: {exc}"[:300], 0.0)
            runs[i] = run
            report(run)
        return [r for r in runs if r is not None]

    try:
        yield run_pass
    finally:
        try:
            client.run(close_task_worker)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
