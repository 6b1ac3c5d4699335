"""Answers to composed plans: the number the question asks for, first, with its unit; then
the settings the steps actually used (period, season, transforms, model and experiment
settings, read from the steps' own arguments and results), and what could not be applied."""

from __future__ import annotations

import calendar
import math
from typing import Any

from climcopilot.agent.spec import QuestionSpec, term_label
from climcopilot.agent.spec.conditions import threshold
from climcopilot.agent.steps import Step

Results = dict[str, dict[str, Any]]


def number(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits (integers as they are)."""
    if isinstance(value, int) or (math.isfinite(value) and float(value).is_integer()
                                  and abs(value) < 1e6):
        return str(int(value))
    return f"{value:.{digits}g}"


def quantity_of(result: dict[str, Any], name: str) -> str:
    """``name = value unit`` from a result."""
    unit = result.get("units", {}).get(name, "")
    shown = "" if unit in ("", "1") else f" {unit}"
    return f"{number(result['values'][name])}{shown}"


def settings_used(steps: list[Step]) -> list[str]:
    """What the steps did to the data or ran with, in words, from their own arguments."""
    said: list[str] = []
    for step in steps:
        args, tool = step.action.arguments, step.action.tool or ""
        result = step.result or {}
        if tool == "analysis.subset":
            start, end = args.get("start", result.get("start")), args.get("end", result.get("end"))
            if result.get("short") or "last_years" in args:  # the years the data gave
                start, end = result.get("start"), result.get("end")
            span = (f"{start} to {end}" if {"start", "end", "last_years"} & set(args)
                    else "all years")
            if "last_years" in args:
                span += f" (the last {args['last_years']} years of the data)"
            season = args.get("season")
            said.append(f"{span}" + (f", {season}" + (" means per year" if args.get(
                "seasonal_mean") else " months") if season else ""))
        elif tool == "analysis.align":
            said.append(f"common period {result.get('start')} to {result.get('end')} "
                        f"({number(result.get('values', {}).get('n', 0))} "
                        f"{result.get('frequency', '')} values)")
        elif tool == "analysis.detrend":
            said.append("linear trend removed")
        elif tool == "analysis.anomalies":
            said.append("mean seasonal cycle removed")
        elif tool == "analysis.annual_mean":
            said.append("calendar-year means")
        elif tool == "analysis.running_mean":
            said.append(f"{args['window']}-step running mean")
        elif tool == "analysis.standardize":
            said.append("standardised")
        elif tool in ("emulators.lyapunov", "emulators.simulate"):
            params = {k: v for k, v in args.items() if k not in ("system", "duration", "members")}
            said.append(term_label("dynamical_system", args.get("system", "")) + (
                " with " + ", ".join(f"{k} = {v}" for k, v in params.items()) if params else ""))
        elif tool in ("da.twin_experiment", "da.sweep"):
            keep = ("system", "system_params", "method", "methods", "N", "Ns", "infl", "infls",
                    "dko", "obs_sites", "obs_var", "Ko", "xB", "loc_rad", "rot")
            said.append(", ".join(f"{k} = {args[k]}" for k in keep if k in args))
    return list(dict.fromkeys(said))


def _series_names(spec: QuestionSpec) -> str:
    return " and ".join(term_label("series", s) for s in spec.series)


def headline(spec: QuestionSpec, results: Results) -> str:
    """The sentence that answers the question, with the number first."""
    stat = results.get("stat", {})
    values = stat.get("values", {})
    q = spec.quantity
    names = _series_names(spec)
    if q in ("correlation", "lag_correlation", "pc_correlation"):
        subject = (f"The first principal component of {term_label('field', spec.fields[0])} "
                   f"and {names}" if q == "pc_correlation" else names)
        text = (f"{subject} correlate at **r = {number(values['r'], 2)}** at lag 0 "
                f"(p = {number(values['p_value'], 2)}, n = {number(values['n'])}"
                + (f", effective n = {number(values['n_eff'])}" if "n_eff" in values else "")
                + ").")
        if q == "lag_correlation" or "best_lag" in values and values["best_lag"] != 0:
            text += (f" The strongest lagged correlation is r = "
                     f"{number(values['r_at_best_lag'], 2)} at lag "
                     f"{number(values['best_lag'])} {stat.get('lag_unit', 'steps')} (a positive "
                     f"lag means {term_label('series', spec.series[0])} leads).")
        if "r_a_leads" in values and len(spec.series) >= 2:
            first, second = (term_label("series", k) for k in spec.series[:2])
            text += (f" At a lag of {number(spec.lag)} {stat.get('lag_unit', 'steps')}: "
                     f"**r = {number(values['r_a_leads'], 2)}** when {first} leads, "
                     f"**r = {number(values['r_b_leads'], 2)}** when {second} leads.")
        return text
    if q == "causal_direction":
        links = stat.get("cross_links") or "none"
        return f"{stat.get('method', 'causal discovery').upper()} on {names}: lagged links " \
               f"between them, strongest first: {links}."
    if q in ("trend", "rate"):
        per = {"year": "trend_per_year", "century": "trend_per_century"}.get(
            spec.per or ("year" if q == "rate" else ""), "trend")
        others = [n for n in ("trend", "trend_per_year") if n != per and n in values]
        return (f"The linear trend of {names} is **{quantity_of(stat, per)}** ("
                + ", ".join(quantity_of(stat, n) for n in others)
                + f"; p = {number(values.get('p_value', float('nan')), 2)}).")
    if q == "seasonal_cycle":
        return (f"The mean seasonal cycle of {names} peaks in **{stat.get('month_of_max_name')}"
                f"** and is lowest in **{stat.get('month_of_min_name')}**, with a peak-to-"
                f"trough amplitude of **{quantity_of(stat, 'amplitude')}**.")
    if q == "dominant_period":
        return (f"The dominant period of {names} is **{quantity_of(stat, 'dominant_period')}**"
                f" ({stat.get('summary', '')}).")
    if q == "autocorrelation":
        return (f"The lag-{number(values.get('lag', spec.lag or 1))} autocorrelation of {names}"
                f" is **{number(values['acf'], 3)}** (lag in {stat.get('lag_unit', 'steps')},"
                f" n = {number(values.get('n', 0))}).")
    if q == "extreme_year":
        low = spec.extreme == "min"
        which, end = ("lowest", "min") if low else ("highest", "max")
        when = (f"in **{number(values[f'year_of_{end}'])}**" if f"year_of_{end}" in values
                else f"at **{quantity_of(stat, f'age_of_{end}')}**")
        if f"month_of_{end}" in values:  # single time steps: the month too
            month = calendar.month_name[int(values[f"month_of_{end}"])]
            when = f"in **{month} {number(values[f'year_of_{end}'])}**"
        return (f"The {which} value of {names} is **{quantity_of(stat, f'{end}_value')}**, "
                f"{when} ({stat.get('compared', 'values')} compared).")
    if q == "exceedance" and "n_above" in values:
        counted = threshold(spec.text)
        side = counted[1] if counted else "above"
        unit = stat.get("units", {}).get("mean", "")
        shown = "" if unit in ("", "1", "?") else f" {unit}"
        return (f"**{number(values[f'n_{side}'])}** of {number(values['n'])} values of {names} "
                f"({number(values[f'fraction_{side}'] * 100, 3)} %) lie {side} "
                f"{number(spec.settings['threshold'])}{shown}.")
    if q == "percentile" and "percentile" in values:
        return (f"The {number(spec.settings['percentile'])}th percentile of {names} is "
                f"**{quantity_of(stat, 'percentile')}** (median "
                f"{quantity_of(stat, 'median')}, n = {number(values['n'])}).")
    if q in ("range", "mean", "std", "variance", "median", "skewness") and "range" in values:
        part = {"range": "range", "mean": "mean", "std": "standard deviation",
                "variance": "variance", "median": "median", "skewness": "skewness"}[q]
        return (f"The {part} of {names} is **{quantity_of(stat, q)}** (mean "
                f"{quantity_of(stat, 'mean')}, standard deviation {quantity_of(stat, 'std')},"
                f" min {quantity_of(stat, 'min')}, max {quantity_of(stat, 'max')}, n = "
                f"{number(values['n'])}).")
    if q == "period_difference":
        return (f"{names}: the later period is **{quantity_of(stat, 'difference')}** relative "
                f"to the earlier one ({stat.get('summary', '')}).")
    if q == "eof_share":
        eof = results.get("eof", {})
        share = eof["values"]["eof1_variance_fraction"]
        return (f"The leading EOF of {term_label('field', spec.fields[0])} explains "
                f"**{number(share, 3)}** of its variance ({number(share * 100, 3)} %); the "
                f"second {number(eof['values'].get('eof2_variance_fraction', float('nan')), 3)}.")
    if q in ("lyapunov_exponent", "kaplan_yorke_dimension", "doubling_time", "exponent_sum"):
        parts = [f"leading Lyapunov exponent **{quantity_of(stat, 'leading')}**"]
        for name, said in (("lyapunov_time", "Lyapunov time"),
                           ("doubling_time", "error-doubling time"),
                           ("kaplan_yorke_dim", "Kaplan-Yorke dimension"),
                           ("exponent_sum", "sum of the exponents")):
            if name in values:
                bold = "**" if (q, name) in (("kaplan_yorke_dimension", "kaplan_yorke_dim"),
                                             ("doubling_time", "doubling_time"),
                                             ("exponent_sum", "exponent_sum")) else ""
                parts.append(f"{said} {bold}{quantity_of(stat, name)}{bold}")
        system = term_label("dynamical_system", spec.system or "")
        return f"{system}: " + ", ".join(parts) + "."
    if q in ("mean", "std", "variance"):
        component = spec.settings.get("component")
        asked = ("variance",) if q == "variance" else ("mean", "std")
        named = [n for n in (f"{a}_{component}" for a in asked) if n in values]
        shown = named or [n for n in asked if n in values]
        system = term_label("dynamical_system", spec.system or "")
        return f"{system}: long-run " + ", ".join(
            f"{n.replace('_', ' of ')} **{quantity_of(stat, n)}**" for n in shown) + "."
    if q == "early_warning":
        indicators = (("variance", "variance"), ("cv", "coefficient of variation"),
                      ("ac1", "lag-1 autocorrelation"), ("skew", "skewness"))
        shown = [f"{said} **{number(values[f'tau_{k}'], 3)}**"
                 + (f" (p = {number(values[f'p_{k}'], 2)})" if f"p_{k}" in values else "")
                 for k, said in indicators if f"tau_{k}" in values]
        return ("Kendall tau of the rolling indicators up to the transition: "
                + ", ".join(shown) + f" ({stat.get('summary', '')}).")
    if q == "fold":
        ricker = results.get("ricker", {})
        fold = ricker.get("values", {})
        if "F_fold" not in fold:
            return ricker.get("summary", "")
        crossing = (f"; the ramp crosses it at step **{number(fold['t_fold'], 4)}**"
                    if "t_fold" in fold else "; the ramp does not reach it")
        return (f"The upper equilibrium of the Ricker map is lost in a fold at harvesting rate "
                f"**F = {number(fold['F_fold'], 4)}**{crossing}.")
    if q == "extreme_forecast":
        tags = sorted(k.removeprefix("auc_mean_") for k in values if k.startswith("auc_mean_"))
        parts = [f"q = {float(t[1:].replace('_', '.')) / 100:g}: AUC of the mean "
                 f"**{number(values[f'auc_mean_{t}'], 3)}**, of the power mean (p = "
                 f"{number(values[f'p_{t}'])}) **{number(values[f'auc_power_{t}'], 3)}**, "
                 f"event rate {number(values[f'event_rate_{t}'], 3)}" for t in tags]
        return "Exceedance forecasts on the test starts: " + "; ".join(parts) + "."
    if q == "parameter_inference":
        parts = [f"{name} = **{number(values[f'{name}_{m}'], 4)}** ± "
                 f"{number(values[f'{name}_{m}_se'], 2)} by {m} (true "
                 f"{number(values[f'{name}_true'], 4)})"
                 for name in (k.removesuffix("_true") for k in values if k.endswith("_true"))
                 for m in ("gradient", "eki") if f"{name}_{m}" in values]
        return "Recovered " + "; ".join(parts) + f" ({stat.get('summary', '')})."
    if q == "generative_emulator" and "spread_skill_ratio" in values:
        return (f"The generative emulator's ensemble at 1 Lyapunov time: spread-skill ratio "
                f"**{number(values['spread_skill_ratio'], 3)}**, CRPS "
                f"**{quantity_of(stat, 'crps')}** against the deterministic emulator's mean "
                f"absolute error {quantity_of(stat, 'deterministic_mae')}; small-scale energy "
                f"after 10 Lyapunov times **{number(values['spectrum_ratio_small_scales'], 3)}"
                f"** of the true system's.")
    if q == "closure_sweep" and "spearman_rho" in values:
        return (f"Over {number(values['n_runs'])} online runs of {number(values['n_designs'])} "
                f"hybrid designs, offline and online error rank-correlate at **rho = "
                f"{number(values['spearman_rho'], 3)}** (Spearman, p = "
                f"{number(values['spearman_p'], 2)}); best design {stat.get('best_design')} "
                f"(online RMSE {number(values['best_online_rmse'], 3)}), "
                f"{number(values['stable_fraction'] * 100, 3)} % of runs stable.")
    if q == "closure_uncertainty" and "coverage_90" in values:
        fidelities = ", ".join(
            f"{name.replace('_', '-')} {number(values[f'rmse_F_test_{name}'], 3)}"
            for name in ("low_fidelity", "high_fidelity", "multi_fidelity")
            if f"rmse_F_test_{name}" in values)
        return (f"The closure's 90 % predictive intervals cover **"
                f"{number(values['coverage_90'] * 100, 3)} %** of held-out subgrid tendencies "
                f"(mean width {quantity_of(stat, 'interval_width')}); RMSE at the forcing "
                f"outside training: {fidelities}.")
    if q == "analysis_rmse":
        return (f"The time-mean analysis RMSE is **{quantity_of(stat, 'rmse_a')}** "
                f"({stat.get('summary', '')}).")
    if q == "method_comparison":
        best = stat.get("best", {})
        return (f"The lowest analysis error comes from **{best.get('method')}**: median RMSE "
                f"{quantity_of(stat, 'best_rmse_a')} over 3 seeds. Best median RMSE per "
                f"method: {stat.get('ranking')}.")
    return stat.get("summary", "")


def write_answer(spec: QuestionSpec, results: Results, steps: list[Step],
                 not_applied: dict[str, str]) -> str:
    """The answer: the headline, the settings used, and what could not be applied."""
    parts = [headline(spec, results)]
    used = settings_used(steps)
    if used:
        parts.append("Settings used: " + "; ".join(used) + ".")
    for condition, why in not_applied.items():
        parts.append(f"I could not apply {condition}: {why}.")
    return " ".join(parts)
