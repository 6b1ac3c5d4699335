"""The Dask client of a sweep: a scheduler the user names, or a fresh LocalCluster of worker
processes (one thread each) that ends with the sweep. Shared by the families' sweeps."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster

from climcopilot.tools.base import ToolError


@contextmanager
def dask_client(address: str | None, n_workers: int) -> Iterator[Client]:
    """A client of the scheduler at ``address``, or of a fresh LocalCluster of processes."""
    if address is not None:
        try:
            client = Client(address, timeout="5s")
        except OSError as exc:
            raise ToolError(f"cannot reach the Dask scheduler at {address!r}: {exc}; "
                            "check the address or pass null for a LocalCluster") from exc
        with client:
            yield client
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client
