"""Coverage: does the answer answer the question asked? Every condition of the question spec
(period, season, transforms, lag, settings, model parameters, the subjects it names) must be
visible in the arguments of some step that ran; what is not is named, and the answer is
partial. A condition no tool supports is never applied."""

from __future__ import annotations

from typing import Any

from climcopilot.agent.spec import Period, QuestionSpec
from climcopilot.agent.steps import Step
from climcopilot.tools.vocabulary import compact

SYSTEM_OF_TOOL = {tool: "lorenz96_two_scale" for tool in (
    "emulators.hybrid", "emulators.joint_closure", "emulators.constrained_closure",
    "emulators.closure_sweep", "emulators.closure_uncertainty")}
"""Tools that run one system only (they take no ``system`` argument)."""


def _calls(steps: list[Step]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(tool, arguments, result) of every tool step that ran without error."""
    return [(s.action.tool or "", s.action.arguments, s.result or {})
            for s in steps if s.action.kind == "tool" and s.ok]


def _year(value: Any) -> int | None:
    text = str(value)
    return int(text[:4]) if text[:4].isdigit() and len(text) >= 4 else None


def _same(a: Any, b: Any) -> bool:
    """Equal as numbers (10 == 10.0), else as compact text ('JJAS' == 'jjas')."""
    try:
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return compact(str(a)) == compact(str(b))


def _period_applied(period: Period, calls: list[tuple[str, dict, dict]]) -> bool:
    if period.last is not None:
        return any(_same(args.get("last_years"), period.last) for _, args, _ in calls)
    for _, args, _ in calls:
        years = args.get("years")
        if isinstance(years, list) and all(y in years for y in (period.start, period.end)
                                           if y is not None):
            return True
        start, end = _year(args.get("start")), _year(args.get("end"))
        if (period.start is None or start == period.start) and \
                (period.end is None or end == period.end) and (start or end):
            return True
    return False


def _has(calls: list[tuple[str, dict, dict]], key: str, value: Any) -> bool:
    """Some call passed ``key`` = ``value`` (directly, in a list of values, or among its
    ``system_params``)."""
    plural = {"N": "Ns", "infl": "infls", "method": "methods"}.get(key)
    for _, args, _ in calls:
        if key in args and _same(args[key], value):
            return True
        if plural and isinstance(args.get(plural), list) and any(_same(v, value)
                                                                  for v in args[plural]):
            return True
        params = args.get("system_params")
        if isinstance(params, dict) and key in params and _same(params[key], value):
            return True
    return False


def _transform_applied(transform: str, calls: list[tuple[str, dict, dict]],
                       all_annual: bool) -> bool:
    kind, _, size = transform.partition(":")
    tools = {tool for tool, _, _ in calls}
    if kind in ("annual_mean", "anomalies") and all_annual:
        return True  # annual data: nothing to average, no seasonal cycle to remove
    if kind == "seasonal_mean":
        return any(args.get("seasonal_mean") for tool, args, _ in calls
                   if tool == "analysis.subset")
    if kind == "running_mean":
        return any(tool == "analysis.running_mean" and int(args.get("window", 0)) in (
            int(size), 12 * int(size)) for tool, args, _ in calls)
    needed = {"annual_mean": "analysis.annual_mean", "detrend": "analysis.detrend",
              "anomalies": "analysis.anomalies", "standardize": "analysis.standardize"}
    return needed.get(kind) in tools


def unapplied(spec: QuestionSpec, steps: list[Step],
              reasons: dict[str, str] | None = None) -> list[str]:
    """Each condition of ``spec`` that no step applied, as "condition: why" (the brain's
    reason where it gave one). Empty when the answer covers the whole question."""
    reasons = reasons or {}
    calls = _calls(steps)
    opened = [r for tool, _, r in calls if tool == "data.open_series"]
    all_annual = bool(opened) and all(r.get("frequency") == "annual" for r in opened)
    missing: list[tuple[str, str]] = []
    for key in spec.series:
        if not any(tool == "data.open_series" and _same(args.get("name"), key)
                   for tool, args, _ in calls) and not _has(calls, "target", key):
            missing.append((f"series {key}", "no step used it"))
    for key in spec.fields:
        if not _has(calls, "dataset", key):
            missing.append((f"field {key}", "no step used it"))
    if spec.system and not _has(calls, "system", spec.system) and not any(
            SYSTEM_OF_TOOL.get(tool) == spec.system for tool, _, _ in calls):
        missing.append((f"system {spec.system}", "no step ran it"))
    if spec.causal_tool and not any(tool in (spec.causal_tool, "causal.drivers")
                                    for tool, _, _ in calls):
        missing.append((f"method {spec.causal_tool}", "no step ran it"))
    for method in spec.methods:
        if not _has(calls, "method", method):
            missing.append((f"method {method}", "no step ran it"))
    for period in spec.periods:
        if not _period_applied(period, calls):
            missing.append((f"period {period.label()}", "no step cut the data to it"))
    for tool, args, result in calls:  # a period reaching beyond the data was cut to them
        if tool == "analysis.subset" and result.get("short"):
            asked = f"{args.get('start', 'the start')}-{args.get('end', 'the end')}"
            missing.append((f"period {asked} in full", f"{result['short']}, so "
                            f"{result.get('start')} to {result.get('end')} was used"))
    if spec.season and not any(tool == "analysis.subset" and _same(args.get("season", ""),
                                                                    spec.season)
                               for tool, args, _ in calls):
        missing.append((f"season {spec.season}", "no step restricted the data to it"))
    if spec.region and not _has(calls, "region", spec.region):
        missing.append((f"region {spec.region}", "no step restricted the data to it"))
    for transform in spec.transforms:
        if not _transform_applied(transform, calls, all_annual):
            missing.append((transform, "no step applied it"))
    if spec.lag is not None and not any(
            (tool == "analysis.autocorrelation" and _same(args.get("lag"), spec.lag))
            or (tool == "analysis.lag_correlation" and _same(args.get("lag"), spec.lag))
            for tool, args, _ in calls):
        missing.append((f"lag {spec.lag}", "no step used it"))
    for key, value in spec.settings.items():
        if key == "component":
            produced = {n for _, _, r in calls for n in r.get("values", {})}
            if not {f"{m}_{value}" for m in ("mean", "std", "variance")} & produced \
                    and not _has(calls, key, value):
                missing.append((f"component {value}", "no step reported it alone"))
        elif key == "ages":  # a paleo record cut to oldest..youngest ka BP
            if not (_has(calls, "oldest_ka", value[0]) and _has(calls, "youngest_ka", value[1])):
                missing.append((f"ages {value[0]:g}-{value[1]:g} ka BP", "no step cut to them"))
        elif key == "scored_cycles":  # the run ends at the last cycle, scored from the first
            if not (_has(calls, "Ko", value[1] + 1) and any("burn_in" in a for _, a, _ in calls)):
                missing.append((f"cycles {value[0]} to {value[1]}", "no step scored them"))
        elif not _has(calls, key, value):
            missing.append((f"{key} = {value}", "no step ran with it"))
    for key, value in spec.system_params.items():
        if not _has(calls, key, value):
            missing.append((f"{key} = {value}", "no step ran the model with it"))
    missing += [(condition, "no tool computes it") for condition in spec.unsupported]
    missing += [(problem, "it cannot be done as asked") for problem in spec.problems]
    return [f"{what}: {reasons.get(what, why)}" for what, why in dict(missing).items()]
