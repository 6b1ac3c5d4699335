"""The evaluation harness: task files, scoring that can fail, and learning across passes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from conftest import run_cli

from climcopilot.agent.config import load_settings
from climcopilot.agent.eval_answerer import SessionAnswerer
from climcopilot.agent.session import Session
from climcopilot.evals.runner import run_suite
from climcopilot.evals.task import Expected, Task, load_suite
from climcopilot.evals.taskrun import all_called, in_order, right_arguments, run_task, score
from climcopilot.evals.trace import ToolCall, Trace

CORE = Path(__file__).resolve().parents[1] / "evals" / "tasks" / "core"


def test_a_partial_answer_scores_only_where_the_task_accepts_it(tmp_path: Path) -> None:
    # An external benchmark's question may read as naming conditions no tool applies; its
    # option letter is still scored. Elsewhere a partial answer fails, whatever its values.
    task = Task(id="t", level=2, family="benchmark", question="Which option? A) 1 B) 2",
                checker="climcopilot.evals.atmossci:option_b", accept_partial=True)
    reply = Trace(status="partial", reason="could not apply x", answer="Answer: B")
    assert run_task(task, tmp_path, lambda q, h, home: reply).passed
    strict = task.model_copy(update={"accept_partial": False})
    assert not run_task(strict, tmp_path, lambda q, h, home: reply).passed
    wrong = reply.model_copy(update={"answer": "Answer: C"})
    assert not run_task(task, tmp_path, lambda q, h, home: wrong).passed


def test_scoring_is_exact_about_tolerance_and_order() -> None:
    task = Task(id="t", level=1, family="data", question="q?????",
                expected={"r": Expected(value=-0.67, tol=0.03, source="published"),
                          "n": Expected(value=636, tol=0, source="identity")})
    assert score(task, Trace(status="done", values={"r": -0.69, "n": 636})) == 1.0
    assert score(task, Trace(status="done", values={"r": -0.71, "n": 636})) == 0.5
    assert score(task, Trace(status="done")) == 0.0
    assert in_order(["a", "c"], ["a", "b", "c"]) and not in_order(["c", "a"], ["a", "b", "c"])
    assert all_called(["c", "a"], ["a", "b", "c"]) and not all_called(["a", "a"], ["a", "b"])


def test_a_checker_is_one_more_item_of_credit(tmp_path: Path) -> None:
    task = Task(id="t", level=4, family="data", question="Plot the SOI and say its mean.",
                expected={"mean": Expected(value=0.0, tol=0.1, source="identity")},
                checker="climcopilot.evals.checkers:figure_written")
    figure = tmp_path / "soi.png"
    state = Trace(status="done", values={"mean": 0.05}, figures=[str(figure)])
    assert score(task, state) == 0.5  # the figure file does not exist yet
    figure.write_bytes(b"\x89PNG")
    assert score(task, state) == 1.0
    units_only = Task(id="u", level=4, family="data", question="Say the SOI's mean.",
                      checker="climcopilot.evals.checkers:numbers_have_units")
    assert score(units_only, Trace(status="done", values={"a": 1.0, "b": 2.0},
                                   units={"a": "hPa"})) == 0.5


def test_a_task_with_a_checker_that_does_not_load_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'id = "bad"\nlevel = 4\nfamily = "data"\nquestion = "Plot the SOI."\n'
        'checker = "climcopilot.evals.checkers:no_such_checker"\n')
    (tmp_path / "empty.toml").write_text(
        'id = "empty"\nlevel = 4\nfamily = "data"\nquestion = "Plot the SOI."\n')
    tasks, errors = load_suite(tmp_path)
    assert tasks == [] and len(errors) == 2
    assert "bad.toml" in errors[0] and "no_such_checker" in errors[0]
    assert "empty.toml" in errors[1] and "expected values, a checker" in errors[1]


def test_right_arguments_need_every_given_argument_in_one_call() -> None:
    calls = [ToolCall(tool="analysis.lag_correlation",
                      arguments={"a": "soi", "b": "nino3", "max_lag": 6}),
             ToolCall(tool="data.open_series", arguments={"name": "soi"})]
    assert right_arguments({"analysis.lag_correlation": {"max_lag": 6, "a": "soi"}}, calls)
    assert not right_arguments({"analysis.lag_correlation": {"max_lag": 12}}, calls)
    assert not right_arguments({"data.open_series": {"name": "nino3"}}, calls)
    assert not right_arguments({"diagnostics.eof": {}}, calls)  # never called


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
    honest = run_suite(task, SessionAnswerer(settings), home, memory="off")[0][0]
    wrong = run_suite(task, SessionAnswerer(settings, session_class=PerturbedSession), home,
                      memory="off")[0][0]
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


def test_new_task_fields_are_validated(tmp_path: Path) -> None:
    base = (CORE / "soi_nino3_correlation.toml").read_text().replace("smoke = true\n", "")
    (tmp_path / "a.toml").write_text("timeout_s = -5\n" + base)
    (tmp_path / "b.toml").write_text("smoke = \"yes please\"\n" + base)
    args = '\n[expected_args."analysis.lag_correlation"]\nmax_lag = 6\n'
    (tmp_path / "c.toml").write_text(base.replace('"soi_nino3_correlation"', '"c"') + args)
    tasks, errors = load_suite(tmp_path)
    assert [t.id for t in tasks] == ["c"]
    assert tasks[0].expected_args == {"analysis.lag_correlation": {"max_lag": 6}}
    assert any("a.toml: timeout_s:" in e for e in errors)
    assert any("b.toml: smoke:" in e for e in errors)
