"""The checks that hold an answer to its question: faithfulness (every number stated traces to
what the run produced), coverage (every condition of the question applied, or the answer is
partial and names it), and what each lets into memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import findings_in, package_indices

from climcopilot.agent.brains.offline import OfflineBrain
from climcopilot.agent.brains.scripted import ScriptedBrain
from climcopilot.agent.config import load_settings
from climcopilot.agent.coverage import unapplied
from climcopilot.agent.faithfulness import unsourced, written
from climcopilot.agent.outcome import outcome_of
from climcopilot.agent.session import Session
from climcopilot.agent.spec import read_question
from climcopilot.agent.steps import Action, Step
from climcopilot.sandbox.observation import Observation


def test_numbers_inside_names_are_not_numbers_of_the_answer() -> None:
    text = "Niño-3.4 and HadCRUT5 with CO2 under 3D-Var on Lorenz-96: r = -0.67, p = 4e-21"
    assert [n for n, _ in written(text)] == [-0.67, 4e-21]


def test_a_number_traces_as_written_or_through_a_unit_conversion() -> None:
    produced = [-0.6657675, 18.706, 0.4905]
    assert unsourced("r = -0.67, trend 18.7 per decade, 1.87 per year, 49.1 %", produced) == []
    assert unsourced("r = -0.62", produced) == ["-0.62"]  # close, but not what was produced
    assert unsourced("about 2.5 times as much", produced) == ["2.5"]


def test_references_to_steps_and_figures_state_no_value() -> None:
    text = "1. r = -0.67 from steps 1-2, shown in figure 1\n2. Step 3 printed a trend of 4.2"
    assert unsourced(text, [-0.6657675]) == ["4.2"]  # only the value no step produced
    assert unsourced("the 3 models disagree", []) == ["3"]  # a count is a value


def step(number: int, tool: str, arguments: dict, result: dict | None = None) -> Step:
    action = Action(kind="tool", tool=tool, arguments=arguments)
    return Step(number=number, action=action,
                observation=Observation(cell=number, code="", ok=True, result=result,
                                        source="tool", trusted=True))


def test_coverage_names_each_condition_no_step_applied() -> None:
    spec = read_question("What is the trend of summer (JJAS) All-India rainfall over "
                         "1950-2000, after removing the seasonal cycle?")
    opened = step(1, "data.open_series", {"name": "air"}, {"frequency": "monthly"})
    whole = [opened, step(2, "analysis.trend", {"handle": "air"})]
    missing = unapplied(spec, whole)
    assert [m.split(":")[0] for m in missing] == ["period 1950-2000", "season JJAS",
                                                   "seasonal_mean", "anomalies"]
    applied = [opened, step(2, "analysis.subset", {"handle": "air", "start": 1950, "end": 2000,
                                                   "season": "jjas", "seasonal_mean": True}),
               step(3, "analysis.anomalies", {"handle": "x"}), step(4, "analysis.trend", {})]
    assert unapplied(spec, applied) == []


def ask(home: Path, question: str, script: list[dict] | None = None) -> dict:
    settings = load_settings("scripted" if script is not None else "offline")
    brain = ScriptedBrain(script) if script is not None else OfflineBrain()
    with Session(settings, brain) as session:
        return session.ask(question)


OPEN_SOI = {"tool": "data.open_series", "arguments": {"name": "soi"}}


def test_a_number_no_step_produced_is_unverified_and_not_remembered(home: Path) -> None:
    invented = ask(home, "How many monthly values does the SOI record hold?",
                   [OPEN_SOI, {"answer": "The SOI record holds 912 monthly values."}])
    outcome = outcome_of(invented)
    assert outcome.status == "done" and not outcome.verified
    assert "912" in outcome.text and "**unverified**" in outcome.text
    assert findings_in(home) == 0
    honest = ask(home, "How many monthly values does the SOI record hold?",
                 [OPEN_SOI, {"answer": "The SOI record holds 828 monthly values."}])
    assert outcome_of(honest).verified and findings_in(home) == 1


def test_a_condition_no_tool_supports_makes_the_answer_partial(home: Path) -> None:
    pair = [OPEN_SOI, {"tool": "data.open_series", "arguments": {"name": "nino3"}},
            {"tool": "analysis.align", "arguments": {"a": "soi", "b": "nino3"}},
            {"tool": "analysis.lag_correlation",
             "arguments": {"a": "soi_aligned", "b": "nino3_aligned"}},
            {"answer": "They are strongly anti-correlated."}]
    state = ask(home, "What is the Spearman rank correlation between the SOI and Niño-3?",
                pair)
    outcome = outcome_of(state)
    assert outcome.status == "partial" and "rank correlation" in (outcome.reason or "")
    assert "I could not apply a rank correlation" in outcome.text
    assert "checks: all passed" not in outcome.text and findings_in(home) == 0


def test_offline_names_a_season_an_annual_record_cannot_have(home: Path) -> None:
    outcome = outcome_of(ask(home, "What is the trend of winter (DJF) HadCRUT5 since 1950?"))
    assert outcome.status == "partial" and "season DJF" in (outcome.reason or "")
    assert "annual" in outcome.text and findings_in(home) == 0


def test_impossible_years_are_a_one_line_error_not_a_default(home: Path) -> None:
    outcome = outcome_of(ask(home, "How much warmer was 3011-3020 than 1850-1900 in "
                                   "HadCRUT5?"))
    assert outcome.status == "failed" and "3011" in (outcome.reason or "")
    assert "\n" not in (outcome.reason or "") and findings_in(home) == 0


def test_a_condition_on_the_data_values_is_named_not_dropped(home: Path) -> None:
    # "during El Nino years" selects time steps by the data's own values: no tool does that,
    # so the answer over every month must say so, and is not stored as verified.
    outcome = outcome_of(ask(home, "What is the correlation between the SOI and Niño-3 "
                                   "during El Niño years?"))
    assert outcome.status == "partial" and "El Nino years" in (outcome.reason or "")
    assert "checks: all passed" not in outcome.text and findings_in(home) == 0


def test_a_period_the_data_cover_in_part_is_answered_over_the_overlap_and_named(
        home: Path) -> None:
    # The SOI starts in 1951-01: 1950-1979 is answered over 1951-01 to 1979-12, and the answer
    # says so (partial, nothing stored as verified for the period asked).
    soi, _, nino34 = package_indices()
    both = pd.concat([soi, nino34], axis=1, join="inner").dropna()
    both = both[(both.index >= 195001) & (both.index <= 197912)]
    r_direct = float(np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1])
    outcome = outcome_of(ask(home, "What is the correlation between Niño-3.4 and the SOI over "
                                   "1950-1979?"))
    assert outcome.status == "partial" and outcome.values["r"] == pytest.approx(r_direct,
                                                                                 abs=1e-9)
    assert "period 1950-1979 in full: soi starts 1951-01" in (outcome.reason or "")
    assert "1951-01 to 1979-12" in outcome.text and findings_in(home) == 0
