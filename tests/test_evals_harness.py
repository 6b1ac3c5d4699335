"""The harness around the tasks: timeouts that stop the work, Dask runs, tokens over HTTP, the
smoke subset, comparisons and plots."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from conftest import run_cli
from fake_openai import FakeOpenAI

from climcopilot.agent.cli import main
from climcopilot.agent.config import load_settings
from climcopilot.agent.eval_answerer import SessionAnswerer
from climcopilot.agent.events import ignore
from climcopilot.agent.session import Session
from climcopilot.agent.steps import Action
from climcopilot.evals.report import summarize
from climcopilot.evals.runner import run_suite
from climcopilot.evals.task import load_suite
from climcopilot.evals.taskrun import TaskRun

CORE = Path(__file__).resolve().parents[1] / "evals" / "tasks" / "core"


def processes_in(folder: Path) -> list[psutil.Process]:
    """Live processes working in ``folder`` (cwd under it, or it on their command line)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if (proc.cwd().startswith(str(folder)) or str(folder) in " ".join(proc.cmdline())):
                found.append(proc)
        except psutil.Error:
            continue
    return found


HEARTBEAT = ("import pathlib, time\n"
             "while True:\n"
             "    pathlib.Path('beat').write_text(str(time.time()))\n"
             "    time.sleep(0.1)\n")


class StuckSession(Session):
    """A session that, asked the question "stuck?", runs a never-ending cell in its kernel
    (it writes a heartbeat file in the workspace); other questions go the normal way."""

    def ask(self, question, render=ignore):
        if question != "stuck?":
            return super().ask(question, render)
        self.execute(Action(kind="code", code=HEARTBEAT))
        raise AssertionError("the heartbeat cell ended")


def test_a_timeout_stops_the_task_and_its_kernel_and_the_smoke_suite_still_passes(
        home: Path) -> None:
    """The stuck task is recorded as failed at its timeout_s, its kernel is gone (its
    heartbeat stops, no process works in the home), and the smoke tasks after it still pass
    with the offline brain."""
    tasks, _ = load_suite(CORE)
    smoke = [t for t in tasks if t.smoke]
    assert smoke, "no core task is tagged smoke = true"
    stuck = smoke[0].model_copy(update={"id": "stuck", "question": "stuck?", "timeout_s": 12})
    settings = replace(load_settings("offline"), home=home)
    [runs] = run_suite([stuck, *smoke], SessionAnswerer(settings, session_class=StuckSession),
                       home, memory="keep", timeout=300)
    assert runs[0].error == "timeout after 12 s" and not runs[0].passed
    assert 12 <= runs[0].wall_s < 13  # stopped at the limit
    assert [r.task_id for r in runs[1:]] == [t.id for t in smoke]
    assert all(r.passed and r.error is None for r in runs[1:]), [r.error for r in runs]
    # The stuck cell had run (it wrote its heartbeat), and nothing of it is left running.
    [beat] = home.glob("sessions/*/beat")
    last = beat.stat().st_mtime
    time.sleep(1.0)
    assert beat.stat().st_mtime == last
    assert processes_in(home) == []


def smoke_replies(tasks: list[str]) -> list[dict]:
    """What a model would answer for the smoke tasks (correlation of two named series), with
    distinct token counts per reply."""
    series = {"soi_nino3_correlation": ("soi", "nino3"),
              "nino34_oni_correlation": ("nino34", "oni")}
    replies = []
    for task in tasks:
        a, b = series[task]
        replies += [{"content": f"1. open {a} and {b}\n2. correlate"},
                    {"tool": "data__open_series", "arguments": json.dumps({"name": a})},
                    {"tool": "data__open_series", "arguments": json.dumps({"name": b})},
                    {"tool": "analysis__lag_correlation",
                     "arguments": json.dumps({"a": a, "b": b, "max_lag": 6})},
                    {"content": f"{a} and {b} are correlated."}]
    return [{**r, "usage": {"prompt_tokens": 100 + 17 * i, "completion_tokens": 3 + i}}
            for i, r in enumerate(replies)]


def test_smoke_suite_with_the_openai_brain_over_http_counts_tokens_and_cost(
        home: Path, tmp_path: Path) -> None:
    tasks, _ = load_suite(CORE)
    smoke = [t.id for t in tasks if t.smoke]
    assert smoke, "no core task is tagged smoke = true"
    replies = smoke_replies(smoke)
    with FakeOpenAI(replies) as server:
        proc = run_cli("eval", "--suite", str(CORE), "--smoke", "--brain", "openai",
                       "--model", "fake-model-2", "--memory", "off", "--price-in", "0.5",
                       "--price-out", "1.5", "--out", str(tmp_path / "out"),
                       env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"})
    assert proc.returncode == 0, proc.stderr
    assert len(server.requests) == len(replies)
    assert {r["model"] for r in server.requests} == {"fake-model-2"}
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["brain"] == "openai" and report["model"] == "fake-model-2"
    runs = report["passes"][0]["runs"]
    assert [r["task_id"] for r in runs] == sorted(smoke) and all(r["passed"] for r in runs)
    for n, run in enumerate(runs):  # five requests per task, in task order
        mine = replies[5 * n:5 * n + 5]
        assert run["prompt_tokens"] == sum(r["usage"]["prompt_tokens"] for r in mine)
        assert run["completion_tokens"] == sum(r["usage"]["completion_tokens"] for r in mine)
        assert run["right_args"] is None or run["right_args"]
    total = report["passes"][0]["summary"]
    prompt = sum(r["usage"]["prompt_tokens"] for r in replies)
    completion = sum(r["usage"]["completion_tokens"] for r in replies)
    assert (total["prompt_tokens"], total["completion_tokens"]) == (prompt, completion)
    assert total["cost_usd"] == pytest.approx((0.5 * prompt + 1.5 * completion) / 1000)
    assert f"tokens: {prompt} in, {completion} out" in (tmp_path / "out" / "report.md").read_text()
    for plot in ("pass_rates.png", "passes.png"):
        assert (tmp_path / "out" / plot).read_bytes()[:4] == b"\x89PNG"
        assert (tmp_path / "out" / plot).stat().st_size > 1000


@pytest.mark.slow
def test_smoke_suite_offline_on_dask_passes_and_writes_plots(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli("eval", "--suite", str(CORE), "--smoke", "--parallel", "2", "--memory", "off",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    total = report["passes"][0]["summary"]
    assert report["parallel"] == 2 and total["passed"] == total["tasks"] >= 2
    assert all(g["pass_rate"] == 1.0 for g in total["by_family"].values())
    for plot in ("pass_rates.png", "passes.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / plot).stat().st_size > 1000


def saved_report(brain: str, memory: str, passed: dict[str, bool]) -> dict:
    """A report as `eval --out` saves it, built by hand."""
    runs = [{"task_id": t, "level": 1 + i % 2, "family": "data", "passed": ok,
             "score": float(ok), "steps": 4, "tool_calls": 4, "right_tools": True,
             "right_order": True, "right_args": None, "prompt_tokens": None,
             "completion_tokens": None, "wall_s": 2.0, "values": {}, "error": None,
             "cost_usd": None} for i, (t, ok) in enumerate(passed.items())]
    summary = summarize([TaskRun.model_validate(r) for r in runs])
    return {"suite": "core", "brain": brain, "model": None, "memory": memory,
            "passes": [{"summary": summary, "runs": runs}], "comparison": None,
            "skipped_files": []}


def test_compare_two_saved_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = saved_report("offline", "off", {"t1": True, "t2": True, "t3": False, "t4": True})
    b = saved_report("offline", "fresh", {"t1": True, "t2": False, "t3": True, "t4": True})
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    assert main(["eval", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                 "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "| pass rate | 75% | 75% |" in lines
    assert "| level 1 | 50% | 100% |" in lines  # t1, t3 are level 1; t2, t4 level 2
    assert "| level 2 | 100% | 50% |" in lines
    assert "- t2: pass -> fail" in lines and "- t3: fail -> pass" in lines
    assert "- t1: pass -> pass" not in lines
    assert "memory off" in out and "memory fresh" in out
    assert (tmp_path / "cmp" / "compare.md").read_text() == out.rstrip("\n")
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 1000


@pytest.mark.parametrize("option, value, says", [
    ("--timeout", "0", "positive number of seconds"), ("--parallel", "0", "whole number >= 1"),
    ("--price-in", "-1", "price >= 0"), ("--compare", "missing.json", "cannot read report"),
    ("--suite", "no_such_suite", "no suite")])
def test_bad_options_are_one_line_usage_errors(option: str, value: str, says: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = ["eval", option, value] + (["missing.json"] if option == "--compare" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert option in err and says in err and err.count("\n") == 1, err


@pytest.mark.slow
def test_parallel_run_gives_the_same_results_as_a_sequential_run(home: Path) -> None:
    """On the level-1 tasks (lookups and statistics: deterministic)."""
    tasks = [t for t in load_suite(CORE)[0] if t.level == 1]
    settings = replace(load_settings("offline"), home=home)
    sequential = run_suite(tasks, SessionAnswerer(settings), home, memory="off")[0]
    parallel = run_suite(tasks, SessionAnswerer(settings), home, memory="off", parallel=2)[0]
    assert [r.task_id for r in parallel] == [t.id for t in tasks]
    assert [(r.passed, r.score, r.steps) for r in parallel] == \
        [(r.passed, r.score, r.steps) for r in sequential]


class DyingSession(Session):
    """A session whose process dies as soon as it is asked anything."""

    def ask(self, question, render=ignore):
        os._exit(3)


@pytest.mark.slow
def test_a_dead_worker_is_a_failed_task_and_the_run_goes_on(home: Path) -> None:
    tasks, _ = load_suite(CORE)
    settings = replace(load_settings("offline"), home=home)
    [runs] = run_suite(tasks[:2], SessionAnswerer(settings, session_class=DyingSession), home,
                       memory="off")
    assert [r.task_id for r in runs] == [t.id for t in tasks[:2]]
    assert all(r.error.startswith("worker died (exit status 3)") and not r.passed for r in runs)
