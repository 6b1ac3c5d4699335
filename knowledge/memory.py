"""The vector memory: findings and skills, recalled before planning, written after answers.

Layout under ``$CLIMCOPILOT_HOME/memory``:

- ``journal.jsonl``: every record as written (one JSON line each; a later line with the same id
  replaces an earlier one, ``{"kind": "forget", "id": ...}`` removes it). The journal is the
  source of truth: appends happen under an exclusive file lock, so several processes can write
  at once and lose nothing, and a line cut short by a crash is dropped on the next open.
- ``index/``: the chromadb store (embedder passed explicitly: the bundled MiniLM), a cache of
  the journal. It catches up with the journal on open; if it cannot be opened it is moved aside
  (never deleted) and rebuilt from the journal.
- ``meta.json``: the schema version; older stores are migrated on open.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from climcopilot.knowledge.embedder import MiniLMEmbedding, embed
from climcopilot.knowledge.records import SCHEMA_VERSION, Finding, Record, Skill

RECORDS = TypeAdapter(Record)
KEY_TOKEN = re.compile(r"\b(?:[A-Z][\w+-]*[A-Z0-9][\w+-]*|[\w-]*\d[\w-]*)\b")
KEYWORD_WEIGHT = 0.25  # score bonus for containing all the query's acronyms and numbers


class MemoryStoreError(RuntimeError):
    """The store cannot be opened or written; the message says what to do."""


def key_tokens(text: str) -> list[str]:
    """Acronyms and tokens with digits (EnKF, SOI, PCMCI, L96, 2011): what a small embedder
    tends to miss."""
    return list(dict.fromkeys(t for t in KEY_TOKEN.findall(text) if len(t) >= 2))


def _migrate(record: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring a journal record written under schema ``version`` up to SCHEMA_VERSION."""
    if version < 2 and record.get("kind", "finding") == "finding":  # v1: no kind, key, seen
        record = {"kind": "finding", "key": "", "seen": 1, **record}
    return record


class Memory:
    """Findings and skills in a journal plus a chromadb index, searched by meaning and by
    keyword."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "memory"
        self.journal = self.path / "journal.jsonl"
        self.broken_index: str | None = None  # why the index was rebuilt, if it was
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with self._locked():
                self._check_schema()
                self.records = self._read_journal()
                self._open_index()
        except OSError as exc:
            raise MemoryStoreError(f"cannot write the memory store at {self.path} "
                                   f"({exc.strerror or exc}); fix its permissions or point "
                                   "CLIMCOPILOT_HOME elsewhere") from None

    # -- storage ---------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.path / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _check_schema(self) -> None:
        meta_path = self.path / "meta.json"
        version = SCHEMA_VERSION if not self.journal.exists() else 1
        if meta_path.exists():
            try:
                version = int(json.loads(meta_path.read_text())["schema_version"])
            except (ValueError, KeyError, TypeError):
                raise MemoryStoreError(f"{meta_path} is unreadable; restore it or move the "
                                       "store aside") from None
        if version > SCHEMA_VERSION:
            raise MemoryStoreError(f"the store at {self.path} has schema {version}, newer than "
                                   f"this ClimCopilot ({SCHEMA_VERSION}); upgrade climcopilot")
        if version < SCHEMA_VERSION and self.journal.exists():
            lines = [json.loads(x) for x in self.journal.read_text().splitlines() if x.strip()]
            backup = self.journal.with_suffix(f".v{version}.jsonl")
            shutil.copy2(self.journal, backup)
            self.journal.write_text("".join(json.dumps(_migrate(r, version)) + "\n"
                                            for r in lines))
            shutil.rmtree(self.path / "index", ignore_errors=True)
        meta_path.write_text(json.dumps({"schema_version": SCHEMA_VERSION}))

    def _read_journal(self) -> dict[str, Finding | Skill]:
        """Current records by id; a last line cut short by a crash is removed."""
        records: dict[str, Finding | Skill] = {}
        if not self.journal.exists():
            return records
        data = self.journal.read_bytes()
        if data and not data.endswith(b"\n"):  # an unfinished append: never acknowledged
            data = data[: data.rfind(b"\n") + 1]
            self.journal.write_bytes(data)
        for line in data.decode().splitlines():
            item = json.loads(line)
            if item.get("kind") == "forget":
                records.pop(item["id"], None)
            else:
                record = RECORDS.validate_python(item)
                records[record.id] = record
        return records

    def _append(self, items: list[dict[str, Any]]) -> None:
        with open(self.journal, "a") as f:
            f.write("".join(json.dumps(item) + "\n" for item in items))

    def _open_index(self, retry: bool = True) -> None:
        import chromadb
        from chromadb.api.client import SharedSystemClient
        from chromadb.config import Settings

        index = self.path / "index"
        # A store opened earlier in this process is cached by chromadb and misses what other
        # processes wrote since (its search then fails): always open the index afresh.
        SharedSystemClient._identifier_to_system.pop(str(index), None)
        try:
            client = chromadb.PersistentClient(path=str(index),
                                               settings=Settings(anonymized_telemetry=False))
            self.collections = {
                kind: client.get_or_create_collection(
                    kind + "s", embedding_function=MiniLMEmbedding(),
                    metadata={"hnsw:space": "cosine"})
                for kind in ("finding", "skill")}
            indexed = {i for c in self.collections.values() for i in c.get(include=[])["ids"]}
        except Exception as exc:  # an index that cannot be read is moved aside and rebuilt
            if not retry:
                raise MemoryStoreError(f"cannot open the memory index in {index}: {exc}") from None
            SharedSystemClient.clear_system_cache()  # forget the half-opened broken store
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            aside = self.path / f"index.corrupt-{stamp}"
            shutil.move(str(index), str(aside))
            self.broken_index = f"{type(exc).__name__}: {exc}; moved to {aside}"
            return self._open_index(retry=False)
        stale = list(indexed - set(self.records))
        if stale:
            for collection in self.collections.values():
                collection.delete(ids=stale)
        self._index([r for i, r in self.records.items() if i not in indexed])

    def _index(self, records: list[Finding | Skill]) -> None:
        for kind in ("finding", "skill"):
            batch = [r for r in records if r.kind == kind]
            for start in range(0, len(batch), 256):
                part = batch[start:start + 256]
                self.collections[kind].upsert(
                    ids=[r.id for r in part], documents=[r.document() for r in part],
                    metadatas=[{"key": r.key} for r in part])

    # -- writing ---------------------------------------------------------------------------
    def put(self, record: Finding | Skill) -> str:
        """Store (or replace, same id) a record; returns its id."""
        with self._locked():
            self._append([record.model_dump()])
            self.records[record.id] = record
            self._index([record])
        return record.id

    def add(self, finding: Finding) -> str:
        """Store a finding, merging it into an earlier one with the same key and values."""
        earlier = self.same_key(finding)
        if earlier is not None and contradiction(earlier, finding) is None:
            merged = earlier.model_copy(update={"seen": earlier.seen + 1})
            return self.put(merged)
        return self.put(finding)

    def forget(self, record_id: str) -> None:
        """Remove a record (MemoryStoreError if there is none with that id)."""
        record = self.get(record_id)
        with self._locked():
            self._append([{"kind": "forget", "id": record_id}])
            self.records.pop(record_id, None)
            self.collections[record.kind].delete(ids=[record_id])

    # -- reading ---------------------------------------------------------------------------
    def get(self, record_id: str) -> Finding | Skill:
        if record_id not in self.records:
            raise MemoryStoreError(f"no record {record_id!r} in memory; `climcopilot memory "
                                   "list` shows the ids")
        return self.records[record_id]

    def count(self, kind: str = "finding") -> int:
        return sum(r.kind == kind for r in self.records.values())

    def same_key(self, finding: Finding) -> Finding | None:
        """The most confirmed finding about the same quantity, if any."""
        same = [r for r in self.records.values()
                if isinstance(r, Finding) and finding.key and r.key == finding.key]
        return max(same, key=lambda r: r.seen, default=None)

    def refresh(self) -> None:
        """Catch up with what other processes wrote since this store was opened."""
        with self._locked():
            self.records = self._read_journal()
            self._open_index()

    def search(self, query: str, k: int = 3, kind: str = "finding"
               ) -> list[tuple[Finding | Skill, float]]:
        """Up to ``k`` records nearest the query: cosine similarity of meaning, plus a bonus
        for containing the query's acronyms and numbers (which the small embedder misses)."""
        from chromadb.errors import ChromaError

        try:
            return self._search(query, k, kind)
        except ChromaError:  # another process changed the index under this one's cache
            self.refresh()
            return self._search(query, k, kind)

    def _search(self, query: str, k: int, kind: str) -> list[tuple[Finding | Skill, float]]:
        collection = self.collections[kind]
        n = collection.count()
        if n == 0:
            return []
        vector = embed([query])[0]
        hits = collection.query(query_embeddings=[vector.tolist()], n_results=min(4 * k, n),
                                include=["distances"])
        scores = {i: 1.0 - d for i, d in zip(hits["ids"][0], hits["distances"][0])}
        tokens = key_tokens(query)
        if tokens:
            clauses = [{"$contains": t} for t in tokens]
            where = clauses[0] if len(clauses) == 1 else {"$or": clauses}
            extra = collection.get(where_document=where, limit=4 * k, include=["embeddings"])
            for i, e in zip(extra["ids"], extra["embeddings"]):
                scores.setdefault(i, float(vector @ e))
        ranked = []
        for i, score in scores.items():
            record = self.records.get(i)
            if record is not None:
                found = sum(t in record.document() for t in tokens) / len(tokens) if tokens else 0
                ranked.append((record, score + KEYWORD_WEIGHT * found))
        return sorted(ranked, key=lambda p: -p[1])[:k]

    # -- export ----------------------------------------------------------------------------
    def export(self, path: Path) -> int:
        """Write every record to ``path`` as a JSON list; returns how many."""
        records = [r.model_dump() for r in self.records.values()]
        Path(path).write_text(json.dumps({"schema_version": SCHEMA_VERSION,
                                          "records": records}, indent=1))
        return len(records)

    def import_(self, path: Path) -> int:
        """Add the records of an export; a malformed file imports nothing."""
        try:
            data = json.loads(Path(path).read_text())
            records = [RECORDS.validate_python(_migrate(r, int(data["schema_version"])))
                       for r in data["records"]]
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
            detail = str(exc).splitlines()[0]
            raise MemoryStoreError(f"cannot import {path}: {detail}; nothing was "
                                   "imported") from None
        with self._locked():
            self._append([r.model_dump() for r in records])
            self.records.update({r.id: r for r in records})
            self._index(records)
        return len(records)


def contradiction(old: Finding, new: Finding, rtol: float = 0.05) -> str | None:
    """A sentence naming the values that differ beyond ``rtol``, or None when they agree."""
    differ = [name for name in set(old.values) & set(new.values)
              if abs(old.values[name] - new.values[name])
              > rtol * max(abs(old.values[name]), abs(new.values[name]), 1e-12)]
    if not differ:
        return None
    parts = ", ".join(f"{n}: {old.values[n]:.4g} before, {new.values[n]:.4g} now"
                      for n in sorted(differ))
    return (f"contradicts finding {old.id} ({parts}); earlier provenance: "
            f"{old.provenance.get('session_id', '?')}, {old.provenance.get('steps', [])}")
