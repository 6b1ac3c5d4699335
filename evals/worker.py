"""A task in a worker process of its own, so that a timeout really stops it.

:class:`TaskWorker` starts ``python -m climcopilot.evals.worker FD`` and sends it one task at a
time over a socket pair; the worker asks the task's question through the answerer (a new
session) and sends the TaskRun back.
A task that runs past its timeout gets the worker stopped: SIGTERM first (the session closes
and stops its kernel), then SIGKILL to the worker and every process it started (launcher,
bubblewrap, ipykernel). The task is recorded as failed and the next task gets a new worker;
a worker that dies is recorded the same way. The answerer warms up once per worker (imports,
the brain), before any task's clock starts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil

from climcopilot.evals.task import Task
from climcopilot.evals.taskrun import TaskRun, failed_run, run_task
from climcopilot.evals.trace import Answerer

START_TIMEOUT_S = 300.0  # a new worker's imports and brain set-up (not part of any task's time)
STOP_GRACE_S = 10.0  # after SIGTERM, for the session to stop its kernel; then SIGKILL

Job = tuple[Task, Path, float]  # a task, the home its memory lives in, its timeout (s)
PassRunner = Callable[[list[Job], Callable[[TaskRun], None]], list[TaskRun]]


class TaskWorker:
    """The parent's handle on one worker process; started on first use, again after a stop."""

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.log: Any = None  # the worker's stderr, for the last line when it dies

    def run(self, task: Task, home: Path, timeout: float) -> TaskRun:
        """Run ``task``; past ``timeout`` seconds it is stopped and recorded as failed."""
        if (error := self._start()) is not None:
            return failed_run(task, error, 0.0)
        assert self.conn is not None
        started = time.perf_counter()
        try:
            self.conn.send((task, home))
            if not self.conn.poll(timeout):
                wall = time.perf_counter() - started
                self.stop()
                return failed_run(task, f"timeout after {timeout:g} s", wall)
            return self.conn.recv()
        except (EOFError, OSError):
            error = self._death()
            self.stop()
            return failed_run(task, error, time.perf_counter() - started)

    def _start(self) -> str | None:
        """Start the worker if none is running; an error line if it cannot start."""
        if self.proc is not None and self.proc.poll() is None:
            return None
        self.stop()
        parent, child = socket.socketpair()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "climcopilot.evals.worker", str(child.fileno())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log, start_new_session=True)
        child.close()
        self.conn = Connection(parent.detach())
        self.conn.send(sys.path)  # first, so that the answerer's classes unpickle there
        self.conn.send(self.answerer)
        try:
            if self.conn.poll(START_TIMEOUT_S) and self.conn.recv() == "ready":
                return None
            error = f"the worker did not start in {START_TIMEOUT_S:g} s"
        except (EOFError, OSError):
            error = self._death()
        self.stop()
        return error

    def _death(self) -> str:
        """One line on why the worker is gone: its exit status and last line of stderr."""
        assert self.proc is not None
        try:
            code = self.proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            code = None
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()
        return (f"worker died (exit status {code})"
                + (f": {lines[-1][:300]}" if lines else ""))

    def stop(self) -> None:
        """Stop the worker and everything it started; harmless when none runs."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.proc is None:
            return
        try:
            family = [psutil.Process(self.proc.pid)]
            family += family[0].children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        for process in family:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(family, timeout=STOP_GRACE_S)
        self.proc.wait()
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def close(self) -> None:
        """Let the worker finish (it exits when its connection closes), then make sure."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
            try:
                assert self.proc is not None
                self.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        self.stop()


@contextmanager
def one_by_one(answerer: Answerer) -> Iterator[PassRunner]:
    """A pass runner that runs the jobs one after the other in one task worker."""
    worker = TaskWorker(answerer)

    def run_pass(jobs: list[Job], report: Callable[[TaskRun], None]) -> list[TaskRun]:
        runs = []
        for task, home, timeout in jobs:
            runs.append(worker.run(task, home, timeout))
            report(runs[-1])
        return runs

    try:
        yield run_pass
    finally:
        worker.close()


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds the session's `with`: kernel stops


def main(fd: int) -> None:
    """The worker's loop: set up, say ready, then run tasks until the connection closes."""
    signal.signal(signal.SIGTERM, _terminated)
    conn = Connection(fd)
    sys.path[:] = conn.recv()
    answerer: Answerer = conn.recv()
    answerer.warm_up()
    conn.send("ready")
    while True:
        try:
            task, home = conn.recv()
        except EOFError:  # the parent is done: nothing is left to flush, so skip the slow
            os._exit(0)  # interpreter teardown (torch and chromadb threads)
        conn.send(run_task(task, home, answerer))


if __name__ == "__main__":
    main(int(sys.argv[1]))
