"""Reading the conditions a question states: periods, a season, transforms in order, a lag,
the unit of a rate, an extreme, experiment settings and model parameters; and the
conditions no tool can apply, so that an answer names them instead of dropping them.

Every reader takes the question in plain lower case (:func:`climcopilot.tools.vocabulary.plain`)
and, where case matters (month initials such as "SON"), the original text.
"""

from __future__ import annotations

import re
from typing import Any

from climcopilot.agent.spec.model import Period
from climcopilot.agent.spec.names import find_terms, first

YEAR = r"(\d{4})"
UNIT_AFTER = (r"(?!\s*(?:cycles?|members?|steps?|particles?|samples?|variables?|points?|km|m\b|"
              r"hpa|ppm|mm|years? of|runs?|seeds?|epochs?|realisations?|realizations?))")
RANGE = re.compile(rf"(?:from |between |over |during |for |in )?(?<!\d){YEAR}s?\s*"
                   rf"(?:-|–|—|to|until|till|through|and)\s*{YEAR}(?!\d){UNIT_AFTER}")
DECADE = re.compile(r"\b(?:the )?(1[6-9]\d0|20\d0)s\b")
CENTURY = re.compile(r"\b(?:the )?(19|20|21)(?:th|st) century\b")
SINCE = re.compile(rf"\b(?:since|from|after|starting in|beginning in) {YEAR}(?!\d|s){UNIT_AFTER}")
BEFORE = re.compile(rf"\b(?:before|until|up to|prior to) {YEAR}(?!\d|s){UNIT_AFTER}")
BOTH_SIDES = re.compile(rf"\bbefore and after (?:the )?{YEAR}(?!\d|s)")
SINGLE = re.compile(rf"\b(?:in|of|for|during) {YEAR}(?![\d-]|s){UNIT_AFTER}")
COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
LAST = re.compile(r"\b(?:the )?(?:last|past|latest|(?:most )?recent) (?:(?:(\d{1,3}|"
                  + "|".join(COUNTS) + r") (years|decades|centuries))|(decade|century))\b")
YEARS_IN = {"years": 1, "decades": 10, "centuries": 100, "decade": 10, "century": 100}


def periods(text: str) -> list[Period]:
    """The periods a question names, in order: ranges ('1980-2000', 'from 1980 to 2000',
    'between 1959 and 2001'), decades ('the 1990s'), centuries, open ranges ('since 1979',
    'before 1980'), single years ('in 1980') and the last years of the data ('the past 30
    years', 'the last two decades'). Years outside 1000-2199 are kept (the tool that cuts the
    data says they are outside it)."""
    found: list[tuple[int, Period]] = []
    taken: list[tuple[int, int]] = []

    def free(m: re.Match[str]) -> bool:
        return not any(a < m.end() and m.start() < b for a, b in taken)

    def keep(m: re.Match[str], period: Period) -> None:
        found.append((m.start(), period))
        taken.append((m.start(), m.end()))

    for m in RANGE.finditer(text):
        first, last = int(m.group(1)), int(m.group(2))
        keep(m, Period(start=min(first, last), end=max(first, last)))
    for m in DECADE.finditer(text):
        if free(m):
            keep(m, Period(start=int(m.group(1)), end=int(m.group(1)) + 9))
    for m in CENTURY.finditer(text):
        if free(m):
            century = int(m.group(1))
            keep(m, Period(start=(century - 1) * 100 + 1, end=century * 100))
    for m in BOTH_SIDES.finditer(text):  # two periods: up to the year before, and from it
        year = int(m.group(1))
        keep(m, Period(end=year - 1))
        found.append((m.start() + 1, Period(start=year)))
    for m in LAST.finditer(text):
        count = m.group(1) or "1"
        unit = m.group(2) or m.group(3)
        keep(m, Period(last=(COUNTS.get(count) or int(count)) * YEARS_IN[unit]))
    for pattern, make in ((SINCE, lambda y: Period(start=y)),
                          (BEFORE, lambda y: Period(start=None, end=y - 1)),
                          (SINGLE, lambda y: Period(start=y, end=y))):
        for m in pattern.finditer(text):
            if free(m) and 1000 <= int(m.group(1)) <= 2199:
                keep(m, make(int(m.group(1))))
    return [p for _, p in sorted(found, key=lambda f: f[0])]


MONTHS = "JFMAMJJASOND"
COMMON_CODES = {"djf", "mam", "jja", "jjas", "ndjfm", "djfm", "jfm", "amj", "jas", "ond",
                "mjjas", "amjjas", "jjaso", "mjj", "fma", "ndj", "ndjf", "jjason"}
"""Month-initial seasons also taken in lower case (others must be written in capitals,
so that words such as 'son' or 'mam' in running text are not read as seasons)."""
SEASON_WORDS = {"summer monsoon": "JJAS", "monsoon": "JJAS", "summer": "JJA", "winter": "DJF",
                "spring": "MAM", "autumn": "SON", "fall": "SON"}


def _is_month_run(code: str) -> bool:
    return len(code) >= 3 and code.upper() in MONTHS + MONTHS[:len(code) - 1]


def blank(text: str, named: list[tuple[int, int, str]]) -> str:
    """``text`` with the spans of ``named`` mentions blanked out."""
    chars = list(text)
    for start, end, _ in named:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def seasons_named(original: str) -> list[str]:
    """Every distinct season code written as month initials ('JJAS', 'DJF'), in order."""
    found = [m.group(1).upper() for m in re.finditer(r"(?<![\w-])([A-Za-z]{3,12})(?![\w-])",
                                                      original)
             if _is_month_run(m.group(1)) and (m.group(1).isupper()
                                               or m.group(1).lower() in COMMON_CODES)]
    return list(dict.fromkeys(found))


def season(text: str, original: str, monsoon_series: bool = False) -> str | None:
    """The season a question restricts to, as month initials: explicit initials ('JJAS',
    'DJF'; capitals, or a common one in any case), a named season ('boreal winter',
    'june to september'), or a season word ('summer': JJA, JJAS for monsoon rainfall;
    'winter': DJF, ...)."""
    for m in re.finditer(r"(?<![\w-])([A-Za-z]{3,12})(?![\w-])", original):
        code = m.group(1)
        if _is_month_run(code) and (code.isupper() or code.lower() in COMMON_CODES):
            return code.upper()
    named = find_terms(text, "season")
    if named:
        return named[0][2].upper()
    for word, code in SEASON_WORDS.items():
        if re.search(rf"\b{word}\b", text):
            return "JJAS" if monsoon_series and code == "JJA" else code
    return None


TRANSFORMS = (
    ("detrend", r"detrend|de-trend|(?:remov\w*|subtract\w*|without) (?:the |a |its )?"
                r"(?:linear |long-term )?trend|(?:linear )?trend (?:is |has been )?removed"),
    ("anomalies", r"seasonal cycle (?:is |has been |was )?removed|(?:remov\w*|subtract\w*|"
                  r"without) (?:the |its |a )?(?:mean )?(?:seasonal|annual) cycle|"
                  r"deseasonali[sz]|climatology (?:is )?removed|monthly anomalies"),
    ("standardize", r"standardi[sz]|z-scores?|normali[sz]ed to unit"),
)
RUNNING = re.compile(r"(\d+)[- ](month|year|step|point|day)s?[- ](?:running|moving|rolling|"
                     r"centred|centered)[- ](?:mean|average)|(?:running|moving|rolling) "
                     r"(?:mean|average) (?:of|over) (\d+) (month|year|step|point)s?")
ANNUAL = re.compile(r"\bannual[- ](?:mean|average)s?\b|\byearly (?:mean|average)s?\b|"
                    r"\bcalendar[- ]year (?:mean|average)s?\b|\bannual(?:ly)?[- ]averaged\b|"
                    r"\bfrom year to year\b|\byear-to-year\b|\binterannual\b")


def without_transforms(text: str) -> str:
    """``text`` with the transform phrases blanked (so that 'once the seasonal cycle is
    removed' does not read as asking for the seasonal cycle)."""
    for _, pattern in TRANSFORMS:
        text = re.sub(pattern, " ", text)
    return ANNUAL.sub(" ", RUNNING.sub(" ", text))


def transforms(text: str) -> tuple[list[str], str | None]:
    """The transforms a question asks for, aggregations first then by mention
    ('annual_mean', 'detrend', 'anomalies', 'running_mean:K', 'standardize'), and the unit
    of a running mean's window ('month', 'year', or None for time steps)."""
    found: list[tuple[int, str]] = []
    unit = None
    for name, pattern in TRANSFORMS:
        m = re.search(pattern, text)
        if m:
            found.append((m.start(), name))
    m = RUNNING.search(text)
    if m:
        size, what = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        found.append((m.start(), f"running_mean:{size}"))
        unit = what if what in ("month", "year") else None
    ordered = [name for _, name in sorted(found)]
    if ANNUAL.search(text):
        ordered.insert(0, "annual_mean")
    return ordered, unit


def lag(text: str) -> int | None:
    """A specific lag asked for ('lag 3', 'lag-1 autocorrelation', 'at a lag of 6 months')."""
    m = re.search(r"\blag(?:ged)?[- ]?(?:of |=\s*)?(\d+)\b|\b(\d+)[- ](?:month|year|step)s?"
                  r"[- ]lag\b|\bat (\d+) (?:month|year|step)s?\b|\b(?:lagg(?:ing|ed)|lead(?:ing)?"
                  r"|ahead|behind) by (\d+)\b", text)
    return int(next(g for g in m.groups() if g is not None)) if m else None


def per(text: str) -> str | None:
    """The unit of a rate asked for: year, decade or century."""
    m = re.search(r"\bper (year|decade|century)\b|\ba (year|decade|century)\b|/\s?(yr|year)\b|"
                  r"\b(annually|each year|every year)\b", text)
    if not m:
        return None
    word = next(g for g in m.groups() if g is not None)
    return "year" if word in ("yr", "annually", "each year", "every year") else word


def extreme(text: str) -> str | None:
    """max or min, for 'warmest', 'wettest', 'highest'... or 'coldest', 'driest', 'lowest'."""
    if re.search(r"\b(warmest|hottest|highest|wettest|heaviest|maximum|largest|greatest|"
                 r"strongest|peak)\b", text):
        return "max"
    if re.search(r"\b(coldest|coolest|lowest|driest|lightest|minimum|smallest|weakest)\b", text):
        return "min"
    return None


NUMBER = r"(\d+(?:\.\d+)?)"
IS = r"(?:\s*(?:of|is|=|:|equal to|set to|at))?\s*"
EXPERIMENT = {
    "infl": rf"inflation(?: factor)?{IS}{NUMBER}|\binfl\s*=\s*{NUMBER}",
    "loc_rad": rf"locali[sz]ation radius{IS}{NUMBER}|\bloc_rad\s*=\s*{NUMBER}",
    "xB": rf"\bxb{IS}{NUMBER}|\bb\s*=\s*{NUMBER}\s*x",
    "dko": rf"\b(?:observ\w*|obs|observations)(?: only)? every {NUMBER}(?:st|nd|rd|th)? "
           rf"(?:model |time |rk4 |integration )?steps?|\bdko\s*=\s*{NUMBER}|every {NUMBER}"
           rf"(?:st|nd|rd|th)? (?:model |time )?steps?",
    "obs_var": rf"(?:observation|obs) error variance{IS}{NUMBER}|\bobs_var\s*=\s*"
               rf"{NUMBER}|\bobservation variance{IS}{NUMBER}|\berror variance{IS}{NUMBER}|"
               rf"(?<![\w-])(?:obs )?var(?:iance)?\s*=?\s*{NUMBER}(?![\w.])",
    "Ko": rf"(?<!window of ){NUMBER} (?:observation |assimilation |analysis )?cycles|"
          rf"\bko\s*=\s*{NUMBER}",
    "dt": rf"\bdt\s*=\s*{NUMBER}|\bsteps? of {NUMBER}(?![\d.]| ?(?:members?|cycles?))|"
          rf"\btime ?step(?: of| =|:)?\s*{NUMBER}",
    "lag": rf"window (?:length )?of {NUMBER} (?:observation |assimilation )?cycles|"
           rf"{NUMBER}[- ]cycle window",
    "tau_max": rf"\btau_?max{IS}{NUMBER}|(?:up to|maximum lag of|max(?:imum)? lag)\s*"
               rf"{NUMBER} (?:lags?|steps?|months?)?",
    "alpha": rf"\balpha{IS}(0?\.\d+)|significance level{IS}(0?\.\d+)|at the (\d+(?:\.\d+)?) ?%"
             rf" (?:significance )?level",
}
"""Experiment and method settings by the tools' argument names (DA, causal)."""
MODEL = {
    "F": rf"\bf\s*=\s*{NUMBER}|\bforcing(?: f)?(?: of| =)?\s*{NUMBER}",
    "L": rf"\bl\s*=\s*{NUMBER}|domain (?:length|size)(?: of)?\s*{NUMBER}|"
         rf"(?:periodic )?domain of length {NUMBER}|\blength {NUMBER}",
    "Re": rf"reynolds number(?: of)?\s*=?\s*{NUMBER}|\bre\s*=\s*{NUMBER}",
    "forcing_wavenumber": rf"sin\(\s*{NUMBER}\s*y\s*\)|forcing wavenumber(?: of)?\s*{NUMBER}",
    "J": rf"\bj\s*=\s*{NUMBER}", "K": rf"\bk\s*=\s*{NUMBER}", "h": rf"\bh\s*=\s*{NUMBER}",
    "b": rf"\bb\s*=\s*{NUMBER}(?!\s*x)", "c": rf"\bc\s*=\s*{NUMBER}",
    "sigma": rf"\bsigma\s*=\s*{NUMBER}", "rho": rf"\brho\s*=\s*{NUMBER}",
    "beta": rf"\bbeta\s*=\s*{NUMBER}",
}
"""Model parameters by the names the systems take (Lorenz-96 F, KS L, Kolmogorov Re...)."""
MEMBERS = re.compile(rf"{NUMBER}[- ](?:members?|member ensemble|particles|ensemble members)|"
                     rf"ensemble (?:size|of)\s*(?:of\s*)?{NUMBER}")
SIZE = re.compile(rf"{NUMBER}[- ](?:variables?|sites?|grid points|dimensions?)|"
                  rf"\bn\s*=\s*{NUMBER}\s*(?:variables?|sites?)")
BARE_N = re.compile(rf"\bn\s*=\s*{NUMBER}")
OBSERVED = re.compile(r"\bonly (x|y|z)(?:,? and (x|y|z))? (?:is |are )?observed|"
                      r"\bobserv\w* only (x|y|z)(?:,? and (x|y|z))?\b")
COMPONENT = re.compile(r"\b(?:of|in|for) (x|y|z)\b(?! ?=)|\b(x|y|z)[- ]component\b|'s (x|y|z)\b|"
                       r"\bvariable (x|y|z)\b|\b(x|y|z) (?:variable|coordinate)\b")


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def _first_number(pattern: str | re.Pattern[str], text: str) -> float | int | None:
    m = re.search(pattern, text)
    return _number(next(g for g in m.groups() if g is not None)) if m else None


def settings(text: str, has_methods: bool) -> tuple[dict[str, Any], dict[str, float]]:
    """(experiment settings, model parameters) a question states. ``N`` is the ensemble
    size when followed by 'members'/'particles' or when DA methods are named; the system's
    size when followed by 'variables'/'sites' or otherwise."""
    experiment: dict[str, Any] = {}
    model: dict[str, float] = {}
    for name, pattern in EXPERIMENT.items():
        value = _first_number(pattern, text)
        if value is not None:
            experiment[name] = value
    for name, pattern in MODEL.items():
        value = _first_number(pattern, text)
        if value is not None:
            model[name] = value
    if experiment.get("alpha", 0) >= 0.5:  # "at the 1 % level"
        experiment["alpha"] = experiment["alpha"] / 100
    members = _first_number(MEMBERS, text)
    size = _first_number(SIZE, text)
    bare = _first_number(BARE_N, text)
    if members is not None:
        experiment["N"] = members
    elif bare is not None and has_methods and not SIZE.search(text):
        experiment["N"] = bare
    if size is not None:
        model["N"] = size
    elif bare is not None and "N" not in experiment:
        model["N"] = bare
    if re.search(r"\b(?:every (?:other|second|2nd) (?:site|variable|grid point|point)|half "
                 r"(?:of )?the (?:sites|variables|grid points))", text):
        experiment["obs_sites"] = "every_other"
    observed = OBSERVED.search(text)
    if observed:  # Lorenz-63's components by position: x, y, z
        experiment["obs_sites"] = sorted({"xyz".index(c) for c in observed.groups() if c})
    if re.search(r"\brotat", text):
        experiment["rot"] = True
    if re.search(r"\bpairwise\b", text):
        experiment["mode"] = "pairwise"
    if re.search(r"\bpcmci\+|\bpcmciplus\b|\bpcmci plus\b", text):
        experiment["method"] = "pcmciplus"
    std = _first_number(rf"(?:observation |obs )?error (?:standard deviation|std|sigma){IS}"
                        rf"{NUMBER}|\bsigma_obs{IS}{NUMBER}", text)
    if std is not None and "obs_var" not in experiment:
        experiment["obs_var"] = round(float(std) ** 2, 12)
    scored = re.search(r"\bcycles? (\d+) (?:to|-|through|until) (\d+)\b", text)
    if scored:  # "over cycles 100 to 149": scored from cycle 100, 150 cycles in all
        experiment["scored_cycles"] = [int(scored.group(1)), int(scored.group(2))]
    if re.search(r"\bstart\w* (?:from|at) (?:the )?climatolog|\bcold[- ]start|\bknowing "
                 r"nothing (?:of|about) the truth", text):
        experiment["cold_start"] = True
    operator = first(text, "obs_operator")
    if operator is not None:
        experiment["obs_operator"] = operator
    component = COMPONENT.search(text)
    if component:
        experiment["component"] = next(g for g in component.groups() if g is not None)
    return experiment, model


EWS = {
    "transition": rf"transition (?:at|is at|near)(?: step| time| year)?\s*{NUMBER}|"
                  rf"\b(\d{{4}}) (?:climate |regime )?(?:shift|transition|collapse|tipping)",
    "span": rf"(?:lowess|loess) span{IS}{NUMBER}|\bspan{IS}{NUMBER}",
    "bandwidth": rf"bandwidth{IS}{NUMBER}",
    "window": rf"rolling window{IS}{NUMBER}|\bwindow (?:of |length |fraction )?{NUMBER}",
    "tmax": rf"{NUMBER} (?:time )?steps|\btmax\s*=\s*{NUMBER}",
    "seed": rf"\bseed{IS}{NUMBER}",
    "r": rf"\br\s*=\s*{NUMBER}", "k": rf"\bk\s*=\s*{NUMBER}", "h": rf"\bh\s*=\s*{NUMBER}",
}
"""Settings of an early-warning analysis and of the simulated Ricker map, by argument name."""
RAMP = re.compile(rf"(?:ramp\w*|harvesting|\bf)\b[^.;]*?\bfrom (?:f\s*=\s*)?{NUMBER} to "
                  rf"{NUMBER}")


THRESHOLD = re.compile(r"\b(above|over|exceed\w*|greater than|more than|below|under|less than)"
                       r" ([-+]?\d+(?:\.\d+)?)")
COUNTING = re.compile(r"\bhow (?:many|often)\b|\bfraction of\b|\bpercent(?:age)? of\b|"
                      r"\bproportion of\b|\bnumber of (?:months|years|weeks)\b")


def threshold(text: str) -> tuple[float, str] | None:
    """(value, 'above' or 'below') of a counting question ('how many months had Nino-3.4 above
    0.5 degC'); None for a question that does not count values past a threshold."""
    m = THRESHOLD.search(text)
    if m is None or not COUNTING.search(text):
        return None
    side = "below" if m.group(1) in ("below", "under", "less than") else "above"
    return float(m.group(2)), side


def percentile(text: str) -> float | None:
    """The percentile a question asks for ('the 95th percentile' -> 95)."""
    value = _first_number(r"\b(\d{1,2}(?:\.\d+)?)(?:st|nd|rd|th)? percentile", text)
    return float(value) if value is not None else None


def ews_settings(text: str) -> dict[str, Any]:
    """The settings of an early-warning question (transition, detrending and its span or
    bandwidth, rolling window) and of the Ricker map it may simulate (steps, the harvesting
    ramp F_start..F_end, seed, r, k, h)."""
    found: dict[str, Any] = {}
    for name, pattern in EWS.items():
        value = _first_number(pattern, text)
        if value is not None:
            found[name] = value
    detrend = first(text, "detrending")
    if detrend is not None:
        found["detrend"] = detrend
    elif "span" in found or "bandwidth" in found:
        found["detrend"] = "lowess" if "span" in found else "gaussian"
    ramp = RAMP.search(text)
    if ramp:
        found["F_start"], found["F_end"] = _number(ramp.group(1)), _number(ramp.group(2))
    return found


def ages(text: str) -> tuple[float, float] | None:
    """(oldest, youngest) ka BP of a range such as '70-10 ka BP' or 'from 130 to 115 ka'."""
    m = re.search(rf"{NUMBER}\s*(?:-|–|to)\s*{NUMBER}\s*(?:ka|kyr)\b", text)
    if m is None:
        return None
    a, b = float(m.group(1)), float(m.group(2))
    return max(a, b), min(a, b)


PARAMETER = r"\b(?:forcing|parameters?|coupling|scale ratios?|[fhcb])\b(?!\s*(?:of|=)?\s*\d)"
INFERENCE = re.compile(rf"\b(?:recover|infer|calibrat|estimat)\w*\b.{{0,60}}{PARAMETER}|"
                       rf"{PARAMETER}.{{0,40}}\b(?:recover|infer|calibrat|estimat)")
"""Words of a question asking for a model's parameters from data."""


def count_of_runs(text: str) -> int | None:
    """How many runs a sweep question asks for ('over 100 hybrid runs' -> 100)."""
    value = _first_number(r"\b(\d+) (?:hybrid |online |model )*(?:runs|simulations)\b", text)
    return int(value) if value is not None else None


def inference_settings(text: str) -> dict[str, Any]:
    """The settings of a parameter-inference question: the method ('ensemble Kalman
    inversion' -> eki, 'gradient descent through the solver' -> gradient), the noise (a
    fraction: '10 % noise' -> 0.1) and which sites are observed ('half the sites' -> every 2nd)."""
    found: dict[str, Any] = {}
    eki = re.search(r"\bensemble kalman inversion\b|\beki\b|\bgradient[- ]free\b", text)
    gradient = re.search(r"\bgradient descent\b|\bthrough the (?:solver|model|integrator)|"
                         r"\badjoint\b|\bdifferentiab", text)
    if eki or gradient:
        found["method"] = "both" if eki and gradient else "eki" if eki else "gradient"
    noise = _first_number(rf"{NUMBER} ?% (?:observation )?noise|noise (?:of )?{NUMBER} ?%", text)
    if noise is not None:
        found["noise"] = noise / 100
    if re.search(r"\b(?:every (?:other|second|2nd) (?:site|variable)|half (?:of )?the "
                 r"(?:sites|variables))", text):
        found["observed_every"] = 2
    else:
        every = _first_number(r"\bevery (\d+)(?:st|nd|rd|th) (?:site|variable)", text)
        if every is not None:
            found["observed_every"] = every
    return found


EXTREME = {
    "lead": (None, rf"{NUMBER} ?(?:mtu|model time units?|time units?) ahead|lead(?: time)?"
                   rf"{IS}{NUMBER}"),
    "window": (r"\bno (?:event )?window\b|\bat a single time\b",
               rf"(?:event )?window(?: of| length)?{IS}{NUMBER}"),
    "ic_noise": (r"\bperfect (?:\S+ )?ensemble|\bno (?:initial )?perturbation",
                 rf"(?:initial |perturbation |ic )noise{IS}{NUMBER}"),
    "members": (None, MEMBERS),
}
"""Settings of an extreme-forecast question: (words meaning zero, a number's pattern)."""


def extreme_settings(text: str) -> dict[str, Any]:
    """The settings of an extreme-forecast question: the lead and window (MTU), the members'
    initial noise ('a perfect ensemble (no initial perturbation)': 0), the members."""
    found: dict[str, Any] = {}
    for name, (zero, pattern) in EXTREME.items():
        value = 0.0 if zero is not None and re.search(zero, text) else \
            _first_number(pattern, text)
        if value is not None:
            found[name] = value
    return found


REGIONS = (("southern_hemisphere", r"southern hemisphere|\bsh\b"),
           ("northern_hemisphere", r"northern hemisphere|\bnh\b"),
           ("tropics", r"\btropic(?:s|al band)\b|\bthe tropics\b"),
           ("arctic", r"\barctic\b"), ("antarctic", r"\bantarctic\b"),
           ("north_atlantic", r"north atlantic"), ("north_pacific", r"north pacific"))
"""Regions a question may restrict to (the names ``analysis.regional_mean`` and
``data.open_field`` take), by the words that name them."""


def region(text: str, named: list[tuple[int, int, str]], labels: list[str]) -> str | None:
    """The region a question restricts to, with the names of series and fields blanked and
    the regions their own labels name left out (so 'North Atlantic winter Z500' names a
    field, not a region to cut it to)."""
    text, own = blank(text, named), " ".join(labels).lower()
    return next((key for key, pattern in REGIONS
                 if re.search(pattern, text) and not re.search(pattern, own)), None)


SYSTEM_LIKE = re.compile(r"\b(?:lorenz|rossler|kuramoto|henon|duffing|chua|van der pol|"
                         r"brusselator|thomas|sprott)(?:[- ]?\d+)?(?:[- ](?:system|model|"
                         r"attractor|equations?|oscillators?))?\b")


def unknown_systems(text: str, known: list[tuple[int, int, str]]) -> list[str]:
    """Names of dynamical systems the question uses that no tool knows ('Lorenz-84')."""
    spans = [(a, b) for a, b, _ in known]
    return [m.group(0) for m in SYSTEM_LIKE.finditer(text)
            if not any(a <= m.start() < b or m.start() <= a < m.end() for a, b in spans)]


VALUE_CONDITION = "a condition on the data's own values"
UNSUPPORTED = (
    (r"\bspearman|\brank correlation|\bkendall", "a rank correlation (the tools compute "
     "Pearson's r)"),
    (r"\bpartial correlation|controlling for|holding .* constant", "a partial correlation"),
    (r"\bquantile", "a quantile (ask for a percentile, e.g. the 95th)"),
    (r"\bbootstrap", "bootstrap confidence intervals"),
    (r"\b(?:butterworth|lanczos|high-pass|low-pass|band-pass|bandpass) ?filter|"
     r"\b(?:high|low|band)-?pass filtered", "a spectral filter"),
    (r"\bexclud\w* (?:el nino|la nina|volcanic|enso)", "excluding particular years"),
    (r"\bweighted by\b", "a weighting the question names"),
    (r"\b(?:chang|var|depend|scal)\w* (?:with|on) (?:the )?(?:ensemble size|number of "
     r"members|inflation|locali[sz]ation|observation (?:error|density|frequency))|\bas a "
     r"function of\b|\bsensitivity (?:of .{0,40})?to\b", "how a result depends on a setting (a "
     "plan runs one setting; name the values to compare, e.g. 10, 20 and 40 members)"),
    (r"\b(?:which|what) (?:calendar )?months? .*\b(?:variance|variability|standard deviation|"
     r"std)\b|\b(?:variance|variability|standard deviation) (?:by|per|of each|in each) "
     r"(?:calendar )?month", "a seasonal cycle of the variance (the tools give the mean "
     "cycle)"),
    (r"\b(?:recent|last|past) (?:few |several |many )?(?:years|decades)\b",
     "a period without years ('recent decades'): name them, e.g. since 1980"),
    (r"\b(?:during|in) (?:the )?(?:el nino|la nina|enso|warm|cold|positive|negative|strong|"
     r"weak) (?:years?|events?|phases?|winters?|summers?|seasons?|months?|episodes?)\b|"
     r"\b(?:during|in) (?:el nino|la nina)s?\b|\bwhen (?:the )?\S+ (?:is|was|are|were) "
     r"(?:positive|negative|above|below|high|low)|\b(?:above|below|exceed\w*|greater than|"
     r"less than|more than|under|over) [-+]?\d+(?:\.\d+)? ?(?:°|deg|ppm|mm|k\b|c\b|sd|"
     r"std|standard)", VALUE_CONDITION + " (e.g. El Nino years or a threshold): the tools use "
     "every time step"),
    (r"\bdaily\b", "daily data (the bundled series are monthly or coarser)"),
    (r"\bfirst (?:exceed|pass|cross|reach|dro?p|fell|rose|went)\w*|\bwhen did .* "
     r"(?:exceed|cross|pass|reach)", "when a threshold was first crossed"),
    (r"\bwhich decade\b|\b(?:warmest|coldest|wettest|driest) decade|\bdecadal means?\b",
     "decadal means (the extremes are of years)"),
    (r"\bfaster .* than (?:before|earlier|in)|\bslower .* than (?:before|earlier|in)|"
     r"\bcompared (?:with|to) the trend", "a comparison of two trends"),
)
"""Conditions a question may state that no tool applies: the answer names them."""


def unsupported(text: str) -> list[str]:
    """Conditions the question states that no tool can apply, in words."""
    return [why for pattern, why in UNSUPPORTED if re.search(pattern, text)]
