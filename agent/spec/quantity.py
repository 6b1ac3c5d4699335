"""What a question asks for: its quantity, judged within the family of what it names (series
and fields, a DA experiment, a dynamical system, a causal benchmark), so that the words of
one family ("lead", "track", "drive") do not pick another family's plan."""

from __future__ import annotations

import re
from typing import Literal

Family = Literal["data", "da", "emulators", "causal"]

CAUSAL_WORDS = (r"\bdrives?\b|\bdriv(?:en|ing)\b|\bcaus|\bgranger\b|\bpcmci\b|\bkoopman\b|"
                r"\binfluenc|\bwhich way\b|\bdirection\b|\bforc(?:es|ing) (?:the )?other\b")

DATA: tuple[tuple[str, str], ...] = (
    ("drivers", r"\bwhat (?:leads|drives)\b|\bwhich (?:indices|index|series|variables?) "
                r"(?:lead|drive|precede)|\bdrivers? of\b|\bprecursors?\b|\bwhat precedes\b"),
    ("pc_correlation", r"(?:principal component|\bpc ?1\b|\bpcs?\b|\bpc time series).*"
                       r"(?:track|correlat|relat|match|follow|agree)|(?:track|correlat|"
                       r"match).*(?:principal component|\bpc ?1\b)"),
    ("eof_share", r"\beofs?\d?\b|principal component|variance (?:fraction|explained)|% ?var|"
                  r"(?:share|fraction|percent\w*|proportion) of .{0,40}variance|"
                  r"variance .{0,40}explain|explain\w* .{0,30}variance|leading mode|first mode"),
    ("seasonal_cycle", r"seasonal cycle|annual cycle|seasonal amplitude|amplitude of the "
                       r"seasonal|\b(?:which|what) (?:calendar )?month|"
                       r"\bin which (?:calendar )?months?\b|month of (?:the )?(?:max|min|peak)|"
                       r"peak-to-trough"),
    ("autocorrelation", r"autocorrel|\bacf\b|persisten|serial correlation|\bmemory\b"),
    ("dominant_period", r"dominant period|periodicit|spectral peak|\bhow long is the .*cycle|"
                        r"cycle length|length of the .*cycle|\bperiod of (?:the|its)\b|"
                        r"dominant (?:time ?scale|frequency|cycle)"),
    ("range", r"\brange\b|max(?:imum)? minus min|difference between (?:the )?(?:highest|max)"),
    ("extreme_year", r"\b(?:warmest|hottest|coldest|coolest|wettest|driest|highest|lowest|"
                     r"heaviest|lightest|maximum|minimum|record (?:high|low))\b|\bwhich year\b|"
                     r"\bin what year\b|\b(?:largest|smallest|biggest) (?:\S+ ){0,2}values?\b"),
    ("lag_correlation", r"\bleads?\b|\blags?\b|\blagged\b|\bahead\b|\bprecede"),
    ("correlation", r"correlat|\brelated\b|relationship|\bcovar|\bco-?vary|\btrack|coheren|"
                    r"\bvs\.?\b|\bversus\b|associat|\bagree|\bcompare|\bconnect"),
    ("rate", r"\bper (?:year|decade|century)\b|\bhow fast\b|\brate\b|\bgrowth\b|\bspeed\b|"
             r"\bhow quickly\b|\ba year\b"),
    ("trend", r"\btrend|\bwarming (?:since|from|over)|\brising|\bincreas\w* (?:since|over)|"
              r"\bchang\w* (?:since|over|during)|\bhow has .* changed|\bdeclin\w* (?:since|over)"),
    ("period_difference", r"\bwarmer\b|\bcooler\b|\bcolder\b|\bwetter\b|\bdrier\b|\bhigher "
                          r"than\b|\blower than\b|\bchange between\b|\brise between\b|"
                          r"\bdifference between\b|\brelative to\b|\bcompared (?:with|to)\b|"
                          r"\bthan\b|\bbetween .* and .*\b(?:rise|increase|change|warm)|"
                          r"(?:rise|increase|change|warm)\w* between|\bhow much did .*"
                          r"\b(?:rise|increase|grow|fall|drop|decline|change|warm|cool)"),
    ("variance", r"\bvariance\b"),
    ("median", r"\bmedian\b"),
    ("skewness", r"\bskew"),
    ("percentile", r"\bpercentile\b"),
    ("mean", r"\bmean\b|\baverage\b"),
    ("std", r"standard deviation|\bstd\b|\bvariability\b|\bspread\b|"
            r"\bvariable\b|\bvaries\b|\bfluctuat"),
    ("mean", r"\btypical\b|\bclimatolog|\blevel\b|\bconcentration\b"),
)
"""Data-family quantities, most specific first."""

EMULATORS: tuple[tuple[str, str], ...] = (
    ("doubling_time", r"doubl"),
    ("kaplan_yorke_dimension", r"kaplan|yorke|attractor dimension|fractal dimension|lyapunov "
                               r"dimension|\bdimension of the attractor"),
    ("exponent_sum", r"\bsum of (?:the |all )?(?:lyapunov )?exponents|exponents? sum"),
    ("lyapunov_exponent", r"lyapunov|leading exponent|largest exponent|\bpredictab|\bhow "
                          r"chaotic|\bexponent\b"),
    ("kinetic_energy", r"kinetic energy|enstrophy|\benergy\b"),
    ("closure_stability", r"parameteri[sz]ation|\bclosure|subgrid|sub-grid|hybrid"),
    ("emulator_skill", r"emulat|neural|\bnetwork\b|forecast skill|valid (?:prediction )?time|"
                       r"\bforecast\b"),
    ("variance", r"\bvariance\b"),
    ("mean", r"\bmean\b|\baverage\b"),
    ("std", r"standard deviation|\bstd\b|\bvariability\b"),
    ("mean", r"\bclimate\b|\bclimatolog|\bstatistics\b"),
)
"""Quantities of a dynamical system, most specific first."""

DA: tuple[tuple[str, str], ...] = (
    ("method_comparison", r"\bwhich (?:of|method|filter|scheme|da|assimilation|gives|one)|"
                          r"\bcompare|\bvs\.?\b|\bversus\b|\bbetter\b|\bbest\b|\blowest\b|"
                          r"\blower\b|\bsmaller\b|\bbeats?\b|\boutperform|\bor the\b|"
                          r"\bor (?:an? )?\w+ (?:filter|enkf|etkf)"),
    ("analysis_rmse", r"."),
)
"""Quantities of a data-assimilation question."""

CAUSAL: tuple[tuple[str, str], ...] = (("causal_links", r"."),)


DISCOVERY_WORDS = (r"\blinks?\b|\bcausal|\bgraph\b|\bgranger\b|\bpcmci\b|\bkoopman\b|"
                   r"\bdiscover|\bcoupling\b|\bdrives?\b|\bparents?\b")


def family(*, series: int, fields: int, methods: int, system: bool, causal_system: bool,
           causal_tool: bool, text: str) -> Family | None:
    """Which family a question belongs to, from what it names (None: it names nothing).
    A system with a known causal graph (Lorenz-96 is one) is a causal question only when
    the question is about links."""
    if methods or re.search(r"assimilat|\banalysis (?:rmse|error)|\btwin experiment", text):
        return "da"
    if (causal_tool and not series) or (causal_system and re.search(DISCOVERY_WORDS, text)):
        return "causal"
    if series or fields:
        return "data"
    if system:
        return "emulators"
    return None


def quantity(text: str, family_name: Family | None, series: int, fields: int,
             methods: int = 0) -> str | None:
    """The quantity asked, or None when the words say nothing (e.g. a terse follow-up)."""
    if family_name == "data" and series >= 1 and re.search(CAUSAL_WORDS, text):
        return "causal_direction" if series >= 2 else "drivers"
    if family_name == "da" and re.search(r"\bor\b|\band\b|\bvs\b|\bversus\b", text) \
            and methods >= 2:
        return "method_comparison"
    table = {"data": DATA, "emulators": EMULATORS, "da": DA, "causal": CAUSAL}.get(
        family_name or "", ())
    for name, pattern in table:
        if name in ("pc_correlation", "eof_share") and not fields:
            continue
        if name in ("correlation", "lag_correlation") and series + fields < 2:
            continue
        if name == "drivers" and series != 1:
            continue
        if re.search(pattern, text):
            return name
    return None
