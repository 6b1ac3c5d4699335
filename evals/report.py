"""Reports of evaluation runs: the JSON report, its markdown, and comparisons.

The JSON report (:func:`build_report`) is the record of a run; the markdown (:func:`markdown`)
and the comparison of two saved runs (:func:`compare_runs`) are both rendered from it, so a
comparison reads exactly what was saved.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from climcopilot.evals.taskrun import TaskRun

TRAJECTORY = ("right_tools", "right_order", "right_args")


@dataclass(frozen=True)
class Prices:
    """What the LLM endpoint charges, in USD per 1000 tokens (None: unknown)."""

    prompt: float | None = None
    completion: float | None = None

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
        """USD for these tokens; None when a price or a token count is unknown."""
        if None in (self.prompt, self.completion, prompt_tokens, completion_tokens):
            return None
        return round((prompt_tokens * self.prompt + completion_tokens * self.completion)
                     / 1000, 6)


def _total(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _rates(groups: dict[Any, list[TaskRun]]) -> dict[str, dict[str, Any]]:
    return {str(key): {"tasks": len(group), "passed": sum(r.passed for r in group),
                       "pass_rate": sum(r.passed for r in group) / len(group)}
            for key, group in sorted(groups.items())}


def summarize(runs: list[TaskRun], prices: Prices = Prices()) -> dict[str, Any]:
    """Totals of one pass: pass rate overall, by level and by family; trajectory metrics (the
    share of judged tasks with right tools / order / arguments; None if none was judged);
    steps, tool calls, wall time, tokens and cost."""
    by_level, by_family = defaultdict(list), defaultdict(list)
    for r in runs:
        by_level[r.level].append(r)
        by_family[r.family].append(r)
    trajectory = {}
    for metric in TRAJECTORY:
        judged = [getattr(r, metric) for r in runs if getattr(r, metric) is not None]
        trajectory[metric] = sum(judged) / len(judged) if judged else None
    verdicts = [v.split(":")[0] for r in runs for v in r.constraints.values()]
    prompt = _total([r.prompt_tokens for r in runs])
    completion = _total([r.completion_tokens for r in runs])
    return {"tasks": len(runs), "passed": sum(r.passed for r in runs),
            "pass_rate": sum(r.passed for r in runs) / len(runs) if runs else 0.0,
            "mean_score": sum(r.score for r in runs) / len(runs) if runs else 0.0,
            "errors": sum(r.error is not None for r in runs),
            "timeouts": sum((r.error or "").startswith("timeout") for r in runs),
            "steps": sum(r.steps for r in runs), "tool_calls": sum(r.tool_calls for r in runs),
            "wall_s": round(sum(r.wall_s for r in runs), 1),
            "prompt_tokens": prompt, "completion_tokens": completion,
            "cost_usd": prices.cost(prompt, completion),
            "hallucinated_numbers": sum(r.hallucinated for r in runs),
            "constraints": {"applied": verdicts.count("applied"),
                            "not_applied": verdicts.count("not applied"),
                            "not_read": verdicts.count("not read")},
            "trajectory": trajectory, "by_level": _rates(by_level),
            "by_family": _rates(by_family)}


def compare(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """How the second pass did against the first: step reduction and accuracy change."""
    fewer = 1 - second["steps"] / first["steps"] if first["steps"] else 0.0
    return {"step_reduction": fewer, "pass_rate_change": second["pass_rate"] - first["pass_rate"],
            "wall_s_change": round(second["wall_s"] - first["wall_s"], 1)}


def build_report(passes: list[list[TaskRun]], setup: dict[str, Any], load_errors: list[str],
                 prices: Prices = Prices()) -> dict[str, Any]:
    """The JSON report: the run's set-up (suite, brain, model, memory, ...), each pass's
    summary and task runs (with cost), the first-vs-last-pass comparison, unreadable files."""
    summaries = [summarize(runs, prices) for runs in passes]
    return {**setup,
            "passes": [{"summary": s, "runs": [
                {**r.model_dump(), "cost_usd": prices.cost(r.prompt_tokens, r.completion_tokens)}
                for r in runs]} for s, runs in zip(summaries, passes)],
            "comparison": compare(summaries[0], summaries[-1]) if len(passes) > 1 else None,
            "skipped_files": load_errors}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _groups(groups: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{k} {g['passed']}/{g['tasks']}" for k, g in groups.items())


def markdown(report: dict[str, Any]) -> str:
    """The report as markdown: the set-up, a table per pass, totals, the comparison, and bad
    task files."""
    setup = {k: v for k, v in report.items()
             if k not in ("passes", "comparison", "skipped_files")}
    lines = ["# ClimCopilot evaluation", "",
             ", ".join(f"{k}: {v}" for k, v in setup.items() if v is not None), ""]
    columns = ["task", "level", "family", "passed", "score", "steps", "right tools",
               "right order", "right args", "constraints", "tokens in/out", "wall s", "error"]
    for number, one in enumerate(report["passes"], start=1):
        total = one["summary"]
        lines += [f"## Pass {number}: {total['passed']}/{total['tasks']} passed "
                  f"({total['pass_rate']:.0%}), {total['steps']} steps, {total['wall_s']} s", "",
                  "| " + " | ".join(columns) + " |", "| --- " * len(columns) + "|"]
        for r in one["runs"]:
            tokens = ("" if r["prompt_tokens"] is None
                      else f"{r['prompt_tokens']}/{r['completion_tokens']}")
            cells = [r["task_id"], r["level"], r["family"], r["passed"], r["score"], r["steps"],
                     r["right_tools"], r["right_order"], r["right_args"],
                     _constraints(r.get("constraints") or {}), tokens, r["wall_s"], r["error"]]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        trajectory = total["trajectory"]
        kept = total.get("constraints") or {}
        lines += ["", f"- by level: {_groups(total['by_level'])}",
                  f"- constraints of the questions: {kept.get('applied', 0)} applied, "
                  f"{kept.get('not_applied', 0)} named as not applied, "
                  f"{kept.get('not_read', 0)} not read",
                  f"- numbers stated that no step produced: "
                  f"{total.get('hallucinated_numbers', 0)}",
                  f"- by family: {_groups(total['by_family'])}",
                  "- trajectory: " + ", ".join(f"{k.replace('_', ' ')} {_pct(v)}"
                                               for k, v in trajectory.items()),
                  f"- errors: {total['errors']} ({total['timeouts']} timeouts)"]
        if total["prompt_tokens"] is not None:
            lines.append(f"- tokens: {total['prompt_tokens']} in, {total['completion_tokens']} "
                         f"out; cost: {_cost(total['cost_usd'])}")
        lines.append("")
    if report["comparison"] is not None:
        first, last = report["passes"][0]["summary"], report["passes"][-1]["summary"]
        c = report["comparison"]
        lines += ["## First vs last pass", "",
                  f"- steps: {first['steps']} -> {last['steps']} ({c['step_reduction']:.0%} "
                  "fewer)",
                  f"- pass rate: {first['pass_rate']:.0%} -> {last['pass_rate']:.0%}",
                  f"- wall time: {first['wall_s']} s -> {last['wall_s']} s", ""]
    if report["skipped_files"]:
        lines += ["## Task files that could not be read", ""]
        lines += [f"- {e}" for e in report["skipped_files"]]
    return "\n".join(lines)


def _constraints(report: dict[str, str]) -> str:
    """A task's constraints in a cell: all applied, or the ones that were not."""
    if not report:
        return ""
    off = [f"{name} ({verdict.split(':')[0]})" for name, verdict in report.items()
           if verdict != "applied"]
    return f"{len(report)} applied" if not off else "; ".join(off)


def _cost(value: float | None) -> str:
    return "unknown (give --price-in and --price-out)" if value is None else f"${value:.4f}"


def label(report: dict[str, Any]) -> str:
    """A short name for a run: its brain, model and memory setting."""
    model = f" {report['model']}" if report.get("brain") == "openai" else ""
    return f"{report.get('brain')}{model}, memory {report.get('memory')}"


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Two saved runs side by side (their last passes, markdown): totals, pass rates per level
    and family, trajectory metrics, and the tasks whose result differs."""
    sa, sb = a["passes"][-1]["summary"], b["passes"][-1]["summary"]
    rows = [("pass rate", _pct(sa["pass_rate"]), _pct(sb["pass_rate"])),
            ("passed", f"{sa['passed']}/{sa['tasks']}", f"{sb['passed']}/{sb['tasks']}"),
            ("mean score", f"{sa['mean_score']:.2f}", f"{sb['mean_score']:.2f}")]
    rows += [(f"{key.replace('_', ' ')}", _cell(sa[key]), _cell(sb[key]))
             for key in ("steps", "tool_calls", "wall_s", "prompt_tokens", "completion_tokens",
                         "cost_usd", "errors")]
    rows += [(k.replace("_", " "), _pct(sa["trajectory"][k]), _pct(sb["trajectory"][k]))
             for k in TRAJECTORY]
    for group, title in (("by_level", "level"), ("by_family", "family")):
        for key in sorted(set(sa[group]) | set(sb[group])):
            rows.append((f"{title} {key}", _pct(sa[group].get(key, {}).get("pass_rate")),
                         _pct(sb[group].get(key, {}).get("pass_rate"))))
    lines = ["# Comparison of two evaluation runs (last pass of each)", "",
             f"- A: {label(a)} ({len(a['passes'])} passes)",
             f"- B: {label(b)} ({len(b['passes'])} passes)", "",
             "| | A | B |", "| --- | --- | --- |"]
    lines += [f"| {name} | {x} | {y} |" for name, x, y in rows]
    ra = {r["task_id"]: r for r in a["passes"][-1]["runs"]}
    rb = {r["task_id"]: r for r in b["passes"][-1]["runs"]}
    changed = [f"- {task}: {_verdict(ra.get(task))} -> {_verdict(rb.get(task))}"
               for task in sorted(set(ra) | set(rb))
               if _verdict(ra.get(task)) != _verdict(rb.get(task))]
    lines += ["", "## Tasks whose result differs", ""] + (changed or ["- none"])
    return "\n".join(lines)


def _verdict(run: dict[str, Any] | None) -> str:
    if run is None:
        return "not run"
    return "pass" if run["passed"] else "fail"
