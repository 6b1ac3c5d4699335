"""The AtmosSci-Bench adapter: the bundled questions become valid task files scored by the
option chosen, exactly; and ``climcopilot eval --brain openai`` runs them, with two core
tasks, end to end against a scripted model on the fake server (the kernel in reach), with
the hallucination count in the report."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import run_cli
from fake_openai import Competent, FakeOpenAI, Reply, executed, question_of

from climcopilot.evals import atmossci
from climcopilot.evals.errors import EvalError
from climcopilot.evals.evaluation import SUITES
from climcopilot.evals.task import load_suite
from climcopilot.evals.taskrun import score
from climcopilot.evals.trace import Trace

RAW = [json.loads(line) for line in atmossci.BUNDLED.read_text().splitlines()]


def test_bundled_questions_become_task_files_scored_by_the_option_chosen(tmp_path: Path
                                                                         ) -> None:
    # The published set: 670 questions, as its README counts them by type.
    assert len(RAW) == 670
    assert Counter(r["type"] for r in RAW) == {"Atmospheric Dynamics": 370,
                                                "Atmospheric Physics": 140, "Geophysics": 70,
                                                "Hydrology": 50, "Physical Oceanography": 40}
    atmossci.write_suite(atmossci.read_items(), tmp_path)
    tasks, errors = load_suite(tmp_path)
    assert errors == [] and len(tasks) == 670
    by_id = {t.id: t for t in tasks}
    for raw in RAW[::37]:
        task = by_id[f"atmossci_{raw['id'].lower()}"]
        assert raw["problem"].strip()[:40] in task.question
        for letter, option in zip("ABCD", raw["options"]):
            assert f"{letter}. {' '.join(option.split())}" in task.question
        for letter in "ABCD":  # credit for the right letter only, as the last one stated
            trace = Trace(status="done", answer=f"Perhaps D.\n\nAnswer: {letter}")
            assert score(task, trace) == float(letter == raw["correct_option"])
        assert score(task, Trace(status="done", answer="It is about a third.")) == 0.0
    assert (atmossci.BUNDLED.parent / "LICENSE").read_text().startswith("MIT License")


def test_bad_question_files_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(RAW[0]) + "\n" + json.dumps({**RAW[1], "options": ["x"]}) + "\n")
    with pytest.raises(EvalError, match=r"bad.jsonl:2: options: .*each line must be one"):
        atmossci.read_items(bad)
    assert atmossci.main(["--from", str(tmp_path / "missing.jsonl"), "--to",
                          str(tmp_path / "out")]) == 1


CHOICES = {0: "right", 1: "right", 2: "wrong"}  # what the scripted model answers


def model(body: dict) -> Reply:
    """A scripted model: multiple-choice questions get one run_python step, then a right
    or wrong option as scripted; core questions are answered competently, except that the
    Nino-3.4/ONI answer states a number no step produced."""
    question = question_of(body)
    if not question.startswith("AtmosSci-Bench"):
        invented = "r = 0.42" if "Oceanic" in question else None
        return Competent(answer=invented)(body)
    number = next(i for i, raw in enumerate(RAW) if raw["problem"].strip()[:60] in question)
    if not body.get("tools"):
        return {"content": "1. run_python: compute the options' values"}
    if not executed(body):
        return {"tool": "run_python", "arguments": json.dumps({"code": "print(2 * 21)"})}
    right = RAW[number]["correct_option"]
    letter = right if CHOICES[number] == "right" else "ABCD"[("ABCD".index(right) + 1) % 4]
    return {"content": f"The kernel printed 42, which settles it.\n\nAnswer: {letter}"}


def test_eval_runs_atmossci_and_core_tasks_against_an_endpoint(home: Path, tmp_path: Path
                                                                ) -> None:
    suite = tmp_path / "suite"
    atmossci.write_suite(atmossci.read_items()[:3], suite)
    for task in ("soi_nino3_correlation", "nino34_oni_correlation"):
        shutil.copy(SUITES / "core" / f"{task}.toml", suite)
    with FakeOpenAI(policy=model) as server:
        proc = run_cli("eval", "--suite", str(suite), "--brain", "openai", "--model", "m",
                       "--memory", "off", "--out", str(tmp_path / "out"), timeout=400,
                       env={"OPENAI_BASE_URL": server.base_url})
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = {r["task_id"]: r for r in json.loads((tmp_path / "out" / "report.json")
                                                .read_text())["passes"][0]["runs"]}
    for number, verdict in CHOICES.items():
        run = runs[f"atmossci_{RAW[number]['id'].lower()}"]
        assert run["passed"] is (verdict == "right") and run["steps"] == 1, run
    assert runs["soi_nino3_correlation"]["passed"] and \
        runs["soi_nino3_correlation"]["hallucinated"] == 0
    assert runs["nino34_oni_correlation"]["hallucinated"] == 1
    assert all(r["prompt_tokens"] for r in runs.values())
