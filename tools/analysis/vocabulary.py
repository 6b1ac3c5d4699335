"""What people call the seasons the series tools take (``analysis.subset``'s ``season``)."""

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

TERMS: tuple[Term, ...] = SEASONS
