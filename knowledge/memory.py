"""The vector memory: findings and skills, recalled before planning, written after answers.

Layout under ``$CLIMCOPILOT_HOME/memory``:

- ``journal.jsonl``: the source of truth (:mod:`~climcopilot.knowledge.journal`): appends under
  a file lock, bad lines quarantined in ``quarantine.jsonl``, a backup before any rewrite.
- ``index/``: the chromadb store (:mod:`~climcopilot.knowledge.index`), derived from the
  journal: it catches up with the journal on open, is moved aside and rebuilt if it cannot be
  read, and holds a copy of every record, so that records the journal lost (emptied, removed,
  lines quarantined) are restored into it rather than purged from the index. Restoring was
  chosen over stopping with a MemoryStoreError: the copies make it lossless, and a stop would
  leave `ask` and `memory list` failing until someone repaired the file by hand.
- ``meta.json``: the schema version (older stores are migrated on open, with a backup) and
  whether the index holds record copies (stores from before are filled in once).

Every update (``add``, ``count_skill``, ``put``, ``forget``) reads the journal's tail under the
lock first, so that concurrent read-modify-write updates from several processes add up.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from climcopilot.knowledge.errors import MemoryStoreError
from climcopilot.knowledge.journal import Forget, Journal, QuarantinedLine
from climcopilot.knowledge.records import (
    SCHEMA_VERSION,
    Finding,
    Skill,
    absurd_values,
    now,
    parse_record,
)

if TYPE_CHECKING:
    from climcopilot.knowledge.index import VectorIndex

KEY_TOKEN = re.compile(r"\b(?:[A-Z][\w+-]*[A-Z0-9][\w+-]*|[\w-]*\d[\w-]*)\b")
KEYWORD_WEIGHT = 0.25  # score bonus for containing all the query's acronyms and numbers


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
    keyword.

    ``restored`` counts the records this open restored into the journal from the index,
    ``unrestorable`` the index entries the journal lost that had no copy to restore from,
    ``broken_index`` says why the index was rebuilt (None if it was not);
    :attr:`quarantined` and :meth:`integrity_summary` report the journal's bad lines.
    """

    index: VectorIndex

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "memory"
        self.journal = Journal(self.path)
        self.broken_index: str | None = None
        self.restored = 0
        self.unrestorable = 0
        self._documents: dict[str, tuple[int, list[tuple[str, str]]]] = {}
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with self.journal.locked():
                meta = self._check_schema()
                self.journal.catch_up()
                self._open_index(meta)
        except OSError as exc:
            raise MemoryStoreError(f"cannot write the memory store at {self.path} "
                                   f"({exc.strerror or exc}); fix its permissions or point "
                                   "CLIMCOPILOT_HOME elsewhere") from None

    @property
    def records(self) -> dict[str, Finding | Skill]:
        """The current records by id (as of this process's last read of the journal)."""
        return self.journal.records

    # -- opening (under the lock) ------------------------------------------------------------
    def _check_schema(self) -> dict[str, Any]:
        """meta.json's content, after migrating an older journal (a backup is kept)."""
        meta_path = self.path / "meta.json"
        meta: dict[str, Any] = {"schema_version": 1 if self.journal.path.exists()
                                else SCHEMA_VERSION}
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text())
                int(meta["schema_version"])
            except (ValueError, KeyError, TypeError):
                raise MemoryStoreError(f"{meta_path} is unreadable; restore it or move the "
                                       "store aside") from None
        version = int(meta["schema_version"])
        if version > SCHEMA_VERSION:
            raise MemoryStoreError(f"the store at {self.path} has schema {version}, newer than "
                                   f"this ClimCopilot ({SCHEMA_VERSION}); upgrade climcopilot")
        if version < SCHEMA_VERSION and self.journal.path.exists():
            self.journal.rewrite([_migrated_line(raw, version) for raw in
                                  self.journal.path.read_bytes().split(b"\n") if raw.strip()],
                                 backup=self.journal.path.with_suffix(f".v{version}.jsonl"))
            meta.pop("index_copies", None)  # the index's copies are refreshed on opening it
        if version != SCHEMA_VERSION or not meta_path.exists():
            meta["schema_version"] = SCHEMA_VERSION
            self._write_meta(meta)
        return meta

    def _write_meta(self, meta: dict[str, Any]) -> None:
        """Replace meta.json atomically (a crash leaves the old one or the new one)."""
        temporary = self.path / "meta.json.new"
        temporary.write_text(json.dumps(meta))
        os.replace(temporary, self.path / "meta.json")

    def _open_index(self, meta: dict[str, Any]) -> None:
        from climcopilot.knowledge.index import VectorIndex

        self.index, self.broken_index = VectorIndex.open(self.path / "index")
        indexed = self._restore_lost()
        forgotten = [i for i in indexed if i in self.journal.mentioned and i not in self.records]
        if forgotten:
            self.index.delete(forgotten)
        self.index.upsert([r for i, r in self.records.items() if i not in indexed])
        if not meta.get("index_copies"):  # a store from before the index held record copies
            self.index.update_copies([r for i, r in self.records.items() if i in indexed])
            self._write_meta({**meta, "index_copies": True})

    def _restore_lost(self) -> set[str]:
        """Append to the journal the index's records it never mentioned (it lost them); returns
        the indexed ids."""
        indexed = self.index.ids()
        lost = [i for i in indexed if i not in self.journal.mentioned]
        if not lost:
            return indexed
        restored = []
        for item in self.index.copies(lost).values():
            try:
                restored.append(parse_record(item))
            except ValueError:
                continue
        self.journal.append(restored)
        self.restored += len(restored)
        self.unrestorable = len(lost) - len(restored)
        return indexed

    def _catch_up(self) -> None:
        """Read what other processes wrote (under the lock); a journal replaced, shortened or
        removed since is read afresh and what it lost restored from the index."""
        if self.journal.catch_up():
            self._restore_lost()

    # -- writing -----------------------------------------------------------------------------
    def put(self, record: Finding | Skill) -> str:
        """Store (or replace, same id) a record; returns its id."""
        _refuse_absurd(record)
        with self.journal.locked():
            self._catch_up()
            self._write([record])
        return record.id

    def _write(self, records: list[Finding | Skill]) -> None:
        self.journal.append(records)
        self.index.upsert(records)

    def _rewrite_counts(self, record: Finding | Skill) -> None:
        """Store a new version of a record whose document is unchanged (no new embedding)."""
        self.journal.append([record])
        self.index.update_copies([record])

    def add(self, finding: Finding) -> str:
        """Store a finding, or merge it into the most confirmed earlier finding with the same
        key and agreeing values (its ``seen`` grows by one); returns the stored id."""
        _refuse_absurd(finding)
        with self.journal.locked():
            self._catch_up()
            earlier = self.same_key(finding)
            if earlier is not None and contradiction(earlier, finding) is None:
                self._rewrite_counts(earlier.model_copy(update={"seen": earlier.seen + 1}))
                return earlier.id
            self._write([finding])
        return finding.id

    def count_skill(self, key: str, *, pattern: str, brain: str, plan: dict[str, Any],
                    success: bool) -> Skill | None:
        """Count a success or failure for the skill ``key``; a first success creates it (with
        ``pattern``, ``brain`` and ``plan``), a failure of an unknown skill changes nothing.
        Returns the stored skill (None in that last case)."""
        with self.journal.locked():
            self._catch_up()
            skill = next((r for r in self.records.values()
                          if isinstance(r, Skill) and r.key == key), None)
            if skill is not None:
                field = "successes" if success else "failures"
                skill = skill.model_copy(update={field: getattr(skill, field) + 1,
                                                 "last_used": now()})
                self._rewrite_counts(skill)
            elif success:
                skill = Skill(pattern=pattern, key=key, brain=brain, plan=plan, successes=1)
                self._write([skill])
        return skill

    def forget(self, record_id: str) -> None:
        """Remove a record (MemoryStoreError if there is none with that id)."""
        with self.journal.locked():
            self._catch_up()
            self.get(record_id)
            self.journal.append([Forget(record_id)])
            self.index.delete([record_id])

    # -- reading -----------------------------------------------------------------------------
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
        from climcopilot.knowledge.index import VectorIndex

        with self.journal.locked():
            self._catch_up()
            self.index = VectorIndex(self.path / "index")

    def search(self, query: str, k: int = 3, kind: str = "finding"
               ) -> list[tuple[Finding | Skill, float]]:
        """Up to ``k`` records nearest the query: cosine similarity of meaning, plus a bonus
        for containing the query's acronyms and numbers (which the small embedder misses)."""
        from climcopilot.knowledge.index import STALE

        try:
            return self._search(query, k, kind)
        except STALE:  # another process changed the index under this one's cache
            self.refresh()
            return self._search(query, k, kind)

    def _search(self, query: str, k: int, kind: str) -> list[tuple[Finding | Skill, float]]:
        from climcopilot.knowledge.embedder import embed

        documents = self._documents_of(kind)
        if not documents:
            return []
        vector = embed([query])[0]
        scores = self.index.nearest(kind, vector, 4 * k)
        tokens = key_tokens(query)
        found: Counter[str] = Counter()
        for token in tokens:  # in-process: a chromadb `$contains` filter cost 15.6 ms at 10k
            found.update([i for i, doc in documents if token in doc])
        extra = [i for i, _ in found.most_common(4 * k) if i not in scores]
        scores.update({i: float(vector @ e) for i, e in self.index.vectors(kind, extra).items()})
        ranked = [(self.records[i], score + KEYWORD_WEIGHT * found[i] / max(len(tokens), 1))
                  for i, score in scores.items() if i in self.records]
        return sorted(ranked, key=lambda p: -p[1])[:k]

    def _documents_of(self, kind: str) -> list[tuple[str, str]]:
        """(id, document) of this process's records of ``kind``, cached until they change."""
        version, documents = self._documents.get(kind, (-1, []))
        if version != self.journal.version:
            documents = [(i, r.document()) for i, r in self.records.items() if r.kind == kind]
            self._documents[kind] = (self.journal.version, documents)
        return documents

    # -- integrity ---------------------------------------------------------------------------
    @property
    def quarantined(self) -> list[QuarantinedLine]:
        """Every journal line quarantined so far (kept in ``memory/quarantine.jsonl``)."""
        return self.journal.quarantined()

    def integrity_summary(self) -> str | None:
        """One line on what was wrong with the store and what was done (quarantined journal
        lines, records restored from the index, an index rebuilt), or None when nothing was."""
        parts = []
        lines = self.quarantined
        if lines:
            why = Counter(q.reason.split(":")[0] for q in lines)
            parts.append(f"{len(lines)} bad journal line{'s' * (len(lines) > 1)} quarantined in "
                         f"{self.journal.quarantine_path} ("
                         + ", ".join(f"{n} {reason}" for reason, n in why.most_common())
                         + "); the valid records were kept: read it, then delete it")
        if self.restored:
            parts.append(f"{self.restored} records the journal had lost were restored from "
                         "the index")
        if self.unrestorable:
            parts.append(f"{self.unrestorable} index entries the journal lost had no copy to "
                         "restore from")
        if self.broken_index:
            parts.append(f"the index could not be read and was rebuilt ({self.broken_index})")
        return "memory: " + "; ".join(parts) if parts else None

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
            records = [parse_record(_migrate(r, int(data["schema_version"])))
                       for r in data["records"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            detail = str(exc).splitlines()[0]
            raise MemoryStoreError(f"cannot import {path}: {detail}; nothing was "
                                   "imported") from None
        with self.journal.locked():
            self._catch_up()
            self._write(records)
        return len(records)


def _refuse_absurd(record: Finding | Skill) -> None:
    problem = absurd_values(record)
    if problem:
        raise MemoryStoreError(f"not storing {record.kind} {record.id}: {problem}")


def _migrated_line(raw: bytes, version: int) -> bytes:
    """A journal line brought up to SCHEMA_VERSION; a line that is not a JSON object is kept
    as it is (reading quarantines it)."""
    try:
        item = json.loads(raw)
    except ValueError:
        return raw
    return json.dumps(_migrate(item, version)).encode() if isinstance(item, dict) else raw


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
