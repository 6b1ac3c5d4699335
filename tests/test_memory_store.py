"""The memory store loses nothing: bad journal lines are quarantined, a lost journal is restored
from the index, concurrent read-modify-write updates add up (real files, real chromadb)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SOI_NINO3, run_cli

from climcopilot.knowledge.memory import Memory, MemoryStoreError
from climcopilot.knowledge.records import Finding, Skill

SOI = Finding(id="soi", question="Correlation of SOI and Nino-3?", claim="r = -0.67",
              key="corr|soi,nino3", values={"r": -0.67})
CO2 = Finding(id="co2", question="When does Mauna Loa CO2 peak?", claim="In May",
              key="cycle|co2")
SKILL = Skill(id="skill", pattern="correlate two indices", key="two_series_correlation",
              brain="offline", successes=2)


def journal_of(home: Path) -> Path:
    return home / "memory" / "journal.jsonl"


def append_bytes(data: bytes) -> Callable[[Path], None]:
    def fault(journal: Path) -> None:
        with open(journal, "ab") as f:
            f.write(data)
    return fault


def insert_before_last(data: bytes) -> Callable[[Path], None]:
    """A bad line between valid ones: the records after it must survive too."""
    def fault(journal: Path) -> None:
        lines = journal.read_bytes().splitlines(keepends=True)
        journal.write_bytes(b"".join(lines[:-1]) + data + lines[-1])
    return fault


RECORD = SOI.model_dump()
# fault -> (how it damages the journal, the reason the quarantine gives)
LINE_FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "cut line": (append_bytes(b'{"kind": "finding", "id": "half'), "cut short"),
    "garbage": (insert_before_last(b"\x00\x17 lorem ipsum }{\n"), "not JSON"),
    "non-record JSON": (insert_before_last(b'{"hello": "world", "id": 3}\n'), "not a record"),
    "foreign record without id": (
        insert_before_last(b'{"kind": "finding", "question": "q", "claim": "c"}\n'),
        "not a record: no id"),
    "non-UTF-8 bytes": (insert_before_last(b'{"kind": "finding", "id": "x\xff\xfe"}\n'),
                        "not UTF-8"),
    "seen below 1": (insert_before_last(json.dumps({**RECORD, "id": "z", "seen": 0}).encode()
                                        + b"\n"), "absurd values: seen=0"),
    "non-finite value": (insert_before_last(
        json.dumps({**RECORD, "id": "nan", "values": {"r": float("nan")}}).encode() + b"\n"),
        "absurd values: r=nan"),
    "negative skill count": (insert_before_last(
        json.dumps({**SKILL.model_dump(), "id": "neg", "failures": -3}).encode() + b"\n"),
        "absurd values: failures=-3"),
}


def seeded(home: Path) -> Memory:
    memory = Memory(home)
    for record in (SOI, CO2, SKILL):
        memory.put(record)
    return memory


def valid_lines(journal: Path) -> list[dict]:
    return [json.loads(line) for line in journal.read_text().splitlines()]


@pytest.mark.parametrize("fault", list(LINE_FAULTS))
def test_a_bad_journal_line_is_quarantined_and_nothing_valid_is_lost(tmp_path: Path,
                                                                     fault: str) -> None:
    seeded(tmp_path)
    damage, reason = LINE_FAULTS[fault]
    damage(journal_of(tmp_path))
    damaged = journal_of(tmp_path).read_bytes()
    memory = Memory(tmp_path)
    assert set(memory.records) == {"soi", "co2", "skill"}
    assert memory.get("soi").values == {"r": -0.67} and memory.get("skill").successes == 2
    (line,) = memory.quarantined
    assert line.reason.startswith(reason), line.reason
    # The journal as it was is backed up before the rewrite; the bad line is kept byte for byte.
    assert memory.journal.backups[0].read_bytes() == damaged
    assert line.text.encode("utf-8", "surrogateescape") in damaged
    assert [item["id"] for item in valid_lines(journal_of(tmp_path))] == ["soi", "co2", "skill"]
    summary = memory.integrity_summary()
    assert summary is not None and "1 bad journal line quarantined" in summary
    assert str(memory.journal.quarantine_path) in summary and "\n" not in summary
    # Quarantined once: a later open finds a clean journal, and the store still works.
    again = Memory(tmp_path)
    assert len(again.quarantined) == 1 and set(again.records) == {"soi", "co2", "skill"}
    assert again.search("SOI and Nino-3", k=1)[0][0].id == "soi"
    assert again.add(SOI.model_copy(update={"id": "new"})) == "soi"
    assert Memory(tmp_path).get("soi").seen == 2


def test_a_damaged_line_of_a_real_record_is_restored_from_the_index(tmp_path: Path) -> None:
    seeded(tmp_path)
    journal = journal_of(tmp_path)
    journal.write_bytes(journal.read_bytes().replace(b'"In May"', b'"In \xff May"'))
    memory = Memory(tmp_path)
    assert memory.quarantined[0].reason == "not UTF-8"
    assert memory.get("co2").claim == "In May" and memory.restored == 1  # the index's copy
    assert "1 records the journal had lost were restored" in memory.integrity_summary()


def test_a_last_record_without_newline_is_kept(tmp_path: Path) -> None:
    seeded(tmp_path)
    journal = journal_of(tmp_path)
    journal.write_bytes(journal.read_bytes().rstrip(b"\n"))  # complete, but no newline
    memory = Memory(tmp_path)
    assert set(memory.records) == {"soi", "co2", "skill"} and memory.quarantined == []
    memory.put(Finding(id="later", question="q", claim="c"))
    assert [item["id"] for item in valid_lines(journal)] == ["soi", "co2", "skill", "later"]
    assert memory.integrity_summary() is None


@pytest.mark.parametrize("loss", ["emptied", "removed"])
def test_a_lost_journal_is_restored_from_the_index(tmp_path: Path, loss: str) -> None:
    memory = seeded(tmp_path)
    memory.add(SOI.model_copy(update={"id": "again"}))  # seen 2: the index copy follows
    memory.forget("co2")
    journal = journal_of(tmp_path)
    journal.write_bytes(b"") if loss == "emptied" else journal.unlink()
    reopened = Memory(tmp_path)
    assert set(reopened.records) == {"soi", "skill"}  # the forgotten record stays forgotten
    assert reopened.get("soi").seen == 2 and reopened.get("skill").successes == 2
    assert reopened.restored == 2 and "restored from the index" in reopened.integrity_summary()
    assert {item["id"] for item in valid_lines(journal)} == {"soi", "skill"}
    assert Memory(tmp_path).restored == 0  # the journal holds them again


def test_a_journal_lost_while_a_process_holds_the_store(tmp_path: Path) -> None:
    memory = seeded(tmp_path)
    journal_of(tmp_path).unlink()
    memory.put(CO2.model_copy(update={"id": "co2b"}))  # reads the journal afresh first
    assert set(Memory(tmp_path).records) == {"soi", "co2", "skill", "co2b"}


def test_absurd_records_are_not_written(tmp_path: Path) -> None:
    memory = Memory(tmp_path)
    with pytest.raises(MemoryStoreError, match="not storing finding x: absurd values: seen=0"):
        memory.put(Finding(id="x", question="q", claim="c", seen=0))
    with pytest.raises(MemoryStoreError, match="r=inf"):
        memory.add(Finding(question="q", claim="c", values={"r": float("inf")}))
    assert not journal_of(tmp_path).exists() or journal_of(tmp_path).read_bytes() == b""


COUNTER = """
import sys
from pathlib import Path
from climcopilot.knowledge.memory import Memory
from climcopilot.knowledge.records import Finding
memory = Memory(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    if sys.argv[2] == "finding":
        memory.add(Finding(question=f"SOI and Nino-3, asked {i}", claim="r = -0.67",
                           key="corr|soi,nino3", values={"r": -0.67}))
    else:
        memory.count_skill("two_series_correlation", pattern="correlate two indices",
                           brain="offline", plan={"recipe": "two_series_correlation"},
                           success=True)
"""


@pytest.mark.parametrize("what", ["finding", "skill"])
def test_two_processes_counting_at_once_add_up(tmp_path: Path, what: str) -> None:
    # The first add of a finding creates it with seen=1 and each later agreeing add of it adds
    # 1, so 2 x 50 adds give seen=100; a skill's first success creates it with successes=1.
    Memory(tmp_path)
    logs = [(tmp_path / f"writer{n}.log").open("w") for n in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", COUNTER, str(tmp_path), what, "50"],
                              stderr=log) for log in logs]
    codes = [p.wait(timeout=600) for p in procs]
    for log in logs:
        log.close()
    assert codes == [0, 0], [Path(log.name).read_text()[-500:] for log in logs]
    memory = Memory(tmp_path)
    (record,) = memory.records.values()
    assert (record.seen if what == "finding" else record.successes) == 100
    journal_of(tmp_path).unlink()  # the index's copy followed every update
    (restored,) = Memory(tmp_path).records.values()
    assert restored == record


# -- through the real CLI -------------------------------------------------------------------
def without_newline(journal: Path) -> None:
    journal.write_bytes(journal.read_bytes().rstrip(b"\n"))


def emptied(journal: Path) -> None:
    journal.write_bytes(b"")


def removed(journal: Path) -> None:
    journal.unlink()


# fault -> (damage, what the store reports: a quarantine reason, "restored", or None)
STORE_FAULTS: dict[str, tuple[Callable[[Path], None], str | None]] = {
    "cut line": LINE_FAULTS["cut line"],
    "garbage": LINE_FAULTS["garbage"],
    "non-record JSON": LINE_FAULTS["non-record JSON"],
    "non-UTF-8 bytes": LINE_FAULTS["non-UTF-8 bytes"],
    "emptied journal": (emptied, "restored"),
    "missing journal, index kept": (removed, "restored"),
    "last record without newline": (without_newline, None),
}


def check_reported(home: Path, reported: str | None) -> None:
    """What ``Memory`` reports for the store after the CLI opened it."""
    memory = Memory(home)
    if reported is None:
        assert memory.integrity_summary() is None and memory.quarantined == []
    elif reported == "restored":  # this open finds the journal whole again; the CLI restored it
        assert memory.quarantined == [] and memory.restored == 0 and memory.records
        assert {item["id"] for item in valid_lines(journal_of(home))} == set(memory.records)
    else:
        (line,) = memory.quarantined
        assert line.reason.startswith(reported)
        assert "quarantined" in memory.integrity_summary()


@pytest.mark.parametrize("fault", list(STORE_FAULTS))
def test_memory_list_works_with_each_journal_fault(home: Path, fault: str) -> None:
    seeded(home)
    damage, reported = STORE_FAULTS[fault]
    damage(journal_of(home))
    listed = run_cli("memory", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {r["id"] for r in json.loads(listed.stdout)} == {"soi", "co2", "skill"}
    check_reported(home, reported)


@pytest.fixture(scope="module")
def asked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A home where one real offline ask stored its finding and skill, and that answer."""
    home = tmp_path_factory.mktemp("asked") / "home"
    answer = ask_in(home)
    assert len(answer["steps"]) > 0 and Memory(home).count() == 1
    return home, answer


def ask_in(home: Path) -> dict:
    proc = run_cli("ask", "--json", "--brain", "offline", SOI_NINO3,
                   env={"CLIMCOPILOT_HOME": str(home), "OPENAI_BASE_URL": "",
                        "CLIMCOPILOT_PLUGIN_PATHS": ""})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def ask_with_fault(asked: tuple[Path, dict], tmp_path: Path, damages: list[str]) -> Path:
    """Damage a copy of the asked home; the same question is still answered from memory."""
    seed, first = asked
    home = tmp_path / "home"
    shutil.copytree(seed, home)
    for fault in damages:
        STORE_FAULTS[fault][0](journal_of(home))
    again = ask_in(home)
    assert again["steps"] == [] and "Answered from memory" in again["answer"]
    assert again["values"] == first["values"]
    memory = Memory(home)
    assert memory.count() == 1 and memory.count("skill") == 1
    return home


@pytest.mark.slow
def test_ask_answers_from_memory_despite_bad_journal_lines(asked: tuple[Path, dict],
                                                           tmp_path: Path) -> None:
    home = ask_with_fault(asked, tmp_path, ["garbage", "non-UTF-8 bytes", "cut line"])
    assert len(Memory(home).quarantined) == 3


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(STORE_FAULTS))
def test_ask_works_with_each_journal_fault(asked: tuple[Path, dict], tmp_path: Path,
                                           fault: str) -> None:
    home = ask_with_fault(asked, tmp_path, [fault])
    check_reported(home, STORE_FAULTS[fault][1])
