"""Follow-ups: a question that refines the previous one ("And over 1980-2000 only?", "What
about Niño-3.4 instead?", "Same with the LETKF?") is read against the previous spec; what it
names replaces what it refines, and what it leaves out is kept."""

from __future__ import annotations

import re

from climcopilot.agent.spec.model import QuestionSpec
from climcopilot.agent.spec.names import find_terms, keys
from climcopilot.agent.spec.quantity import Family, family, quantity

OPENERS = re.compile(r"^(?:and|but|what about|how about|same|now|then|also|instead|only|"
                     r"with|without|for|over|in|during|before|after|since|using|what if|"
                     r"ok|okay|so)\b")
POINTERS = re.compile(r"\b(?:there|it|its|that|this|these|those|them|instead|same|again|"
                      r"the other|then)\b")


def is_follow_up(spec: QuestionSpec) -> bool:
    """True when a question reads as a refinement of the one before: it opens like one
    ("And ...", "What about ..."), points back ("there", "instead"), or names nothing."""
    return (bool(OPENERS.match(spec.text)) or bool(POINTERS.search(spec.text))
            or not spec.names_something())


def _family_of(spec: QuestionSpec) -> Family | None:
    return family(series=len(spec.series), fields=len(spec.fields), methods=len(spec.methods),
                  system=spec.system is not None, causal_system=spec.causal_system is not None,
                  causal_tool=spec.causal_tool is not None, text=spec.text)


def _replace_series(previous: list[str], named: list[str], text: str) -> list[str]:
    """The previous series with the newly named ones in place: 'X instead of Y' replaces Y;
    one new series replaces the previous one of its kind (nino34 for nino3), else the last;
    as many new series as before replace them all."""
    after = re.search(r"\binstead of (.+)$", text)
    targets = keys(find_terms(after.group(1), "series")) if after else []
    new = [s for s in named if s not in targets]
    if not new:
        return previous
    if len(new) >= len(previous):
        return new
    replaced = list(previous)
    for series in new:
        if series in replaced:
            continue
        old = next((s for s in targets if s in replaced), None)
        old = old or next((s for s in reversed(replaced) if s[:4] == series[:4]), replaced[-1])
        replaced[replaced.index(old)] = series
        targets = [t for t in targets if t != old]
    return replaced


METHOD_SETTINGS = {"N", "infl", "rot", "loc_rad", "xB", "method", "mode"}
"""Settings that belong to a method: they do not carry over to another method."""


def _carried(previous: QuestionSpec, spec: QuestionSpec) -> dict:
    """The previous settings a follow-up keeps: all of them, unless it names other methods
    (then only those of the experiment: observations, cycles, model)."""
    changed = (spec.methods and spec.methods != previous.methods) or (
        spec.causal_tool and spec.causal_tool != previous.causal_tool)
    return {k: v for k, v in previous.settings.items()
            if not (changed and k in METHOD_SETTINGS)}


def refine(previous: QuestionSpec, spec: QuestionSpec) -> QuestionSpec:
    """``spec`` read as a follow-up of ``previous``: its names and conditions over the
    previous ones, the quantity read again within the merged family."""
    series = _replace_series(previous.series, spec.series, spec.text)
    merged = previous.model_copy(update={
        "text": f"{previous.text} {spec.text}",
        "generalized": f"{previous.generalized} {spec.generalized}", "follow_up": True,
        "series": series, "fields": spec.fields or previous.fields,
        "system": spec.system or previous.system,
        "methods": spec.methods or previous.methods,
        "causal_system": spec.causal_system or previous.causal_system,
        "causal_tool": spec.causal_tool or previous.causal_tool,
        "periods": spec.periods or previous.periods,
        "season": spec.season or previous.season,
        "region": spec.region or previous.region,
        "transforms": list(dict.fromkeys([*previous.transforms, *spec.transforms])),
        "lag": spec.lag if spec.lag is not None else previous.lag,
        "per": spec.per or previous.per,
        "window_unit": spec.window_unit or previous.window_unit,
        "extreme": spec.extreme or previous.extreme,
        "settings": {**_carried(previous, spec), **spec.settings},
        "system_params": {**previous.system_params, **spec.system_params},
        "unsupported": spec.unsupported, "problems": spec.problems})
    asked = quantity(spec.text, _family_of(merged), len(merged.series), len(merged.fields),
                     len(merged.methods))
    moments = ("mean", "std", "variance")
    if asked is None or (asked in moments and previous.quantity not in moments
                         and not re.search(r"\b(?:mean|average|standard deviation|std|"
                                           r"variance)\b", spec.text)):
        asked = previous.quantity
    return merged.model_copy(update={"quantity": asked})


def read_in_context(spec: QuestionSpec, previous: QuestionSpec | None) -> QuestionSpec:
    """``spec`` refined against ``previous`` when it is a follow-up; else as it stands, except
    that settings in a question that names no data, system or method are not settings of
    anything ('f=0.0001' is a Coriolis parameter, not Lorenz-96's forcing)."""
    if previous is not None and is_follow_up(spec):
        return refine(previous, spec)
    if _family_of(spec) is None and spec.bifurcation_system is None:
        return spec.model_copy(update={"settings": {}, "system_params": {}})
    return spec
