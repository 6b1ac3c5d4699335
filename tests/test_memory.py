"""The vector memory on a real chromadb store with the bundled embedder."""

from __future__ import annotations

from pathlib import Path

from climcopilot.knowledge.embedder import MiniLMEmbedding, embed
from climcopilot.knowledge.memory import Finding, Memory


def test_findings_persist_and_are_found_by_meaning(tmp_path: Path) -> None:
    first = Memory(tmp_path)
    first.add(Finding(question="Correlation of SOI and Nino-3?", claim="r = -0.67",
                      values={"r": -0.67}))
    first.add(Finding(question="When does Mauna Loa CO2 peak in the year?", claim="In May"))
    reopened = Memory(tmp_path)  # a new client on the same files
    assert reopened.count() == 2
    hits = reopened.search("How does the SOI correlate with Nino-3?", k=2)
    assert hits[0][0].values == {"r": -0.67} and hits[0][1] > hits[1][1]


def test_store_uses_the_bundled_embedder(tmp_path: Path) -> None:
    memory = Memory(tmp_path)
    assert memory.findings._embedding_function.name() == MiniLMEmbedding.name()
    vectors = embed(["sea surface temperature", "sea surface temperature", "bread recipe"])
    assert vectors.shape == (3, 384)
    # Identity: unit vectors, so a text's similarity with itself is 1.
    assert abs(float(vectors[0] @ vectors[1]) - 1.0) < 1e-5
    assert float(vectors[0] @ vectors[2]) < 0.5
