"""Finding the names a question uses, by the tools' own vocabularies (every alias people
type: 'Niño-1+2', 'l96', 'var3d', 'z500')."""

from __future__ import annotations

import re
from functools import cache

from climcopilot.tools.vocabulary import Term, terms_of

LETTERS = "ABCDEFGH"


@cache
def _patterns(kind: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each name of each term of ``kind`` as a whole-word pattern, longest first ('nino 3.4'
    before 'nino 3'; a name followed by '.digit' is another name)."""
    names = [(name, t.key) for t in terms_of(kind) for name in t.names()]
    names.sort(key=lambda p: -len(p[0]))
    return tuple((re.compile(rf"(?<![\w-]){re.escape(n)}(?![\w]|-\d|\.\d)"), key)
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


def keys(hits: list[tuple[int, int, str]]) -> list[str]:
    """The keys of ``hits``, first mention first, no repeats."""
    return list(dict.fromkeys(key for _, _, key in hits))


def first(text: str, kind: str) -> str | None:
    hits = find_terms(text, kind)
    return hits[0][2] if hits else None


def generalized(text: str, hits: list[tuple[int, int, str]]) -> str:
    """``text`` with each series mention replaced by "series A", "series B", ..."""
    order = keys(hits)
    parts, last = [], 0
    for start, end, key in hits:
        parts += [text[last:start], f"series {LETTERS[order.index(key) % len(LETTERS)]}"]
        last = end
    return "".join(parts) + text[last:]


def term_label(kind: str, key: str) -> str:
    """The human name of a term (its key when unknown)."""
    term: Term | None = next((t for t in terms_of(kind) if t.key == key), None)
    return term.label if term is not None else key
