"""The evaluation harness: task files, scoring that can fail, and learning across passes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from conftest import run_cli

from climcopilot.agent.brains.offline import OfflineBrain
from climcopilot.agent.config import load_settings
from climcopilot.agent.session import Session
from climcopilot.evals.runner import in_order, run_suite, score
from climcopilot.evals.task import Expected, Task, load_suite

CORE = Path(__file__).resolve().parents[1] / "evals" / "tasks" / "core"


def test_scoring_is_exact_about_tolerance_and_order() -> None:
    task = Task(id="t", level=1, family="data", question="q?????",
                expected={"r": Expected(value=-0.67, tol=0.03, source="published"),
                          "n": Expected(value=636, tol=0, source="identity")})
    assert score(task, {"r": -0.69, "n": 636}) == 1.0
    assert score(task, {"r": -0.71, "n": 636}) == 0.5
    assert score(task, {}) == 0.0
    assert in_order(["a", "c"], ["a", "b", "c"]) and not in_order(["c", "a"], ["a", "b", "c"])


def test_malformed_task_file_is_named_and_the_rest_runs(home: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(CORE / "soi_nino3_correlation.toml", suite)
    (suite / "broken.toml").write_text('id = "broken"\nlevel = "high"\nfamily = "data"\n')
    (suite / "not_toml.toml").write_text("this is [ not toml")
    tasks, errors = load_suite(suite)
    assert [t.id for t in tasks] == ["soi_nino3_correlation"]
    assert any("broken.toml: level:" in e for e in errors)
    assert any("not_toml.toml: not valid TOML" in e for e in errors)
    proc = run_cli("eval", "--suite", str(suite), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["passes"][0]["summary"]["passed"] == 1
    assert "broken.toml: level" in proc.stderr


class PerturbedSession(Session):
    """A deliberately wrong tool: lag correlations come back 0.1 too high."""

    def execute(self, action):
        obs = super().execute(action)
        if action.tool == "analysis.lag_correlation" and obs.result:
            obs.result["values"]["r"] += 0.1
        return obs


def test_a_wrong_tool_makes_its_tasks_fail(home: Path) -> None:
    tasks, _ = load_suite(CORE)
    task = [t for t in tasks if t.id == "soi_nino3_correlation"]
    settings = replace(load_settings("offline"), home=home)
    brain = OfflineBrain()
    honest = run_suite(task, settings, lambda s: Session(s, brain), memory="off")[0][0]
    wrong = run_suite(task, settings, lambda s: PerturbedSession(s, brain), memory="off")[0][0]
    assert honest.passed and not wrong.passed and wrong.score == 0.0


def test_second_pass_learns_from_the_first(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    ids = ["soi_nino3_correlation", "nino34_oni_correlation", "soi_air_correlation"]
    proc = run_cli("eval", "--memory", "fresh", "--repeat", "2", "--out", str(out),
                   *[a for i in ids for a in ("--task", i)])
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    first, second = (p["summary"] for p in report["passes"])
    assert second["pass_rate"] >= first["pass_rate"] == 1.0
    assert report["comparison"]["step_reduction"] >= 0.3
    assert "First vs last pass" in (out / "report.md").read_text()
