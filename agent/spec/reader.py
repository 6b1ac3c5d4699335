"""Reading a question into its spec: the names, the family, the quantity and the conditions."""

from __future__ import annotations

import re

from climcopilot.agent.spec import conditions
from climcopilot.agent.spec.model import QuestionSpec
from climcopilot.agent.spec.names import find_terms, first, generalized, keys, term_label
from climcopilot.agent.spec.quantity import family, quantity
from climcopilot.tools.vocabulary import plain

MONSOON_SERIES = {"air"}  # rainfall series whose summer is the JJAS monsoon
FIELD_SEASONS = {"pacific_sst_ndjfm": "NDJFM", "north_atlantic_z500_djf": "DJF"}
"""Fields that hold one value per winter: the season they were averaged over."""


GENERIC = {"co2": {"co2", "carbon dioxide"}}
"""Series a question may name by a word that a more specific record also measures: 'CO2' in
"the lowest CO2 in the EPICA Dome C record" is EPICA's, not Mauna Loa's."""


SHARED = {"epica": {"temperature": "edc_temperature", "deuterium": "edc_dd", "co2": "epica_co2",
                    "carbon dioxide": "epica_co2"}}
"""Words several records share ('EPICA': the CO2, temperature and deuterium of one core): the
quantity the question names picks the record."""


EVERYDAY = {"air": (
    r"(?:\b(?:the|an?|of|in|into|through|warm|warmer|cold|colder|cool|dry|moist|humid|"
    r"surface|saturated|unsaturated|rising|sinking|ambient|upper|polar|tropical|arctic|"
    r"clean|fresh|outside|indoor)\s+)$",
    r"^\s*(?:temperatures?|pressures?|masse?s?|parcels?|density|quality|flows?|columns?|"
    r"molecules?|pollution|conditioning|is|was|are|were|rises?|sinks?|cools?|warms?|"
    r"expands?|moves?|holds?|contains?)\b")}
"""Series keys that are everyday words too: 'air' is All-India Rainfall ('jjas air vs soi'),
but not in 'the air is warming' or 'surface air temperature' (the words before or after)."""
DATA_WORDS = r"^\s*(?:index|series|record|rainfall|anomal\w*|data)\b"
"""Words after an everyday key that make it the series again ('the AIR index')."""


def _everyday_use(text: str, start: int, end: int) -> bool:
    """True where the name at ``text[start:end]`` is used as an ordinary word."""
    before, after = EVERYDAY.get(text[start:end], (None, None))
    if before is None or re.match(DATA_WORDS, text[end:]):
        return False
    return bool(re.search(before, text[:start]) or re.match(after, text[end:]))


def _specific(text: str, hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """``hits`` without everyday words, with each series named by a shared word resolved by
    the quantity the question names, and without a series named only by a generic word when
    another named series is a record of the same quantity (its label carries the word)."""
    resolved = []
    for start, end, key in hits:
        if _everyday_use(text, start, end):
            continue
        cues = SHARED.get(text[start:end], {})
        key = next((k for cue, k in cues.items() if re.search(rf"\b{cue}\b", text)), key)
        resolved.append((start, end, key))
    hits = resolved
    named = {key for _, _, key in hits}
    drop = {key for key, words in GENERIC.items()
            if all(text[a:b] in words for a, b, k in hits if k == key)
            and any(word in term_label("series", other).lower() for other in named - {key}
                    for word in words)}
    return [h for h in hits if h[2] not in drop]


RICKER_SETTINGS = ("tmax", "F_start", "F_end", "seed", "r", "k", "h")
OWN_WORDS = ("a rank correlation (the tools compute Pearson's r)",
             "a quantile (ask for a percentile, e.g. the 95th)")
"""What an early-warning or extreme-forecast question says that is its tool's own setting
(Kendall's tau of the indicators, the local percentile of an exceedance), not a condition."""


def _tool_question(spec: QuestionSpec, text: str) -> QuestionSpec:
    """``spec`` of a question that one tool family answers whole: early-warning signals (of a
    series or the simulated Ricker map), the Ricker map's fold, or an extreme forecast of a
    system's ensemble, with that tool's settings; unchanged otherwise."""
    if spec.system in ("lorenz96", "lorenz96_two_scale") and not spec.methods:
        closure = re.search(r"\bclosure|\bparameteri[sz]ation", text)
        named = first(text, "diagnostic")
        if named == "generative_emulator" and spec.system == "lorenz96":
            return spec.model_copy(update={
                "quantity": "generative_emulator", "settings": {},
                "system_params": {k: v for k, v in spec.system_params.items()
                                  if k in ("N", "F")}})
        if named == "closure_sweep" or closure and re.search(
                r"offline .{0,40}online|\bonline ensembles?\b|\bdesigns?\b", text):
            runs = conditions.count_of_runs(text)
            return spec.model_copy(update={
                "quantity": "closure_sweep", "system_params": {},
                "settings": {"runs_per_design": -(-runs // 16)} if runs else {}})
        if named == "closure_uncertainty" or closure and re.search(
                r"uncertaint|predictive interval|deep[- ]ensemble|randomi[sz]ed prior|"
                r"bayesian|multi-?fidelity", text):
            found: dict[str, object] = {}
            if re.search(r"randomi[sz]ed prior|\brpn\b", text):
                found["method"] = "randomized_prior"
            if "F" in spec.system_params and re.search(r"extrapolat|out(?:side)? of train|"
                                                        r"warmer|test", text):
                found["F_test"] = spec.system_params["F"]
            return spec.model_copy(update={"quantity": "closure_uncertainty",
                                           "settings": found, "system_params": {}})
        if closure and re.search(r"\bjoint|\btogether with\b|\bwith the forcing\b", text):
            return spec.model_copy(update={"quantity": "joint_closure", "settings": {}})
        if closure and re.search(r"\bconserv|\benergy budget\b", text):
            return spec.model_copy(update={"quantity": "constrained_closure", "settings": {}})
        if not closure and conditions.INFERENCE.search(text):
            return spec.model_copy(update={"quantity": "parameter_inference",
                                           "settings": conditions.inference_settings(text),
                                           "system_params": {}})
    diagnostic, ricker = first(text, "diagnostic"), first(text, "bifurcation_system")
    warning = diagnostic == "early_warning" or (ricker is not None and re.search(
        r"warning|kendall|slowing|precede", text))
    extreme = spec.system is not None and (
        diagnostic == "extreme_forecast" or first(text, "aggregation") is not None
        or re.search(r"\bexceed\w*\b.*\b(?:percentile|quantile)|\bexceedances?\b", text))
    if not (warning or ricker or extreme):
        return spec
    kept = [u for u in spec.unsupported if u not in OWN_WORDS]
    if extreme and not warning:
        return spec.model_copy(update={
            "quantity": "extreme_forecast", "diagnostic": "extreme_forecast",
            "settings": conditions.extreme_settings(text), "unsupported": kept})
    found = conditions.ews_settings(text)
    if not warning:  # the fold of the Ricker map
        return spec.model_copy(update={
            "quantity": "fold", "bifurcation_system": ricker, "system_params": {},
            "settings": {k: v for k, v in found.items() if k in RICKER_SETTINGS},
            "unsupported": kept})
    ages = conditions.ages(text)
    if ages is not None and spec.series:
        found["ages"] = list(ages)
    periods = spec.periods
    if len(periods) == 1 and periods[0].start is not None and periods[0].start == \
            periods[0].end and "transition" not in found:  # "before the 1976 shift"
        found["transition"], periods = periods[0].start, []
    return spec.model_copy(update={
        "quantity": "early_warning", "diagnostic": "early_warning", "bifurcation_system": ricker,
        "settings": found, "system_params": {}, "lag": None, "transforms": [],
        "periods": periods, "unsupported": kept})


def read_question(question: str) -> QuestionSpec:
    """The spec of ``question``: every name it uses (in the tools' keys), what it asks, and
    every condition it states."""
    text = plain(question)
    series_hits = _specific(text, find_terms(text, "series"))
    series = keys(series_hits)
    fields = keys(find_terms(text, "field"))
    methods = keys(find_terms(text, "da_method"))
    system_hits = find_terms(text, "dynamical_system")
    system = system_hits[0][2] if system_hits else None
    causal_system = first(text, "causal_system")
    causal_tool = first(text, "causal_method")
    kind = family(series=len(series), fields=len(fields), methods=len(methods),
                  system=system is not None, causal_system=causal_system is not None,
                  causal_tool=causal_tool is not None, text=text)
    if kind != "causal":  # Lorenz-96 is a causal benchmark only in a question about links
        causal_system = None
    transforms, window_unit = conditions.transforms(text)
    experiment, model = conditions.settings(text, has_methods=bool(methods) or kind == "da")
    asked = quantity(conditions.without_transforms(text), kind, len(series), len(fields),
                     len(methods))
    if kind == "data":  # settings of experiments and models mean nothing for data...
        causal = asked in ("causal_direction", "drivers")
        experiment = {k: v for k, v in experiment.items()  # ...but a causal test's do
                      if causal and k in ("tau_max", "alpha", "mode", "method")}
        if causal and causal_tool == "causal.granger" and "tau_max" in experiment:
            experiment["max_lag"] = experiment.pop("tau_max")
        if causal and causal_tool is None:
            causal_tool = "causal.pcmci"  # what the causal questions of series run
        model = {}
        if asked == "percentile" and conditions.percentile(text) is not None:
            experiment["percentile"] = conditions.percentile(text)
        counted = conditions.threshold(text) if len(series) == 1 else None
        if counted is not None:  # "how many months above 0.5 degC": a count, not a filter
            asked, experiment["threshold"] = "exceedance", counted[0]
    elif kind == "emulators":
        experiment = {k: v for k, v in experiment.items() if k == "component"}
    elif kind == "causal":
        model = {}
    named = [*series_hits, *find_terms(text, "field")]
    season = conditions.season(conditions.blank(text, named), question,
                               monsoon_series=bool(MONSOON_SERIES & set(series)))
    if kind not in ("data", None):
        season = None
    several = conditions.seasons_named(question) if season is not None else []
    two_seasons = [f"a season per series ({' and '.join(several)}): the plan cuts every series "
                   f"to {season}"] if len(several) > 1 else []
    inherent = next((FIELD_SEASONS[f] for f in fields if f in FIELD_SEASONS), None)
    if inherent is not None and season in (inherent, "DJF", None):
        # the field holds one season already: a series tracked against it is cut to it,
        # and the field's own season is no condition
        season = inherent if asked == "pc_correlation" and series else None
    if season is not None and asked != "seasonal_cycle" and "seasonal_mean" not in transforms:
        transforms = ["seasonal_mean", *transforms]
    lag = conditions.lag(text) if kind in ("data", None) else None
    unknown = conditions.unknown_systems(text, [*system_hits, *find_terms(text, "causal_system")])
    problems = [f"no system called {name!r} (the systems: lorenz63, lorenz96, "
                "lorenz96_two_scale, kuramoto_sivashinsky, kolmogorov)" for name in unknown]
    return _tool_question(QuestionSpec(
        text=text, generalized=generalized(text, series_hits), quantity=asked, series=series,
        fields=fields, system=system, methods=methods, causal_system=causal_system,
        causal_tool=causal_tool,
        periods=conditions.periods(text) if kind in ("data", None) else [],
        season=season, region=conditions.region(
            text, named, [term_label("series", s) for s in series]
            + [term_label("field", f) for f in fields]) if kind in ("data", None) else None,
        transforms=transforms if kind in ("data", None) else [], lag=lag,
        per=conditions.per(text), window_unit=window_unit, extreme=conditions.extreme(text),
        settings=experiment,
        system_params=model, unsupported=[
            u for u in conditions.unsupported(text) if asked != "exceedance"
            or not u.startswith(conditions.VALUE_CONDITION)] + two_seasons, problems=problems),
        text)
