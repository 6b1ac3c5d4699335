"""Sandbox figures: kernel start with and without bubblewrap (median of 10), and the overhead
of a trivial tool call in each (median of 50).

Run: `.venv/bin/python benchmarks/bench_sandbox.py`. Targets: sandboxed start <= 1.5 s;
sandboxed per-call overhead within 10% of the unsandboxed kernel.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from climcopilot.sandbox.isolation import SandboxPolicy, describe
from climcopilot.sandbox.kernel import KernelSession


def start_seconds(policy: SandboxPolicy, repeats: int = 10) -> float:
    """Median wall time from starting a kernel to its first executed cell."""
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as ws:
            started = time.perf_counter()
            with KernelSession(Path(ws), policy=policy) as kernel:
                kernel.execute("pass")
                times.append(time.perf_counter() - started)
    return statistics.median(times)


def call_ms(policy: SandboxPolicy, calls: int = 50) -> float:
    """Median ms of a trivial tool call (data.list_series) through the kernel."""
    with tempfile.TemporaryDirectory() as ws, KernelSession(Path(ws), policy=policy) as kernel:
        kernel.call_tool("data.list_series", {})
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            kernel.call_tool("data.list_series", {})
            times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times)


if __name__ == "__main__":
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    sandboxed, plain = SandboxPolicy(), SandboxPolicy(isolate=False)
    print(describe(sandboxed))
    for name, policy in [("sandboxed", sandboxed), ("unsandboxed", plain)]:
        print(f"{name:12s} kernel start: median {start_seconds(policy):.2f} s; "
              f"tool call: median {call_ms(policy):.1f} ms")
