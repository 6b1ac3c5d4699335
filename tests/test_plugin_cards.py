"""Knowledge cards of plugin tools and models: in the LLM's description, and in the memory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from climcopilot.agent.nodes import RECALL_SIMILARITY
from climcopilot.knowledge.cards import index_cards, installed_cards
from climcopilot.knowledge.memory import Memory
from climcopilot.tools.plugins import PLUGIN_PATHS_ENV
from climcopilot.tools.registry import registry, reload

EXAMPLE = Path(__file__).parents[1] / "examples" / "l96_emulator"


@pytest.fixture
def example_cards(monkeypatch: pytest.MonkeyPatch):
    """The installed cards with the example plugin on a local path (registry rebuilt after)."""
    monkeypatch.setenv(PLUGIN_PATHS_ENV, str(EXAMPLE))
    monkeypatch.setattr(sys, "path", list(sys.path))
    reload()
    try:
        yield installed_cards(), registry()
    finally:
        reload()


def test_cards_reach_the_llm_and_are_recalled_from_memory(home: Path, example_cards) -> None:
    cards, tools = example_cards
    by_subject = {c.subject: c for c in cards}
    assert {"l96_emulator.forecast_skill", "l96_cnn"} <= set(by_subject)
    assert by_subject["l96_cnn"].kind == "model"
    description = tools["l96_emulator.forecast_skill"].openai_schema()["function"]["description"]
    assert "When to use:" in description and "Valid ranges: lead 0.05..2 MTU" in description
    # Built-in tools carry no card: their descriptions are unchanged.
    assert "When to use:" not in tools["da.twin_experiment"].openai_schema()["function"][
        "description"]

    memory = Memory(home)
    assert index_cards(memory, cards) == (len(cards), 0)
    recalled = {question: memory.search(question, k=1)[0] for question in (
        "a convolutional network that emulates the Lorenz-96 tendency",
        "How large is the error of the emulator forecasts at a given lead time?",
        "What is the correlation between ENSO and rainfall?")}
    (model_card, _), (tool_card, _), (_, unrelated) = recalled.values()
    assert model_card.id == "card:l96_cnn" and "trained on F = 8" in model_card.claim
    assert tool_card.id == "card:l96_emulator.forecast_skill"
    assert unrelated < RECALL_SIMILARITY  # the recall step would not bring a card up here
    journal = (home / "memory" / "journal.jsonl").read_text()
    assert index_cards(memory, cards) == (0, 0)  # unchanged cards are not rewritten
    assert (home / "memory" / "journal.jsonl").read_text() == journal
    without_model = [c for c in cards if c.kind == "tool"]
    assert index_cards(memory, without_model) == (0, 1)  # the model's plugin was removed
    reopened = Memory(home)
    assert "card:l96_cnn" not in reopened.records
    assert "card:l96_emulator.forecast_skill" in reopened.records
