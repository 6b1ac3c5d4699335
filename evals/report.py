"""Reports of evaluation runs: pass rates by level and family, and pass-to-pass comparison."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from climcopilot.evals.runner import TaskRun


def summarize(runs: list[TaskRun]) -> dict[str, Any]:
    """Totals of one pass: pass rate overall, by level and by family; steps; wall time."""
    def rate(group: list[TaskRun]) -> float:
        return sum(r.passed for r in group) / len(group) if group else 0.0

    by_level, by_family = defaultdict(list), defaultdict(list)
    for r in runs:
        by_level[r.level].append(r)
        by_family[r.family].append(r)
    return {"tasks": len(runs), "passed": sum(r.passed for r in runs), "pass_rate": rate(runs),
            "mean_score": sum(r.score for r in runs) / len(runs) if runs else 0.0,
            "steps": sum(r.steps for r in runs), "tool_calls": sum(r.tool_calls for r in runs),
            "wall_s": round(sum(r.wall_s for r in runs), 1),
            "by_level": {str(k): rate(v) for k, v in sorted(by_level.items())},
            "by_family": {k: rate(v) for k, v in sorted(by_family.items())}}


def compare(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """How the second pass did against the first: step reduction and accuracy change."""
    fewer = 1 - second["steps"] / first["steps"] if first["steps"] else 0.0
    return {"step_reduction": fewer, "pass_rate_change": second["pass_rate"] - first["pass_rate"],
            "wall_s_change": second["wall_s"] - first["wall_s"]}


def markdown(passes: list[list[TaskRun]], load_errors: list[str]) -> str:
    """The report as markdown: a table per pass, totals, the comparison, and bad task files."""
    lines = ["# ClimCopilot evaluation", ""]
    summaries = [summarize(runs) for runs in passes]
    for number, (runs, total) in enumerate(zip(passes, summaries), start=1):
        lines += [f"## Pass {number}: {total['passed']}/{total['tasks']} passed "
                  f"({total['pass_rate']:.0%}), {total['steps']} steps, {total['wall_s']} s", "",
                  "| task | level | family | passed | score | steps | right tools | wall s "
                  "| error |", "| --- " * 9 + "|"]
        lines += [f"| {r.task_id} | {r.level} | {r.family} | {'yes' if r.passed else 'no'} | "
                  f"{r.score:.2f} | {r.steps} | {'' if r.right_tools is None else r.right_tools}"
                  f" | {r.wall_s} | {r.error or ''} |" for r in runs]
        lines += ["", f"By level: {total['by_level']}; by family: {total['by_family']}", ""]
    if len(summaries) > 1:
        c = compare(summaries[0], summaries[-1])
        lines += ["## First vs last pass", "",
                  f"- steps: {summaries[0]['steps']} -> {summaries[-1]['steps']} "
                  f"({c['step_reduction']:.0%} fewer)",
                  f"- pass rate: {summaries[0]['pass_rate']:.0%} -> "
                  f"{summaries[-1]['pass_rate']:.0%}",
                  f"- wall time: {summaries[0]['wall_s']} s -> {summaries[-1]['wall_s']} s", ""]
    if load_errors:
        lines += ["## Task files that could not be read", ""] + [f"- {e}" for e in load_errors]
    return "\n".join(lines)
