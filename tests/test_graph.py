"""The graph's control flow with the scripted brain: loops, budgets, checks, resume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import findings_in

from climcopilot.agent.brains.scripted import ScriptedBrain
from climcopilot.agent.config import load_settings
from climcopilot.agent.session import Session
from climcopilot.agent.state import initial_state

OPEN_SOI = {"tool": "data.open_series", "arguments": {"name": "soi"}}
MISSING = {"tool": "analysis.align", "arguments": {"a": "soi", "b": "no_such_handle"}}


def ask(script: list[dict], question: str = "Correlate the SOI with Nino-3", **settings):
    with Session(replace(load_settings("scripted"), **settings), ScriptedBrain(script)) as s:
        return s.ask(question)


def test_same_failing_action_twice_replans_then_stops(home: Path) -> None:
    # The scripted brain repeats itself: after a re-plan it fails the same way again. What
    # step 1 found is answered as partial, naming why the rest was not done.
    state = ask([OPEN_SOI, MISSING, MISSING, MISSING, MISSING])
    assert state["status"] == "partial"
    assert "stuck:" in state["reason"] and "no_such_handle" in state["reason"]
    assert state["replans"] == 1 and len(state["steps"]) == 4
    assert findings_in(home) == 0  # a partial answer is not remembered


def test_stuck_with_nothing_found_is_a_failure(home: Path) -> None:
    state = ask([MISSING] * 5)
    assert state["status"] == "failed" and state["reason"].startswith("stuck:")
    assert state["replans"] == 1 and len(state["steps"]) == 3


def test_step_budget_stops_the_run_with_a_partial_answer(home: Path) -> None:
    # The brain repeats one call: it runs once; the repeats are refused, not run again.
    state = ask([OPEN_SOI] * 10, step_budget=3)
    assert state["status"] == "partial" and "budget of 3" in state["reason"]
    assert len(state["steps"]) == 3 and state["steps"][0].ok
    assert all(s.observation.error.startswith("repeated: this exact call already ran as "
                                              "step 1") for s in state["steps"][1:])
    assert findings_in(home) == 0


def test_nothing_found_within_the_budget_is_a_failure(home: Path) -> None:
    state = ask([MISSING] * 10, step_budget=1)
    assert state["status"] == "failed" and "no step succeeded" in state["reason"]


def test_free_code_cell_shares_the_kernel_with_tools(home: Path) -> None:
    state = ask([OPEN_SOI, {"code": "print(round(float(soi.values[0]), 2))"},
                 {"answer": "done"}], "Print the first SOI value")
    assert state["status"] == "done"
    assert state["steps"][1].observation.stdout.strip() == "1.5"  # first row of the file


def test_failed_check_is_flagged_and_not_remembered(home: Path) -> None:
    # Two series of 26 months: lag correlation runs, but n_eff < 10 fails its own check.
    script = [{"tool": "data.open_series", "arguments": {"name": "soi", "end": "1952-02"}},
              {"tool": "data.open_series", "arguments": {"name": "nino3", "start": "1951",
                                                         "end": "1952-02"}},
              {"tool": "analysis.lag_correlation",
               "arguments": {"a": "soi", "b": "nino3", "max_lag": 1}},
              {"answer": "weak evidence"}]
    state = ask(script)
    assert state["status"] == "done" and state["evidence"].verified is False
    assert "**unverified**" in state["answer"] and "enough independent samples" in state["answer"]
    assert state["finding_id"] is None


def test_session_resumes_by_id_after_a_stop(home: Path) -> None:
    script = [OPEN_SOI, {"tool": "data.open_series", "arguments": {"name": "nino3"}},
              {"tool": "analysis.lag_correlation", "arguments": {"a": "soi", "b": "nino3"}},
              {"answer": "resumed"}]
    settings = load_settings("scripted")
    with Session(settings, ScriptedBrain(script)) as first:
        inputs = initial_state("Correlate the SOI with Nino-3", first.id)
        observed = 0
        for update in first.graph.stream(inputs, first._config(first.id),
                                         context=first.services, stream_mode="updates"):
            observed += "observe" in update
            if observed == 2:
                break  # the process "stops" after two steps; the checkpoint holds them
        session_id = first.id
    with Session(settings, ScriptedBrain(script), session_id) as second:
        state = second.resume()
    assert state["status"] == "done" and len(state["steps"]) == 3
    assert abs(state["evidence"].values["r"] + 0.67) <= 0.03  # soi, nino3 replayed in the kernel


def test_unknown_session_cannot_resume(home: Path) -> None:
    from climcopilot.agent.errors import BrainError

    with Session(load_settings("scripted"), ScriptedBrain([]), "nope") as s:
        with pytest.raises(BrainError, match="no session 'nope'"):
            s.resume()


def test_kernel_death_midway_is_reported_and_state_replayed(home: Path) -> None:
    state = ask([OPEN_SOI, {"code": "import os\nos._exit(1)"},
                 {"code": "print(float(soi.values[0]))"}, {"answer": "done"}])
    died = state["steps"][1].observation
    assert died.kernel_restarted and "replayed 1 of 1 earlier cells" in died.error
    assert state["steps"][2].observation.stdout.strip() == "1.5"  # soi was rebuilt
