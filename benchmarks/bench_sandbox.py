"""Sandbox figures: kernel start (to its first executed cell) and the overhead of a trivial tool
call, sandboxed and unsandboxed, and optionally side by side with the sandbox of an earlier
revision (``--baseline REV``), the two interleaved so that both see the same load.

Run: `.venv/bin/python benchmarks/bench_sandbox.py [--baseline REV] [--repeats N]`. Targets:
sandboxed start <= 1.5 s, and within 1.3x of the baseline's start and per-call time.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def baseline_package(rev: str, folder: Path) -> ModuleType:
    """The ``sandbox/`` of git revision ``rev`` as the package ``baseline_sandbox`` (its
    ``climcopilot.sandbox`` imports renamed), importable here and in its kernels."""
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{rev}:sandbox"],
                           capture_output=True, text=True, check=True).stdout.split()
    package = folder / "baseline_sandbox"
    package.mkdir()
    for name in (n for n in names if n.endswith(".py")):
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:sandbox/{name}"],
                              capture_output=True, text=True, check=True).stdout
        (package / name).write_text(text.replace("climcopilot.sandbox", "baseline_sandbox"))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(folder), os.environ.get("PYTHONPATH", "")] if p)
    sys.path.insert(0, str(folder))
    return importlib.import_module("baseline_sandbox.kernel")


def start_seconds(kernel_module: ModuleType, policy: object) -> float:
    """Wall time from starting a kernel to its first executed cell."""
    with tempfile.TemporaryDirectory() as ws:
        started = time.perf_counter()
        with kernel_module.KernelSession(Path(ws), policy=policy) as kernel:
            kernel.execute("pass")
            return time.perf_counter() - started


def call_ms(kernel_module: ModuleType, policy: object, calls: int) -> float:
    """Median ms of a trivial tool call (data.list_series) through the kernel."""
    with tempfile.TemporaryDirectory() as ws, \
            kernel_module.KernelSession(Path(ws), policy=policy) as kernel:
        kernel.call_tool("data.list_series", {})
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            kernel.call_tool("data.list_series", {})
            times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="git revision whose sandbox/ to compare against")
    parser.add_argument("--repeats", type=int, default=10, help="kernel starts per variant")
    parser.add_argument("--calls", type=int, default=50, help="tool calls per variant")
    args = parser.parse_args()

    from climcopilot.sandbox import kernel as current
    from climcopilot.sandbox.isolation import SandboxPolicy, describe

    variants = {"sandboxed": (current, SandboxPolicy()),
                "unsandboxed": (current, SandboxPolicy(isolate=False))}
    folder = tempfile.TemporaryDirectory()
    if args.baseline:
        old = baseline_package(args.baseline, Path(folder.name))
        old_policy = importlib.import_module("baseline_sandbox.isolation").SandboxPolicy()
        variants[f"{args.baseline} sandboxed"] = (old, old_policy)
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"Python {sys.version.split()[0]}")
    print(describe(SandboxPolicy()))
    starts: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):  # interleaved, so that each variant sees the same load
        for name, (module, policy) in variants.items():
            starts[name].append(start_seconds(module, policy))
    calls: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(3):
        for name, (module, policy) in variants.items():
            calls[name].append(call_ms(module, policy, args.calls))
    for name in variants:
        print(f"{name:24s} kernel start: median {statistics.median(starts[name]):.2f} s "
              f"(of {args.repeats}); tool call: median {statistics.median(calls[name]):.1f} ms "
              f"(3 kernels x {args.calls} calls: "
              + ", ".join(f"{c:.1f}" for c in calls[name]) + ")")
    folder.cleanup()


if __name__ == "__main__":
    main()
