"""``climcopilot eval``: its options and what it does."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from climcopilot.sandbox.isolation import SandboxPolicy


def add_eval_arguments(cmd: argparse.ArgumentParser) -> None:
    """The eval command's own options (the brain and sandbox options are added by the CLI)."""
    cmd.add_argument("--suite", default="core",
                     help="a bundled suite name (core) or a folder of task files")
    cmd.add_argument("--task", action="append", default=[], help="only this task id")
    cmd.add_argument("--memory", choices=["fresh", "keep", "off"], default="fresh")
    cmd.add_argument("--repeat", type=int, default=1, help="passes over the suite")
    cmd.add_argument("--out", type=Path, help="folder for report.md and report.json")
    cmd.add_argument("--json", action="store_true", help="print the JSON report")


def suite_folder(suite: str) -> Path:
    """A folder of task files, or the bundled suite of that name."""
    from climcopilot.agent.cli import UsageError

    folder = Path(suite)
    if not folder.is_dir():
        folder = Path(__file__).resolve().parent / "tasks" / suite
    if not folder.is_dir():
        raise UsageError(f"no suite {suite!r}: give a folder of task files or 'core'")
    return folder


def run_eval(args: argparse.Namespace, policy: SandboxPolicy) -> int:
    """Run the suite named by ``args``; print the report (markdown, or JSON with --json)."""
    from climcopilot.agent.cli import UsageError
    from climcopilot.agent.config import load_settings
    from climcopilot.agent.session import Session, make_brain
    from climcopilot.evals.report import compare, markdown, summarize
    from climcopilot.evals.runner import run_suite
    from climcopilot.evals.task import load_suite

    folder = suite_folder(args.suite)
    if args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    tasks, errors = load_suite(folder)
    tasks = [t for t in tasks if not args.task or t.id in args.task]
    for error in errors:
        print(f"climcopilot: skipped task file {error}", file=sys.stderr)
    if not tasks:
        raise UsageError(f"no runnable task in {folder}")
    settings = load_settings(args.brain)
    brain = make_brain(settings, args.script)

    def progress(number: int, run: Any) -> None:
        print(f"pass {number} {run.task_id}: {'pass' if run.passed else 'FAIL'} "
              f"({run.steps} steps, {run.wall_s} s){' ' + run.error if run.error else ''}",
              file=sys.stderr)

    passes = run_suite(tasks, settings, lambda s: Session(s, brain, policy=policy),
                       memory=args.memory, repeat=args.repeat, progress=progress)
    summaries = [summarize(runs) for runs in passes]
    report = {"suite": str(folder), "brain": brain.name, "memory": args.memory,
              "passes": [{"summary": s, "runs": [r.model_dump() for r in runs]}
                         for s, runs in zip(summaries, passes)],
              "comparison": compare(summaries[0], summaries[-1]) if len(passes) > 1 else None,
              "skipped_files": errors}
    text = markdown(passes, errors)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.md").write_text(text)
        (args.out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2) if args.json else text)
    return 0
