"""What people call the seasons the series tools take (``analysis.subset``'s ``season``), and
the early-warning tools' detrending, indicators, question and simulated system."""

from __future__ import annotations

from climcopilot.tools.vocabulary import Term


def _season(key: str, label: str, *aliases: str) -> Term:
    return Term(key, "season", label, aliases)


SEASONS: tuple[Term, ...] = (
    _season("djf", "December-February", "dec-feb", "december-february",
            "december to february", "boreal winter", "austral summer"),
    _season("mam", "March-May", "mar-may", "march-may", "march to may", "boreal spring",
            "austral autumn"),
    _season("jja", "June-August", "jun-aug", "june-august", "june to august",
            "boreal summer", "austral winter"),
    _season("son", "September-November", "sep-nov", "september-november",
            "september to november", "boreal autumn", "austral spring"),
    _season("jjas", "June-September (the Indian summer monsoon season)", "jun-sep",
            "june-september", "june to september", "monsoon season", "summer monsoon season"),
    _season("ndjfm", "November-March (extended winter)", "nov-mar", "november-march",
            "november to march", "extended winter"),
    _season("djfm", "December-March", "dec-mar", "december-march", "december to march"),
    _season("jfm", "January-March", "jan-mar", "january-march", "january to march"),
    _season("amj", "April-June", "apr-jun", "april-june", "april to june"),
    _season("jas", "July-September", "jul-sep", "july-september", "july to september"),
    _season("ond", "October-December", "oct-dec", "october-december", "october to december"),
)
"""Named seasons (meteorological conventions; 'boreal'/'austral' name the hemisphere), as
``analysis.subset`` takes them (any run of month initials works there too)."""


DETRENDING: tuple[Term, ...] = (
    Term("lowess", "detrending", "Lowess (locally weighted regression) trend",
         ("loess", "lowess smoothing", "locally weighted regression")),
    Term("gaussian", "detrending", "Gaussian kernel trend",
         ("gaussian kernel", "gaussian filter", "gaussian smoothing", "kernel smoothing")),
    Term("none", "detrending", "no detrending", ("no detrending", "not detrended")),
)
"""How ``analysis.early_warning`` removes the slow trend before its rolling indicators."""

EWS_INDICATORS: tuple[Term, ...] = (
    Term("variance", "ews_indicator", "rolling variance", ("rolling variance",)),
    Term("cv", "ews_indicator", "coefficient of variation",
         ("coefficient of variation", "rolling cv")),
    Term("ac1", "ews_indicator", "lag-1 autocorrelation",
         ("lag-1 autocorrelation", "lag 1 autocorrelation", "rolling autocorrelation",
          "autocorrelation at lag 1")),
    Term("skew", "ews_indicator", "skewness", ("skewness", "rolling skewness")),
)
"""The indicators ``analysis.early_warning`` trends (its ``tau_<key>`` values)."""

EARLY_WARNING = Term("early_warning", "diagnostic",
                     "early-warning signals of a critical transition",
                     ("early warning", "early warnings", "early-warning signals",
                      "early warning signals", "ews", "critical slowing down",
                      "tipping point", "tipping points", "kendall tau", "critical transition",
                      "approaching a bifurcation"))
"""What people call ``analysis.early_warning``'s question."""

RICKER = Term("ricker", "bifurcation_system", "Ricker map with ramped harvesting (a fold)",
              ("ricker model", "ricker map", "harvested ricker", "harvested population"))
"""The simulated system of ``analysis.simulate_ricker``."""

TERMS: tuple[Term, ...] = (*SEASONS, *DETRENDING, *EWS_INDICATORS, EARLY_WARNING, RICKER)
