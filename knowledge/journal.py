"""The journal, ``memory/journal.jsonl``: every record as written, the memory's source of truth.

One JSON object a line: a record (a later line with the same id replaces an earlier one) or
``{"kind": "forget", "id": ...}``. Reading and writing happen under an exclusive file lock
(:meth:`Journal.locked`), so several processes can write at once; each process keeps the byte
offset it has read up to and, under the lock, reads only what others appended since
(:meth:`Journal.catch_up`), so that read-modify-write updates (a ``seen`` or skill count) add up.

A line that is not a sound record (cut short by a crash, not UTF-8, not JSON, not a record,
absurd values) is never fatal: it is moved to ``memory/quarantine.jsonl`` with the reason, and
the journal is rewritten without it after a backup copy (``journal.<time>.bak.jsonl``). A last
record that lacks only its newline is kept. Rewrites replace the file atomically, so another
process notices them (new inode) and reads the journal afresh.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from climcopilot.knowledge.records import Finding, Skill, now, parse_record

FORGET = "forget"


@dataclass(frozen=True)
class Forget:
    """A journal entry that removes the record ``id``."""

    id: str


Entry = Finding | Skill | Forget


@dataclass(frozen=True)
class QuarantinedLine:
    """A journal line that was not a sound record: its 1-based line number when it was moved,
    why, its text (bytes that are not UTF-8 as surrogate escapes) and when it was moved."""

    line: int
    reason: str
    text: str
    moved: str


def parse_line(raw: bytes) -> Entry:
    """A journal line as an entry; ValueError saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    try:
        item = json.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if isinstance(item, dict) and item.get("kind") == FORGET:
        if not isinstance(item.get("id"), str):
            raise ValueError("not a record: a forget without an id")
        return Forget(item["id"])
    return parse_record(item)


def dump(entry: Entry) -> bytes:
    """The journal line of an entry, without its newline."""
    if isinstance(entry, Forget):
        return json.dumps({"kind": FORGET, "id": entry.id}).encode()
    return entry.model_dump_json().encode()


class Journal:
    """The journal file of one memory folder, and the records it holds now (``records``)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "journal.jsonl"
        self.quarantine_path = folder / "quarantine.jsonl"
        self._lock_path = folder / ".lock"
        self.records: dict[str, Finding | Skill] = {}
        self.mentioned: set[str] = set()  # ids of every record or forget line read
        self.version = 0  # grows whenever ``records`` changes
        self.backups: list[Path] = []  # copies this process made before rewriting
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file read
        self._offset = 0  # bytes of it read

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's exclusive lock (other processes wait)."""
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- reading (under the lock) ------------------------------------------------------------
    def catch_up(self) -> bool:
        """Read what was appended since the last read, or all of it when the file was replaced,
        shortened or removed since (then returns True); quarantine lines that are not sound
        records. Call under :meth:`locked`."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:  # removed since it was read (or never written)
            if self._identity is None and not self.records:
                return False
            self._restart(None)
            return True
        anew = (stat.st_dev, stat.st_ino) != self._identity or stat.st_size < self._offset
        if anew:
            self._restart((stat.st_dev, stat.st_ino))
        if stat.st_size == self._offset:
            return anew
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        entries, bad = _parse(data)
        if bad:  # quarantine, then read the cleaned journal from its start
            self._quarantine()
            return self.catch_up()
        self._offset += len(data)
        self._apply(entries)
        return anew

    def _restart(self, identity: tuple[int, int] | None) -> None:
        self.records, self.mentioned = {}, set()
        self.version += 1
        self._identity, self._offset = identity, 0

    def _apply(self, entries: list[Entry]) -> None:
        for entry in entries:
            self.mentioned.add(entry.id)
            if isinstance(entry, Forget):
                self.records.pop(entry.id, None)
            else:
                self.records[entry.id] = entry
        self.version += bool(entries)

    def _quarantine(self) -> None:
        """Move the journal's unsound lines to the quarantine file and rewrite it without them
        (after a backup copy)."""
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        if not lines[-1]:
            lines.pop()
        kept, moved = [], []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            reason = _problem(raw, last=number == len(lines) and not data.endswith(b"\n"))
            if reason is None:
                kept.append(raw)
            else:
                text = raw.decode("utf-8", "surrogateescape")
                moved.append(QuarantinedLine(number, reason, text, now()))
        with open(self.quarantine_path, "a") as f:
            f.write("".join(json.dumps(asdict(q)) + "\n" for q in moved))
            f.flush()
            os.fsync(f.fileno())
        self.rewrite(kept)

    def quarantined(self) -> list[QuarantinedLine]:
        """Every line quarantined so far (the quarantine file; lines of it that do not parse are
        skipped)."""
        if not self.quarantine_path.exists():
            return []
        out = []
        for text in self.quarantine_path.read_text(errors="replace").splitlines():
            try:
                out.append(QuarantinedLine(**json.loads(text)))
            except (ValueError, TypeError):
                continue
        return out

    # -- writing (under the lock) ------------------------------------------------------------
    def append(self, entries: list[Entry]) -> None:
        """Append entries. Call under :meth:`locked`, after :meth:`catch_up`."""
        data = b"".join(dump(e) + b"\n" for e in entries)
        with open(self.path, "ab+") as f:
            end = f.seek(0, os.SEEK_END)
            if end:
                f.seek(end - 1)
                if f.read(1) != b"\n":  # a last record written without its newline
                    data = b"\n" + data
            f.write(data)
        self._identity = self._identity or _identity(self.path)
        self._offset = end + len(data)
        self._apply(entries)

    def rewrite(self, lines: list[bytes], backup: Path | None = None) -> None:
        """Replace the journal by ``lines`` (without newlines), atomically, after copying it to
        ``backup`` (default ``journal.<time>.bak.jsonl``; listed in ``backups``). The next
        :meth:`catch_up` reads it from the start."""
        if self.path.exists():
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%f")
            backup = backup or self.path.with_name(f"journal.{stamp}.bak.jsonl")
            backup.write_bytes(self.path.read_bytes())
            self.backups.append(backup)
        temporary = self.path.with_name(self.path.name + ".new")
        with open(temporary, "wb") as f:
            f.write(b"".join(line + b"\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.path)
        self._restart(None)
        return backup


def _problem(raw: bytes, last: bool) -> str | None:
    """Why a journal line is not sound (``last``: the file's last line, without newline), or
    None."""
    try:
        parse_line(raw)
    except ValueError as exc:
        if last and str(exc) in ("not JSON", "not UTF-8"):
            return "cut short: an unfinished last line"
        return str(exc)
    return None


def _parse(data: bytes) -> tuple[list[Entry], bool]:
    """The entries of journal bytes, and whether any line was unsound."""
    entries, bad = [], False
    for raw in data.split(b"\n"):
        if raw.strip():
            try:
                entries.append(parse_line(raw))
            except ValueError:
                bad = True
    return entries, bad


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino
