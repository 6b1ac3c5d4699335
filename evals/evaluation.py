"""A whole evaluation: load a suite, run its tasks through an answerer, build the report,
write it (markdown, JSON, plots); and the comparison of two saved reports."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from climcopilot.evals.errors import EvalError
from climcopilot.evals.report import Prices, build_report, compare_runs, label, markdown
from climcopilot.evals.task import load_suite
from climcopilot.evals.taskrun import TaskRun
from climcopilot.evals.trace import Answerer

SUITES = Path(__file__).resolve().parent / "tasks"


@dataclass(frozen=True)
class EvalOptions:
    """What to run and how: the suite folder, only these task ids (empty: all), only the
    smoke subset, the memory setting (fresh, keep, off), passes, the per-task timeout (s),
    parallel workers or a Dask scheduler address, and the LLM's prices."""

    suite: Path
    tasks: tuple[str, ...] = ()
    smoke: bool = False
    memory: str = "fresh"
    repeat: int = 1
    timeout: float = 300.0
    parallel: int = 1
    scheduler: str | None = None
    prices: Prices = field(default_factory=Prices)


def suite_folder(suite: str) -> Path:
    """A folder of task files, the bundled suite of that name, or ``atmossci`` (the bundled
    AtmosSci-Bench questions, written as task files into a new temporary folder); EvalError
    if none."""
    if suite == "atmossci" and not Path(suite).is_dir():
        import tempfile

        from climcopilot.evals.atmossci import read_items, write_suite

        folder = Path(tempfile.mkdtemp(prefix="climcopilot-atmossci-"))
        write_suite(read_items(), folder)
        return folder
    folder = Path(suite)
    if not folder.is_dir():
        folder = SUITES / suite
    if not folder.is_dir():
        bundled = ", ".join(sorted(p.name for p in SUITES.iterdir() if p.is_dir()))
        raise EvalError(f"no suite {suite!r}: give a folder of task files or one of {bundled}, "
                        "atmossci")
    return folder


def read_report(path: Path) -> dict[str, Any]:
    """A saved JSON report (EvalError naming the file if it is not one)."""
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EvalError(f"cannot read report {path}: {exc}") from None
    if not isinstance(report, dict) or not report.get("passes"):
        raise EvalError(f"{path} is not an eval report (no 'passes'); give a report.json "
                        "written by `climcopilot eval --out`")
    return report


def evaluate(options: EvalOptions, answerer: Answerer, home: Path,
             progress: Callable[[int, TaskRun], None] | None = None) -> dict[str, Any]:
    """Run the suite; returns the JSON report. Unreadable task files are reported on stderr
    and in the report; a suite with no runnable task is an EvalError."""
    from climcopilot.evals.runner import run_suite

    tasks, errors = load_suite(options.suite)
    tasks = [t for t in tasks if (not options.tasks or t.id in options.tasks)
             and (not options.smoke or t.smoke)]
    for error in errors:
        print(f"climcopilot: skipped task file {error}", file=sys.stderr)
    if not tasks:
        raise EvalError(f"no runnable task in {options.suite}"
                        + (" tagged smoke = true" if options.smoke else ""))
    started = time.perf_counter()
    passes = run_suite(tasks, answerer, home, memory=options.memory, repeat=options.repeat,
                       timeout=options.timeout, parallel=options.parallel,
                       scheduler=options.scheduler, progress=progress)
    setup = {"suite": str(options.suite), "brain": answerer.name, "model": answerer.model,
             "memory": options.memory, "repeat": options.repeat, "smoke": options.smoke,
             "parallel": options.parallel, "scheduler": options.scheduler,
             "timeout_s": options.timeout, "elapsed_s": round(time.perf_counter() - started, 1)}
    return build_report(passes, setup, errors, options.prices)


def write_report(report: dict[str, Any], out: Path) -> None:
    """``report.md``, ``report.json`` and the plots (PNG) under ``out``."""
    from climcopilot.evals.plots import plot_pass_rates, plot_passes

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(markdown(report))
    (out / "report.json").write_text(json.dumps(report, indent=2))
    plot_pass_rates([(label(report), report)], out / "pass_rates.png")
    plot_passes(report, out / "passes.png")


def compare_saved(a: dict[str, Any], b: dict[str, Any], out: Path | None) -> str:
    """The comparison of two saved reports (markdown); with ``out`` also written with its
    plot."""
    from climcopilot.evals.plots import plot_pass_rates

    text = compare_runs(a, b)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.md").write_text(text)
        plot_pass_rates([("A", a), ("B", b)], out / "compare.png")
    return text
