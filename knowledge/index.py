"""The vector index, ``memory/index``: a chromadb store derived from the journal.

One cosine collection per kind ("findings", "skills"). Each entry holds the record's document,
its vector from the bundled embedder (chromadb's default embedding function would download a
model, so :class:`MiniLMEmbedding` is passed explicitly and vectors are computed here) and, in
its metadata, the record's key and a full JSON copy of the record: a journal that lost records
can be restored from the index (:meth:`VectorIndex.copies`). chromadb is imported here only, so
that importing the memory does not load it.
"""

from __future__ import annotations

import json
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.client import SharedSystemClient
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings
from chromadb.errors import ChromaError

from climcopilot.knowledge.embedder import MODEL_NAME, embed
from climcopilot.knowledge.errors import MemoryStoreError
from climcopilot.knowledge.records import Finding, Skill

KINDS = ("finding", "skill")
BATCH = 256  # records per chromadb write
# chromadb writes the HNSW graph to disk every SYNC_THRESHOLD additions (default 1000) and a new
# process replays the additions since into it on first access: 1.4 s at 10k records with the
# default, 0.08 s with 100, for a write of the graph (tens of ms) every 100 additions.
SYNC_THRESHOLD = 100
STALE = ChromaError  # what a query raises when another process changed the store under it


class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """chromadb embedding function backed by the bundled MiniLM model (no network)."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed(list(input)))

    @staticmethod
    def name() -> str:
        return "climcopilot-minilm"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbedding:
        return MiniLMEmbedding()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}


@contextmanager
def _interrupts_left_to_the_main_thread() -> Iterator[None]:
    """SIGINT blocked in this thread meanwhile: the threads chromadb's Rust runtime starts
    inherit the mask, so Ctrl-C reaches the main thread, where Python raises
    KeyboardInterrupt (one of those threads taking it leaves a waiting main thread blocked)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class VectorIndex:
    """The chromadb store in ``folder``, opened afresh (chromadb caches a store per process and
    would miss what other processes wrote since)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        SharedSystemClient._identifier_to_system.pop(str(folder), None)
        with _interrupts_left_to_the_main_thread():
            client = chromadb.PersistentClient(path=str(folder),
                                               settings=Settings(anonymized_telemetry=False))
            self.collections = {kind: client.get_or_create_collection(
                kind + "s", embedding_function=MiniLMEmbedding(),
                configuration={"hnsw": {"space": "cosine", "sync_threshold": SYNC_THRESHOLD}})
                for kind in KINDS}
        for collection in self.collections.values():  # a store made with the default
            if collection.configuration_json["hnsw"]["sync_threshold"] != SYNC_THRESHOLD:
                collection.modify(configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}})

    @classmethod
    def open(cls, folder: Path) -> tuple[VectorIndex, str | None]:
        """The index in ``folder``; one that cannot be read is moved aside (never deleted) and
        a new, empty one made: then also says what happened."""
        try:
            index = cls(folder)
            for kind in KINDS:
                index.count(kind)  # a store chromadb opens may still fail on first access
            return index, None
        except Exception as exc:  # chromadb raises many kinds on a damaged store
            SharedSystemClient.clear_system_cache()  # forget the half-opened broken store
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            aside = folder.with_name(f"{folder.name}.corrupt-{stamp}")
            shutil.move(str(folder), str(aside))
            note = f"{type(exc).__name__}: {exc}; moved to {aside}"
        try:
            return cls(folder), note
        except Exception as exc:
            raise MemoryStoreError(f"cannot open the memory index in {folder}: {exc}") from None

    # -- reading -----------------------------------------------------------------------------
    def ids(self) -> set[str]:
        return {i for c in self.collections.values() for i in c.get(include=[])["ids"]}

    def count(self, kind: str) -> int:
        return self.collections[kind].count()

    def copies(self, ids: list[str]) -> dict[str, Any]:
        """The record copies (parsed JSON) held for ``ids``; ids without one are left out."""
        out = {}
        for collection in self.collections.values():
            got = collection.get(ids=ids, include=["metadatas"])
            for i, meta in zip(got["ids"], got["metadatas"]):
                if meta and isinstance(meta.get("record"), str):
                    out[i] = json.loads(meta["record"])
        return out

    def nearest(self, kind: str, vector: np.ndarray, n: int) -> dict[str, float]:
        """Cosine similarity of the ``n`` entries nearest ``vector`` (384,), by id."""
        hits = self.collections[kind].query(query_embeddings=[vector], n_results=n,
                                            include=["distances"])
        return {i: 1.0 - d for i, d in zip(hits["ids"][0], hits["distances"][0])}

    def vectors(self, kind: str, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored unit vectors (384,) of ``ids``, by id."""
        if not ids:
            return {}
        got = self.collections[kind].get(ids=ids, include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"]))

    # -- writing -----------------------------------------------------------------------------
    def upsert(self, records: list[Finding | Skill]) -> None:
        """Embed and store records (same id: replaced)."""
        for kind in KINDS:
            batch = [r for r in records if r.kind == kind]
            for start in range(0, len(batch), BATCH):
                part = batch[start:start + BATCH]
                self.collections[kind].upsert(
                    ids=[r.id for r in part], embeddings=embed([r.document() for r in part]),
                    documents=[r.document() for r in part], metadatas=[_meta(r) for r in part])

    def update_copies(self, records: list[Finding | Skill]) -> None:
        """Replace the stored copies of records whose document is unchanged (no embedding);
        records not in the index are skipped."""
        for kind in KINDS:
            batch = [r for r in records if r.kind == kind]
            for start in range(0, len(batch), BATCH):
                part = batch[start:start + BATCH]
                self.collections[kind].update(ids=[r.id for r in part],
                                              metadatas=[_meta(r) for r in part])

    def delete(self, ids: list[str]) -> None:
        for collection in self.collections.values():
            collection.delete(ids=ids)


def _meta(record: Finding | Skill) -> dict[str, str]:
    return {"key": record.key, "record": record.model_dump_json()}
