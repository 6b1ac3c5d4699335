"""Where a person waits: the command line's wall times, each command a new process.

Run: `.venv/bin/python benchmarks/bench_cli.py [--repeats 5]`. The figures are measured in
rounds, one of each per round (interleaved, so load from other work spreads over all of
them), and printed as medians with the spread:

- `--version`, `--help`, `tools list`, `config show`, `memory list` (targets: `--version`
  <= 0.3 s, `tools list` <= 1.5 s);
- `tools run` of a light and a heavy tool, less the tool's own time (the same call run again
  in a process where it already ran once), target <= 3 s;
- a cold offline `ask` (new home) and the same question again in that home, answered from
  memory (warm), targets <= 8 s and <= 3 s;
- one tool call through a warm kernel against the same call in-process (the per-step cost).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "What is the linear trend of Mauna Loa CO2 in ppm per year?"
TOOL_RUNS = {
    "data.open_series": {"name": "soi"},
    "da.twin_experiment": {"system": "lorenz96", "method": "etkf", "N": 20, "Ko": 1000},
}
LIGHT = {"--version": ["--version"], "--help": ["--help"], "tools list": ["tools", "list"],
         "config show": ["config", "show"], "memory list": ["memory", "list"]}


def wall(args: list[str], home: str) -> tuple[float, str]:
    """Seconds `climcopilot ARGS` takes in a new process with CLIMCOPILOT_HOME ``home``, and
    its stdout (SystemExit on failure)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "climcopilot.agent.cli", *args],
                          capture_output=True, text=True,
                          env={**os.environ, "CLIMCOPILOT_HOME": home})
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"climcopilot {' '.join(args)} failed: {proc.stderr.strip()}")
    return seconds, proc.stdout


OWN_TIME = """
import json, sys, tempfile, time
from pathlib import Path
from climcopilot.tools.base import ToolContext
from climcopilot.tools.registry import get_tool
tool, arguments = get_tool(sys.argv[1]), json.loads(sys.argv[2])
ctx = ToolContext(workspace=Path(tempfile.mkdtemp()))
tool.run(arguments, ctx)
times = []
for _ in range(3):
    started = time.perf_counter()
    tool.run(arguments, ctx)
    times.append(time.perf_counter() - started)
print(sorted(times)[1])
"""


def own_seconds(name: str, arguments: dict) -> float:
    """The tool's own time: median of 3 calls after a first one, in one process."""
    proc = subprocess.run([sys.executable, "-c", OWN_TIME, name, json.dumps(arguments)],
                          capture_output=True, text=True, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def kernel_call_ms(calls: int = 50) -> tuple[float, float]:
    """Median ms of a trivial tool call through a warm kernel, and in-process."""
    from climcopilot.sandbox.kernel import KernelSession
    from climcopilot.tools.base import ToolContext
    from climcopilot.tools.registry import get_tool

    with tempfile.TemporaryDirectory() as ws, KernelSession(Path(ws)) as kernel:
        kernel.call_tool("data.list_series", {})  # imports happen once
        through = []
        for _ in range(calls):
            started = time.perf_counter()
            kernel.call_tool("data.list_series", {})
            through.append(time.perf_counter() - started)
        tool, ctx = get_tool("data.list_series"), ToolContext(workspace=Path(ws))
        direct = []
        for _ in range(calls):
            started = time.perf_counter()
            tool.run({}, ctx)
            direct.append(time.perf_counter() - started)
    return 1e3 * statistics.median(through), 1e3 * statistics.median(direct)


def show(label: str, values: list[float], target: str = "") -> None:
    spread = ", ".join(f"{v:.2f}" for v in values)
    print(f"{label:40s} median {statistics.median(values):6.2f} s  ({spread}){target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    figures: dict[str, list[float]] = {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as home:
            cold, _ = wall(["ask", "--brain", "offline", QUESTION], home)
            warm, out = wall(["ask", "--brain", "offline", QUESTION], home)
            if "from memory" not in out:
                raise SystemExit("the second ask was not answered from memory:\n" + out)
            figures.setdefault("cold ask", []).append(cold)
            figures.setdefault("warm ask (from memory)", []).append(warm)
            for label, args in LIGHT.items():
                figures.setdefault(label, []).append(wall(args, home)[0])
            for name, arguments in TOOL_RUNS.items():
                seconds, _ = wall(["tools", "run", name, "--args", json.dumps(arguments)], home)
                own = own_seconds(name, arguments)
                figures.setdefault(f"tools run {name}", []).append(seconds)
                figures.setdefault(f"  its own time ({name})", []).append(own)
                figures.setdefault(f"  overhead ({name})", []).append(seconds - own)
    targets = {"--version": "  target <= 0.3 s", "tools list": "  target <= 1.5 s",
               "cold ask": "  target <= 8 s", "warm ask (from memory)": "  target <= 3 s"}
    for label, values in figures.items():
        target = "  target <= 3 s" if label.startswith("  overhead") else targets.get(label, "")
        show(label, values, target)
    through, direct = kernel_call_ms()
    print(f"tool call through a warm kernel: median {through:.1f} ms; in-process "
          f"{direct:.2f} ms; overhead {through - direct:.1f} ms per step")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
