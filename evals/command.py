"""``climcopilot eval``: its options and what it does."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from climcopilot.sandbox.isolation import SandboxPolicy


def positive(kind: type, least: float, what: str) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)`` that is at least ``least`` (else a one-line error)."""
    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}")
        return value
    return convert


def add_eval_arguments(cmd: argparse.ArgumentParser) -> None:
    """The eval command's own options (the brain and sandbox options are added by the CLI)."""
    seconds = positive(float, 1e-3, "must be a positive number of seconds")
    price = positive(float, 0.0, "must be a price >= 0 (USD per 1000 tokens)")
    count = positive(int, 1, "must be a whole number >= 1")
    cmd.add_argument("--suite", default="core", type=suite_folder,
                     help="a bundled suite name (core) or a folder of task files")
    cmd.add_argument("--task", action="append", default=[], help="only this task id")
    cmd.add_argument("--smoke", action="store_true",
                     help="only the CI-sized subset: tasks with smoke = true")
    cmd.add_argument("--memory", choices=["fresh", "keep", "off"], default="fresh")
    cmd.add_argument("--repeat", type=count, default=1, help="passes over the suite")
    cmd.add_argument("--timeout", type=seconds, default=300.0, metavar="SECONDS",
                     help="per-task limit; a task file's timeout_s replaces it (default 300)")
    cmd.add_argument("--parallel", type=count, default=1, metavar="N",
                     help="run N tasks at a time on a local Dask cluster (default 1)")
    cmd.add_argument("--scheduler", metavar="ADDRESS",
                     help="run the tasks on the Dask cluster at this scheduler address")
    cmd.add_argument("--model", help="model name sent to the endpoint (overrides the config)")
    cmd.add_argument("--price-in", type=price, metavar="USD",
                     help="price per 1000 prompt tokens, for the cost")
    cmd.add_argument("--price-out", type=price, metavar="USD",
                     help="price per 1000 completion tokens, for the cost")
    cmd.add_argument("--out", type=Path,
                     help="folder for report.md, report.json and the plots (PNG)")
    cmd.add_argument("--json", action="store_true", help="print the JSON report")
    cmd.add_argument("--compare", nargs=2, type=read_report, metavar=("A.json", "B.json"),
                     help="compare two saved reports instead of running")


def suite_folder(suite: str) -> Path:
    """A folder of task files, or the bundled suite of that name (an argparse type)."""
    folder = Path(suite)
    if not folder.is_dir():
        folder = Path(__file__).resolve().parent / "tasks" / suite
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"no suite {suite!r}: give a folder of task files "
                                         "or 'core'")
    return folder


def read_report(path: str) -> dict[str, Any]:
    """A saved JSON report (an argparse type: a one-line error naming the file if it is not
    one)."""
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read report {path}: {exc}") from None
    if not isinstance(report, dict) or not report.get("passes"):
        raise argparse.ArgumentTypeError(
            f"{path} is not an eval report (no 'passes'); give a report.json written by "
            "`climcopilot eval --out`")
    return report


def compare_saved(a: dict[str, Any], b: dict[str, Any], out: Path | None) -> int:
    """Print the comparison of two saved reports; with ``out`` also write it and its plot."""
    from climcopilot.evals.plots import plot_pass_rates
    from climcopilot.evals.report import compare_runs

    text = compare_runs(a, b)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.md").write_text(text)
        plot_pass_rates([("A", a), ("B", b)], out / "compare.png")
    print(text)
    return 0


def run_eval(args: argparse.Namespace, policy: SandboxPolicy) -> int:
    """Run the suite named by ``args``; print the report (markdown, or JSON with --json)."""
    from climcopilot.agent.cli import UsageError
    from climcopilot.agent.config import load_settings
    from climcopilot.agent.session import make_brain
    from climcopilot.evals.plots import plot_pass_rates, plot_passes
    from climcopilot.evals.report import Prices, build_report, label, markdown
    from climcopilot.evals.runner import run_suite
    from climcopilot.evals.task import load_suite
    from climcopilot.evals.worker import SessionFactory

    if args.compare:
        return compare_saved(*args.compare, args.out)
    folder = args.suite
    tasks, errors = load_suite(folder)
    tasks = [t for t in tasks if (not args.task or t.id in args.task)
             and (not args.smoke or t.smoke)]
    for error in errors:
        print(f"climcopilot: skipped task file {error}", file=sys.stderr)
    if not tasks:
        raise UsageError(f"no runnable task in {folder}"
                         + (" tagged smoke = true" if args.smoke else ""))
    settings = load_settings(args.brain)
    if args.model:
        settings = replace(settings, model=args.model)
    brain = make_brain(settings, args.script)  # a wrong brain set-up stops here, in one line

    def progress(number: int, run: Any) -> None:
        print(f"pass {number} {run.task_id}: {'pass' if run.passed else 'FAIL'} "
              f"({run.steps} steps, {run.wall_s} s){' ' + run.error if run.error else ''}",
              file=sys.stderr)

    started = time.perf_counter()
    passes = run_suite(tasks, SessionFactory(settings, args.script, policy), memory=args.memory,
                       repeat=args.repeat, timeout=args.timeout, parallel=args.parallel,
                       scheduler=args.scheduler, progress=progress)
    setup = {"suite": str(folder), "brain": brain.name,
             "model": settings.model if brain.name == "openai" else None,
             "memory": args.memory, "repeat": args.repeat, "smoke": args.smoke,
             "parallel": args.parallel, "scheduler": args.scheduler, "timeout_s": args.timeout,
             "elapsed_s": round(time.perf_counter() - started, 1)}
    report = build_report(passes, setup, errors, Prices(args.price_in, args.price_out))
    text = markdown(report)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.md").write_text(text)
        (args.out / "report.json").write_text(json.dumps(report, indent=2))
        plot_pass_rates([(label(report), report)], args.out / "pass_rates.png")
        plot_passes(report, args.out / "passes.png")
    print(json.dumps(report, indent=2) if args.json else text)
    return 0
