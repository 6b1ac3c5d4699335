"""Walking-skeleton figures: cold `ask` wall time (offline brain) and per-tool-call overhead.

Run: `.venv/bin/python benchmarks/bench_skeleton.py`. Targets on a 2-core machine: cold ask
<= 15 s, overhead of one tool call through the kernel <= 30 ms (median of 50 trivial calls).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = ("What is the correlation between the Southern Oscillation Index and the Niño-3 "
            "SST anomaly?")


def cold_ask_seconds(repeats: int = 3) -> list[float]:
    """Wall time of `climcopilot ask --json --brain offline` in a new process and new home."""
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as home:
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "climcopilot.agent.cli", "ask", "--json", "--brain",
                 "offline", QUESTION], capture_output=True, text=True,
                env={**os.environ, "CLIMCOPILOT_HOME": home})
            times.append(time.perf_counter() - started)
            if proc.returncode != 0:
                raise SystemExit(f"ask failed: {proc.stderr.strip()}")
    return times


def tool_call_overhead_ms(calls: int = 50) -> tuple[float, float]:
    """Median ms of a trivial tool call through the kernel, and of the same call in-process."""
    from climcopilot.sandbox.kernel import KernelSession
    from climcopilot.tools.base import ToolContext
    from climcopilot.tools.registry import get_tool

    with tempfile.TemporaryDirectory() as ws, KernelSession(Path(ws)) as kernel:
        kernel.call_tool("data.list_series", {})  # imports happen once
        through_kernel = []
        for _ in range(calls):
            started = time.perf_counter()
            kernel.call_tool("data.list_series", {})
            through_kernel.append(time.perf_counter() - started)
        tool, ctx = get_tool("data.list_series"), ToolContext(workspace=Path(ws))
        direct = []
        for _ in range(calls):
            started = time.perf_counter()
            tool.run({}, ctx)
            direct.append(time.perf_counter() - started)
    return 1e3 * statistics.median(through_kernel), 1e3 * statistics.median(direct)


if __name__ == "__main__":
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    cold = cold_ask_seconds()
    print(f"cold ask (offline brain, new process, new home): median {statistics.median(cold):.1f} s"
          f" over {len(cold)} runs ({', '.join(f'{t:.1f}' for t in cold)}); target <= 15 s")
    kernel_ms, direct_ms = tool_call_overhead_ms()
    print(f"tool call through the kernel: median {kernel_ms:.1f} ms; the tool alone "
          f"{direct_ms:.2f} ms; overhead {kernel_ms - direct_ms:.1f} ms; target <= 30 ms")
