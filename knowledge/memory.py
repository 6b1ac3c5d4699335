"""The vector memory: findings written after each checked answer, recalled before planning.

A chromadb persistent store under ``$CLIMCOPILOT_HOME/memory``, always with the bundled
embedder (:class:`~climcopilot.knowledge.embedder.MiniLMEmbedding`).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from climcopilot.knowledge.embedder import MiniLMEmbedding


class Finding(BaseModel):
    """A checked claim with its numbers and where they came from."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    question: str
    claim: str
    values: dict[str, float] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    def summary(self) -> str:
        """One line for a brain's context."""
        nums = ", ".join(f"{k}={v:.4g}" for k, v in list(self.values.items())[:4])
        return f"[{self.id}] {self.claim[:160]}" + (f" ({nums})" if nums else "")


class MemoryStoreError(RuntimeError):
    """The store cannot be opened or written; the message says what to do."""


class Memory:
    """Findings in a chromadb collection, searched by meaning."""

    def __init__(self, home: Path) -> None:
        import chromadb
        from chromadb.config import Settings

        path = Path(home) / "memory"
        try:
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(
                path=str(path), settings=Settings(anonymized_telemetry=False))
            self.findings = self.client.get_or_create_collection(
                "findings", embedding_function=MiniLMEmbedding(),
                metadata={"hnsw:space": "cosine"})
        except Exception as exc:
            raise MemoryStoreError(f"cannot open the memory store at {path}: {exc}; check "
                               "permissions or point CLIMCOPILOT_HOME elsewhere") from None

    def add(self, finding: Finding) -> str:
        """Store a finding; returns its id."""
        self.findings.add(ids=[finding.id], documents=[f"{finding.question}\n{finding.claim}"],
                          metadatas=[{"json": finding.model_dump_json()}])
        return finding.id

    def search(self, query: str, k: int = 3) -> list[tuple[Finding, float]]:
        """Up to ``k`` findings nearest in meaning, with cosine similarity (1 = same)."""
        n = self.findings.count()
        if n == 0:
            return []
        hits = self.findings.query(query_texts=[query], n_results=min(k, n))
        return [(Finding.model_validate(json.loads(m["json"])), 1.0 - d)
                for m, d in zip(hits["metadatas"][0], hits["distances"][0])]

    def count(self) -> int:
        """Number of findings stored."""
        return self.findings.count()
