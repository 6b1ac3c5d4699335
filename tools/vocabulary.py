"""The words people use for what tools take by name: methods, systems, series, fields.

Each family declares its :class:`Term` s in its own ``vocabulary`` module, as plain data that
costs nothing to import. Tool inputs accept any alias of a term (:func:`aliased`, a pydantic
validator that maps "3D-Var", "var3d" or "3dvar" to the tool's ``3dvar``), and the agent's
question reader finds the same terms in questions (:func:`all_terms`).
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BeforeValidator

FAMILY_VOCABULARIES = ("climcopilot.tools.data.vocabulary",
                       "climcopilot.tools.analysis.vocabulary", "climcopilot.tools.da.vocabulary",
                       "climcopilot.tools.emulators.vocabulary",
                       "climcopilot.tools.causal.vocabulary")
"""Modules that define ``TERMS`` (a tuple of :class:`Term`)."""


@dataclass(frozen=True)
class Term:
    """One named thing: ``key`` as the tools take it, what ``kind`` of thing it is (e.g.
    ``da_method``, ``dynamical_system``, ``series``), a human ``label`` and the ``aliases`` a
    question may use (plain text: lower case, no accents; the key itself always counts)."""

    key: str
    kind: str
    label: str
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Every way to write it, longest first (the key included)."""
        return tuple(sorted({self.key, *self.aliases}, key=lambda a: (-len(a), a)))


def plain(text: str) -> str:
    """Lower case without diacritics ('Niño-3' -> 'nino-3'), for matching names."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def compact(text: str) -> str:
    """The form in which two spellings of a name compare equal: plain, without spaces,
    hyphens, underscores or dots ('3D-Var' -> '3dvar', 'Lorenz_96' -> 'lorenz96')."""
    return re.sub(r"[\s_\-.]", "", plain(text))


def lookup(terms: Iterable[Term], name: str) -> Term | None:
    """The term ``name`` spells (key or alias, in any case or punctuation), else None."""
    wanted = compact(name)
    return next((t for t in terms if wanted in {compact(n) for n in t.names()}), None)


def aliased(terms: Iterable[Term]) -> BeforeValidator:
    """A pydantic validator that turns any alias of one of ``terms`` into its key; other
    values pass unchanged, so the field's own type reports them."""
    frozen = tuple(terms)

    def to_key(value: Any) -> Any:
        if isinstance(value, str):
            term = lookup(frozen, value)
            return term.key if term is not None else value
        if isinstance(value, list):
            return [to_key(v) for v in value]
        return value

    return BeforeValidator(to_key)


@lru_cache(maxsize=1)
def all_terms() -> tuple[Term, ...]:
    """Every family's terms (the built-in vocabularies; importing them is cheap)."""
    found: list[Term] = []
    for module in FAMILY_VOCABULARIES:
        found += importlib.import_module(module).TERMS
    return tuple(found)


def terms_of(kind: str) -> tuple[Term, ...]:
    """The terms of one kind, e.g. ``terms_of("da_method")``."""
    return tuple(t for t in all_terms() if t.kind == kind)


