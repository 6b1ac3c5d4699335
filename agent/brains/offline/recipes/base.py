"""What a recipe is: a multi-step plan over the typed tools that the offline brain runs unaided.

A recipe is data: example questions (for routing by embedding similarity), what it needs from
the question (how many named series, words that must appear), its steps as tool calls whose
arguments are templates over the question's entities, and an answer template over the steps'
results. Templates use :meth:`str.format`: ``{a}``, ``{b}`` are series keys, ``{a_name}``
their long names, ``{years[0]}`` the first year the question names (``defaults`` fills slots
the question leaves open), ``{corr[values][r]:.2f}`` a value from the step named ``corr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecipeStep:
    name: str
    tool: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Recipe:
    """A routable plan. ``quantity``: the question spec's quantity it answers (a question
    asking for it goes to this recipe first); ``keywords``: the question must contain one of
    them (plain text, lower case, no accents) unless empty; ``min_similarity``: the least
    cosine similarity to one of the examples for the recipe to be chosen."""

    name: str
    examples: tuple[str, ...]
    plan: tuple[str, ...]
    steps: tuple[RecipeStep, ...]
    answer: str
    quantity: str | None = None  # what the recipe answers (the question spec's quantity)
    needs_series: int = 0
    needs_methods: int = 0
    max_methods: int = 99  # most DA methods the question may name (1: a single experiment)
    needs_causal_system: bool = False
    keywords: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    min_similarity: float = 0.3


def fill(template: Any, slots: dict[str, Any]) -> Any:
    """Format every string inside ``template`` (nested lists and dicts) with ``slots``; a
    string that is exactly one slot (``"{methods}"``) becomes that slot's value, list or not."""
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in slots:
            return slots[template[1:-1]]
        return template.format(**slots)
    if isinstance(template, list):
        return [fill(t, slots) for t in template]
    if isinstance(template, dict):
        return {k: fill(v, slots) for k, v in template.items()}
    return template
