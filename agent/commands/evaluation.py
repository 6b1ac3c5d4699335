"""``climcopilot eval``: run a suite through the agent and print (and save) the report."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from climcopilot.agent.brains.factory import make_brain
from climcopilot.agent.commands.options import sandbox_policy
from climcopilot.agent.config import load_settings
from climcopilot.agent.eval_answerer import SessionAnswerer
from climcopilot.evals.evaluation import (
    EvalOptions,
    compare_saved,
    evaluate,
    write_report,
)
from climcopilot.evals.report import Prices, markdown
from climcopilot.evals.taskrun import TaskRun


def progress(number: int, run: TaskRun) -> None:
    print(f"pass {number} {run.task_id}: {'pass' if run.passed else 'FAIL'} "
          f"({run.steps} steps, {run.wall_s} s){' ' + run.error if run.error else ''}",
          file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.compare:
        print(compare_saved(*args.compare, args.out))
        return 0
    options = EvalOptions(suite=args.suite, tasks=tuple(args.task),
                          smoke=args.smoke, memory=args.memory, repeat=args.repeat,
                          timeout=args.timeout, parallel=args.parallel,
                          scheduler=args.scheduler, prices=Prices(args.price_in, args.price_out))
    settings = load_settings(args.brain)
    if args.model:
        settings = replace(settings, model=args.model)
    make_brain(settings, args.script)  # a wrong brain set-up stops here, in one line
    answerer = SessionAnswerer(settings, args.script, sandbox_policy(args))
    report = evaluate(options, answerer, settings.home, progress)
    if args.out is not None:
        write_report(report, args.out)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0
