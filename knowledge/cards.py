"""Knowledge cards in the memory: what each plugin tool and model is, findable by recall.

A card (:class:`~climcopilot.tools.base.KnowledgeCard`) is declared on a tool
(``@tool(..., card=...)``) or on a plugin model's factory (``factory.card = ...``). Each card is
kept in the memory as a finding with key ``card:<name>``, so the recall step finds it by
meaning like any other finding. :func:`index_cards` brings the memory in line with the cards of
the tools and models installed now: new or changed cards are written, cards of plugins that are
gone are forgotten, unchanged ones are left alone (no journal growth on each start).
"""

from __future__ import annotations

from dataclasses import dataclass

from climcopilot.knowledge.memory import Memory
from climcopilot.knowledge.records import Finding
from climcopilot.tools.base import KnowledgeCard

CARD_KEY = "card:"


@dataclass(frozen=True)
class Card:
    """A card and what it describes: ``kind`` is "tool" or "model", ``subject`` its name."""

    kind: str
    subject: str
    card: KnowledgeCard

    def finding(self) -> Finding:
        """The card as a memory finding (id and key ``card:<subject>``)."""
        key = CARD_KEY + self.subject
        return Finding(id=key, key=key, question=f"What is the {self.kind} {self.subject} and "
                       "when should it be used?", claim=self.card.text(),
                       provenance={"source": "knowledge card", "kind": self.kind,
                                   "subject": self.subject})


def installed_cards() -> list[Card]:
    """Cards of the registered tools (the built-ins' from the manifest, none imported) and of
    the plugin models (broken plugins skipped)."""
    from climcopilot.tools.plugins import MODEL_GROUP, plugin_points
    from climcopilot.tools.registry import listing

    cards = [Card("tool", t.name, KnowledgeCard.model_validate(t.card))
             for t in listing() if t.card is not None]
    for ep in plugin_points(MODEL_GROUP):
        try:
            card = getattr(ep.load(), "card", None)
        except Exception:  # a broken plugin is reported by `climcopilot tools check`
            continue
        if isinstance(card, KnowledgeCard):
            cards.append(Card("model", ep.name, card))
    return cards


def index_cards(memory: Memory, cards: list[Card] | None = None) -> tuple[int, int]:
    """Write new or changed cards into ``memory`` and forget the cards no longer installed;
    returns (written, forgotten). ``cards`` defaults to :func:`installed_cards`."""
    wanted = {c.subject: c.finding() for c in (installed_cards() if cards is None else cards)}
    held = {r.id: r for r in memory.records.values()
            if isinstance(r, Finding) and r.key.startswith(CARD_KEY)}
    written = 0
    for finding in wanted.values():
        old = held.get(finding.id)
        if old is None or (old.claim, old.question) != (finding.claim, finding.question):
            memory.put(finding)
            written += 1
    gone = [i for i in held if i.removeprefix(CARD_KEY) not in wanted]
    for record_id in gone:
        memory.forget(record_id)
    return written, len(gone)
