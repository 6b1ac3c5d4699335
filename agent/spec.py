"""The question spec: what a question names and asks, read once by the guard and kept in the
state for every later node and every brain.

Names are found with the tools' own vocabularies (:mod:`climcopilot.tools.vocabulary`): the
series, fields, systems and methods a tool takes, by every alias people type. Reading a
question imports no data and no numerics.
"""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel, Field

from climcopilot.tools.vocabulary import Term, plain, terms_of

SETTINGS = {
    "N": r"(?:\bn\s*=\s*(\d+)|(\d+)[- ](?:members?|member ensemble|particles))",
    "infl": r"inflation(?: factor)?(?: of)?\s*=?\s*(\d+(?:\.\d+)?)",
    "loc_rad": r"locali[sz]ation radius(?: of)?\s*=?\s*(\d+(?:\.\d+)?)",
    "xB": r"\bxb\s*=\s*(\d+(?:\.\d+)?)",
    "dko": r"\b(?:observ\w*|obs) every (\d+)(?:st|nd|rd|th)? (?:model |time |rk4 )?steps?",
    "obs_var": r"(?:observation|obs) error variance(?: of)?\s*=?\s*(\d+(?:\.\d+)?)",
    "Ko": r"(\d+) (?:observation |assimilation |analysis )?cycles",
}
"""Experiment settings a question may state, by the name the DA tools use: ensemble size,
inflation, localisation radius, B scaling, model steps between observations, observation
error variance (state units^2) and number of observation cycles."""

LETTERS = "ABCDEFGH"


class QuestionSpec(BaseModel):
    """What a question names, in the keys the tools take.

    ``text`` is the question in plain lower case; ``generalized`` the same with each named
    series replaced by "series A", "series B" (a skill's pattern); ``series`` and ``fields``
    in order of first mention; ``years`` the four-digit years 1000-2199 in order; ``methods``
    the DA methods; ``settings`` the experiment settings (:data:`SETTINGS`, and ``rot``);
    ``system``, ``causal_system``, ``causal_tool`` the first dynamical system, benchmark
    system with a known graph and causal-discovery tool it names.
    """

    text: str
    generalized: str
    series: list[str] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)
    years: list[int] = Field(default_factory=list)
    methods: list[str] = Field(default_factory=list)
    settings: dict[str, float] = Field(default_factory=dict)
    system: str | None = None
    causal_system: str | None = None
    causal_tool: str | None = None

    def names_something(self) -> bool:
        """True when the question names a series, field, system or method the tools know."""
        return bool(self.series or self.fields or self.methods or self.system
                    or self.causal_system or self.causal_tool)


@cache
def _patterns(kind: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each name of each term of ``kind`` as a whole-word pattern, longest first ('nino 3.4'
    before 'nino 3'; a name followed by '.digit' is another name)."""
    names = [(name, t.key) for t in terms_of(kind) for name in t.names()]
    names.sort(key=lambda p: -len(p[0]))
    return tuple((re.compile(rf"(?<![\w-]){re.escape(n)}(?![\w-]|\.\d)"), key)
                 for n, key in names)


def find_terms(text: str, kind: str) -> list[tuple[int, int, str]]:
    """(start, end, key) of every mention of a ``kind`` term in plain ``text``, in order; a
    longer name claims its span first, so a shorter one inside it does not count."""
    taken = [False] * len(text)
    hits = []
    for pattern, key in _patterns(kind):
        for m in pattern.finditer(text):
            if not any(taken[m.start():m.end()]):
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
                hits.append((m.start(), m.end(), key))
    return sorted(hits)


def _first(text: str, kind: str) -> str | None:
    hits = find_terms(text, kind)
    return hits[0][2] if hits else None


def _keys(hits: list[tuple[int, int, str]]) -> list[str]:
    return list(dict.fromkeys(key for _, _, key in hits))


def _generalized(text: str, hits: list[tuple[int, int, str]]) -> str:
    """``text`` with each series mention replaced by "series A", "series B", ..."""
    order = _keys(hits)
    parts, last = [], 0
    for start, end, key in hits:
        parts += [text[last:start], f"series {LETTERS[order.index(key) % len(LETTERS)]}"]
        last = end
    return "".join(parts) + text[last:]


def _settings(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for name, pattern in SETTINGS.items():
        m = re.search(pattern, text)
        if m:
            found[name] = float(next(g for g in m.groups() if g is not None))
    if re.search(r"\brotat", text):
        found["rot"] = 1.0
    return found


def read_question(question: str) -> QuestionSpec:
    """The spec of ``question``: every name it uses, in the tools' keys."""
    text = plain(question)
    series = find_terms(text, "series")
    return QuestionSpec(
        text=text, generalized=_generalized(text, series), series=_keys(series),
        fields=_keys(find_terms(text, "field")),
        years=[int(y) for y in re.findall(r"(?<!\d)(1\d{3}|20\d{2}|21\d{2})(?!\d)", text)],
        methods=_keys(find_terms(text, "da_method")), settings=_settings(text),
        system=_first(text, "dynamical_system"), causal_system=_first(text, "causal_system"),
        causal_tool=_first(text, "causal_method"))


def term_label(kind: str, key: str) -> str:
    """The human name of a term (its key when unknown)."""
    term: Term | None = next((t for t in terms_of(kind) if t.key == key), None)
    return term.label if term is not None else key
