"""Memory figures: import and embedder load times, insert throughput, store open time, and
recall latency (p50, p95) as the store grows, optionally on a loaded machine.

Run: `.venv/bin/python benchmarks/bench_memory.py [--sizes 1000 10000] [--load 2]`. `--load N`
keeps N other processes busy (`while True: pass`) while the import times, store opening and
recall are measured (not the insert), as on a shared machine. Targets at 10k records on the
CLI's own thread settings, loaded: recall p50 <= 50 ms, p95 <= 120 ms. Records are synthetic
findings with varied wording; each size is a fresh store filled by `Memory.import_` (batched
embedding and index writes), then queried 50 times with questions that name two indices (so the
keyword path runs too). The CPU time of a recall (all the process's threads) is printed too: on a
machine shared with other work, wall times follow the load, CPU times much less.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from climcopilot.knowledge.embedder import embed
from climcopilot.knowledge.memory import Memory
from climcopilot.knowledge.records import SCHEMA_VERSION, Finding

INDICES = ["SOI", "Nino-3", "Nino-3.4", "ONI", "AMO", "PDO", "NAO", "IOD", "HadCRUT5", "CO2"]
VERBS = ["correlates with", "leads", "lags", "drives", "is anti-correlated with"]


def synthetic(n: int, seed: int = 0) -> list[Finding]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.sample(INDICES, 2)
        r = round(rng.uniform(-1, 1), 3)
        out.append(Finding(id=f"f{i:07d}", question=f"How does {a} relate to {b} ({i})?",
                           claim=f"{a} {rng.choice(VERBS)} {b} at r = {r} (lag {i % 13} months)",
                           key=f"bench|{a},{b}|{i}", values={"r": r}))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seconds_in_new_process(code: str, runs: int = 3) -> float:
    """Median wall time of ``code`` run by a fresh interpreter (its own timer, so interpreter
    start-up is left out)."""
    timed = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    return statistics.median(float(subprocess.run([sys.executable, "-c", timed], check=True,
                                                  capture_output=True, text=True).stdout)
                             for _ in range(runs))


def measure(size: int, load: int, queries: int = 50) -> dict[str, float]:
    """Insert ``size`` records into a fresh store; then, with ``load`` busy processes, open it
    and recall from it."""
    with tempfile.TemporaryDirectory() as home:
        export = Path(home) / "records.json"
        export.write_text(json.dumps({"schema_version": SCHEMA_VERSION,
                                      "records": [f.model_dump() for f in synthetic(size)]}))
        memory = Memory(Path(home))
        started = time.perf_counter()
        memory.import_(export)
        insert_s = time.perf_counter() - started
        with busy(load):
            opens = []
            for _ in range(3):
                started = time.perf_counter()
                memory = Memory(Path(home))
                opens.append(time.perf_counter() - started)
            rng = random.Random(1)
            latencies, cpu = [], []
            for _ in range(queries):
                a, b = rng.sample(INDICES, 2)
                started, cpu_started = time.perf_counter(), time.process_time()
                memory.search(f"Is the {a} linked to the {b}?", k=3)
                latencies.append(1e3 * (time.perf_counter() - started))
                cpu.append(1e3 * (time.process_time() - cpu_started))
    return {"records": size, "insert_per_s": size / insert_s, "open_s": statistics.median(opens),
            "p50_ms": statistics.median(latencies), "p95_ms": percentile(latencies, 0.95),
            "cpu_p50_ms": statistics.median(cpu)}


@contextmanager
def busy(processes: int) -> Iterator[None]:
    """``processes`` other processes spinning on a CPU each while the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(processes)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--load", type=int, default=0, help="busy processes meanwhile")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.1f}, {args.load} extra busy processes")
    with busy(args.load):
        print(f"import climcopilot.knowledge.memory: "
              f"{seconds_in_new_process('import climcopilot.knowledge.memory'):.2f} s; "
              "embedder load and first embedding: " + format(seconds_in_new_process(
                  "from climcopilot.knowledge.embedder import embed\nembed(['x'])"), ".2f")
              + " s")
    embed(["warm up the embedder"])
    for size in args.sizes:
        m = measure(size, args.load)
        print(f"{m['records']:>7} records: insert {m['insert_per_s']:.0f} records/s; open "
              f"{m['open_s']:.2f} s; recall p50 {m['p50_ms']:.1f} ms, p95 {m['p95_ms']:.1f} ms "
              f"(CPU time p50 {m['cpu_p50_ms']:.1f} ms, all threads)")
