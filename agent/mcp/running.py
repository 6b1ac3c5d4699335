"""A blocking call (a kernel cell, a memory search, a reproduction) run off the event loop:
the client gets a progress notification every :data:`PROGRESS_EVERY_S` while it runs, and a
cancelled request stops it (a queued call never starts, a running cell is interrupted)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
PROGRESS_EVERY_S = 1.0  # seconds between two progress notifications of one call


async def _report_progress(ctx: Any, label: str, started: float) -> None:
    """Tell the client, every :data:`PROGRESS_EVERY_S`, how long the call has run (progress in
    seconds, no total: a cell's length is not known beforehand)."""
    while True:
        await anyio.sleep(PROGRESS_EVERY_S)
        elapsed = time.monotonic() - started
        try:
            await ctx.session.report_progress(elapsed, None,
                                              f"{label}: running for {elapsed:.0f} s")
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return  # the client went away; the call itself decides what happens next


def _captured(work: Callable[[threading.Event], T], cancelled: threading.Event
              ) -> tuple[T | None, Exception | None]:
    """``work``'s value or its exception, so that the exception leaves the task group as it
    is (a task group wraps what its body raises in an ExceptionGroup)."""
    try:
        return work(cancelled), None
    except Exception as exc:
        return None, exc


async def run_reporting(work: Callable[[threading.Event], T], ctx: Any, label: str,
                        stop: Callable[[threading.Event], None]) -> T:
    """``work(cancelled)`` in a worker thread, with progress notifications to the client of
    request ``ctx`` (a no-op when it asked for none); what it raises is raised here. If the
    request is cancelled, ``stop(cancelled)`` is called, which must make ``work`` return soon,
    and the cancellation goes on."""
    cancelled = threading.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(_report_progress, ctx, label, time.monotonic())
        try:
            value, error = await anyio.to_thread.run_sync(_captured, work, cancelled,
                                                          abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            stop(cancelled)
            raise
        group.cancel_scope.cancel()
    if error is not None:
        raise error
    return value
