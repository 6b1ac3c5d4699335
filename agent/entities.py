"""Named things in a question: bundled series, and the words that make it Earth science."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from climcopilot.tools.data.bundled import BUNDLED, plain

DOMAIN_WORDS = (
    "climate", "weather", "temperature", "precipitation", "rainfall", "monsoon", "ocean",
    "sea surface", "sst", "atmospher", "enso", "el nino", "la nina", "teleconnection",
    "warming", "carbon", "co2", "greenhouse", "sea level", "sea ice", "ice sheet", "glacier",
    "drought", "flood", "cyclone", "hurricane", "wind", "pressure", "humidity", "aerosol",
    "radiation", "cloud", "reanalysis", "era5", "cmip", "paleo", "holocene", "lorenz",
    "kuramoto", "kolmogorov", "assimilation", "enkf", "kalman", "4d-var", "3d-var", "emulator",
    "parameterization", "parameterisation", "pcmci", "granger", "koopman", "oscillation",
    "anomaly", "earth system", "hydrolog", "soil moisture", "permafrost", "jet stream",
    "snow", "arctic", "antarctic", "storm", "heatwave", "heat wave", "geophysic", "nino", "soi",
)


DA_METHODS = {"3d-var": "3dvar", "3dvar": "3dvar", "4d-var": "4dvar", "4dvar": "4dvar",
              "optimal interpolation": "oi", "stochastic enkf": "enkf", "enkf": "enkf",
              "etkf": "etkf", "denkf": "denkf", "letkf": "letkf", "particle filter": "pf"}
"""Data-assimilation method names in a question, and the tool's name for each."""


CAUSAL_SYSTEMS = {"tigramite tutorial": "tigramite_tutorial", "tutorial": "tigramite_tutorial",
                  "uncoupled rossler": "rossler_uncoupled",
                  "weakly coupled rossler": "rossler_weak_chain",
                  "rossler chain": "rossler_weak_chain", "rossler": "rossler",
                  "logistic map": "coupled_logistic", "linear var": "linear_var",
                  "var process": "linear_var", "lorenz-96": "lorenz96", "lorenz 96": "lorenz96"}
"""Benchmark systems with known causal graphs (the causal tools' names), by question words."""
DYNAMICAL_SYSTEMS = {"two-scale lorenz-96": "lorenz96_two_scale", "lorenz-96": "lorenz96",
                     "lorenz 96": "lorenz96", "lorenz96": "lorenz96", "lorenz-63": "lorenz63",
                     "lorenz 63": "lorenz63", "lorenz63": "lorenz63",
                     "kuramoto-sivashinsky": "kuramoto_sivashinsky",
                     "kuramoto sivashinsky": "kuramoto_sivashinsky",
                     "kolmogorov flow": "kolmogorov"}
"""Dynamical systems (the emulator tools' names), by question words, most specific first."""
CAUSAL_METHODS = {"pcmci": "causal.pcmci", "granger": "causal.granger",
                  "koopman": "causal.koopman"}
"""Causal-discovery methods named in a question, and the tool for each."""

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


@dataclass
class Entities:
    """What a question names: bundled series keys in order of appearance, domain words, and
    the years it mentions (four-digit numbers 1000-2199, in order)."""

    text: str = ""
    generalized: str = ""  # the text with each named series replaced by "series A", "B", ...
    series: list[str] = field(default_factory=list)
    domain_words: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)  # DA methods named, in order
    settings: dict[str, float] = field(default_factory=dict)  # SETTINGS found, and rot
    causal_system: str | None = None  # a benchmark system with a known graph
    causal_tool: str | None = None  # the causal-discovery tool the question names
    system: str | None = None  # a dynamical system the question names (emulator tools' name)


def _alias_patterns() -> list[tuple[re.Pattern[str], str]]:
    pairs = [(plain(alias), s.key) for s in BUNDLED.values() for alias in s.aliases]
    pairs.sort(key=lambda p: -len(p[0]))  # longest first: 'nino 3.4' before 'nino 3'
    return [(re.compile(rf"(?<![\w]){re.escape(a)}(?![\w]|\.\d)"), key) for a, key in pairs]


_PATTERNS = _alias_patterns()


def extract(question: str) -> Entities:
    """Series named in ``question`` (first mention order, no repeats) and domain words."""
    text = plain(question)
    taken = [False] * len(text)
    hits: list[tuple[int, int, str]] = []
    for pattern, key in _PATTERNS:
        for m in pattern.finditer(text):
            if not any(taken[m.start():m.end()]):
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
                hits.append((m.start(), m.end(), key))
    series: list[str] = []
    generalized, last = [], 0
    for start, end, key in sorted(hits):
        if key not in series:
            series.append(key)
        generalized += [text[last:start], f"series {'ABCDEFGH'[series.index(key) % 8]}"]
        last = end
    words = [w for w in DOMAIN_WORDS if re.search(rf"(?<!\w){re.escape(w)}", text)]
    years = [int(y) for y in re.findall(r"(?<!\d)(1\d{3}|20\d{2}|21\d{2})(?!\d)", text)]
    found = sorted((m.start(), method) for alias, method in DA_METHODS.items()
                   for m in re.finditer(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", text))
    methods = list(dict.fromkeys(method for _, method in found))
    settings: dict[str, float] = {}
    for name, pattern in SETTINGS.items():
        m = re.search(pattern, text)
        if m:
            settings[name] = float(next(g for g in m.groups() if g is not None))
    if re.search(r"\brotat", text):
        settings["rot"] = 1.0
    causal_system = next((v for k, v in CAUSAL_SYSTEMS.items() if k in text), None)
    system = next((v for k, v in DYNAMICAL_SYSTEMS.items() if k in text), None)
    tool = next((v for k, v in CAUSAL_METHODS.items() if k in text), None)
    return Entities(text=text, generalized="".join(generalized) + text[last:], series=series,
                    domain_words=words, years=years, methods=methods, settings=settings,
                    causal_system=causal_system, causal_tool=tool, system=system)
