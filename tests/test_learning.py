"""Memory that evolves, across processes: skills are reused, verified findings answer again."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SOI_NINO3, findings_in, run_cli


def ask_json(*question: str) -> dict:
    proc = run_cli("ask", "--json", "--brain", "offline", *question)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_later_process_counts_skills_and_reuses_findings(home: Path) -> None:
    first = ask_json(SOI_NINO3)
    assert len(first["steps"]) == 5 and "Reused skill" not in first["answer"]
    # A different question of the same kind, in a new process: composed the same way (the
    # offline composer needs no skill to pick its plan), and counted for the same skill.
    other = ask_json("How is the ONI related to All-India monsoon rainfall?")
    assert len(other["steps"]) == 5 and other["values"]["n"] > 1000
    assert other["values"]["r"] != first["values"]["r"]
    # The first question again: answered from the verified finding, with no new steps.
    again = ask_json(SOI_NINO3)
    assert again["steps"] == [] and "Answered from memory" in again["answer"]
    assert again["values"] == first["values"]
    assert findings_in(home) == 2  # the repeat was merged into the first finding
    shown = json.loads(run_cli("memory", "list", "--json").stdout)
    skill = next(r for r in shown if r["kind"] == "skill")
    assert skill["successes"] == 3 and skill["failures"] == 0
    bad = run_cli("memory", "feedback", again["session_id"], "bad")
    assert bad.returncode == 0
    shown = json.loads(run_cli("memory", "list", "--json").stdout)
    assert next(r for r in shown if r["kind"] == "skill")["failures"] == 1


def test_memory_cli_bad_input_is_one_line(home: Path, tmp_path: Path) -> None:
    missing = run_cli("memory", "forget", "no-such-id")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert "no record 'no-such-id'" in missing.stderr
    malformed = tmp_path / "export.json"
    malformed.write_text('{"schema_version": 2, "records": [{"kind": "skill"}]}')
    imported = run_cli("memory", "import", str(malformed))
    assert imported.returncode == 1 and "nothing was imported" in imported.stderr
    assert imported.stderr.count("\n") == 1 and findings_in(home) == 0


def test_unwritable_home_is_one_line(home: Path) -> None:
    proc = run_cli("memory", "list", env={"CLIMCOPILOT_HOME": "/proc/climcopilot-test"})
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "cannot write the memory store" in proc.stderr
