"""The offline brain sends each kind of question to its recipe, with what the question names."""

from __future__ import annotations

import pytest

from climcopilot.agent.brains.offline import OfflineBrain
from climcopilot.agent.errors import BrainError
from climcopilot.agent.spec import read_question
from climcopilot.agent.state import Recall, RecalledSkill
from climcopilot.knowledge.records import Skill


def asked(question: str, **state: object) -> dict:
    """The state the offline brain plans from: the question and its spec."""
    return {"question": question, "spec": read_question(question), **state}

CASES = [
    ("What is the correlation between the SOI and the Niño-3 SST anomaly?",
     "two_series_correlation", {"series": ["soi", "nino3"]}),
    ("Does the SOI drive the Niño-3 SST anomaly, or the other way round?",
     "two_series_drivers", {"series": ["soi", "nino3"]}),
    ("What leads the Niño 1+2 sea surface temperature?", "what_leads", {"series": ["nino12"]}),
    ("Which indices lead All-India monsoon rainfall?", "what_leads", {"series": ["air"]}),
    ("Which of 3D-Var, EnKF and LETKF gives the lowest analysis error on Lorenz-96?",
     "da_method_comparison", {"methods": ["3dvar", "enkf", "letkf"]}),
    ("What is the analysis RMSE of the LETKF with 7 members, inflation 1.04 and localization "
     "radius 4 on Lorenz-96?", "da_twin_experiment",
     {"methods": ["letkf"], "settings": {"N": 7.0, "infl": 1.04, "loc_rad": 4.0}}),
    ("Does PCMCI recover the true links of the tigramite tutorial example?",
     "known_graph_discovery", {"causal_system": "tigramite_tutorial",
                               "causal_tool": "causal.pcmci"}),
    ("What is the Lyapunov time of the Lorenz-63 system?", "lyapunov_spectrum",
     {"system": "lorenz63"}),
    ("Is a learned parameterization of two-scale Lorenz-96 stable online?", "hybrid_closure",
     {"system": "lorenz96_two_scale"}),
    ("How long can a neural emulator forecast Lorenz-96 before it loses skill?",
     "emulator_skill", {"system": "lorenz96"}),
    ("Does the Niño-3.4 SST anomaly lead or lag the SOI, and by how many months?",
     "two_series_correlation", {"series": ["nino34", "soi"]}),
    ("What is the linear trend of the Niño 1+2 SST since 1950?", "series_trend",
     {"series": ["nino12"], "years": [1950]}),
    ("By how much did Mauna Loa CO2 rise between 1960-1969 and 1990-1999?", "period_change",
     {"series": ["co2"], "years": [1960, 1969, 1990, 1999]}),
    ("In which month is the Niño 1+2 SST highest and in which lowest, and how large is its "
     "seasonal cycle?", "seasonal_cycle", {"series": ["nino12"]}),
    ("What is the dominant period of the Niño-3 SST anomaly?", "dominant_period",
     {"series": ["nino3"]}),
    ("What share of the variance of North Atlantic winter 500 hPa geopotential height does "
     "the leading EOF explain?", "z500_eof", {"series": []}),
    ("With only 10 members, does the ETKF or the LETKF track Lorenz-96 better?",
     "da_method_comparison", {"methods": ["etkf", "letkf"], "settings": {"N": 10.0}}),
    ("What is the analysis RMSE of a particle filter with 800 particles on Lorenz-63 observed "
     "every 25 steps with observation error variance 2?", "da_twin_experiment",
     {"methods": ["pf"], "system": "lorenz63"}),
    ("What is the Kaplan-Yorke dimension of the Kuramoto-Sivashinsky equation?",
     "lyapunov_spectrum", {"system": "kuramoto_sivashinsky"}),
    ("What is the kinetic energy of 2-D Kolmogorov flow with forcing sin(4y) at Reynolds "
     "number 2 once it has settled?", "kolmogorov_laminar", {"system": "kolmogorov"}),
]


def test_a_skill_from_another_kind_of_question_gives_way_to_a_closer_recipe() -> None:
    climate = "What are the long-run mean and standard deviation of Lorenz-96 with F = 8?"
    skill = Skill(id="s1", key="system_climate", plan={"recipe": "system_climate"},
                  pattern=climate.lower(), brain="offline", successes=3, failures=0)
    recall = Recall(skills=[RecalledSkill(skill=skill, similarity=0.9)])
    state = asked("What is the sum of the Lyapunov exponents of Lorenz-96 with F = 8?",
                  recall=recall)
    assert OfflineBrain().plan(state)[1]["recipe"] == "lyapunov_spectrum"
    state = asked("What is the long-run standard deviation of Lorenz-96 with F = 8?",
                  recall=recall)
    assert OfflineBrain().plan(state)[1].get("skill") == "s1"  # its own kind: reused


@pytest.mark.parametrize("question, recipe, named", CASES)
def test_question_goes_to_its_recipe(question: str, recipe: str, named: dict) -> None:
    _, memo = OfflineBrain().plan(asked(question))
    assert memo["recipe"] == recipe
    assert {k: memo[k] for k in named} == named


def test_question_without_a_recipe_says_what_it_can_do() -> None:
    with pytest.raises(BrainError, match="no recipe for this question"):
        OfflineBrain().plan(asked("Will it rain in Boston on Friday?"))


SETUP_CASES = [
    ("What is the analysis RMSE of a particle filter with 800 particles on Lorenz-63 observed "
     "every 25 steps with observation error variance 2?",
     {"N": 800.0, "dko": 25.0, "obs_var": 2.0}),
    ("Run 3D-Var with xB = 0.1 on Lorenz-63, all variables observed every 25 model steps, obs "
     "error variance = 2, over 500 cycles.", {"xB": 0.1, "dko": 25.0, "obs_var": 2.0,
                                             "Ko": 500.0}),
    ("What is the analysis RMSE of the ETKF with 28 members, inflation 1.02 and random "
     "rotations on Lorenz-96?", {"N": 28.0, "infl": 1.02, "rot": 1.0}),
]


@pytest.mark.parametrize("question, settings", SETUP_CASES)
def test_question_states_the_twin_set_up(question: str, settings: dict) -> None:
    assert read_question(question).settings == settings


def first_call(question: str) -> tuple[str, dict]:
    """The recipe the offline brain picks and the arguments of its first tool call."""
    brain = OfflineBrain()
    _, memo = brain.plan(asked(question))
    action = brain.decide(asked(question, memo=memo, steps=[]))
    return memo["recipe"], action.arguments


def test_twin_experiment_runs_the_system_and_observations_the_question_names() -> None:
    recipe, args = first_call(
        "What is the analysis RMSE of a particle filter with 800 particles on Lorenz-63 "
        "observed every 25 steps with observation error variance 2?")
    assert recipe == "da_twin_experiment"
    assert {k: args[k] for k in ("system", "method", "N", "dko", "obs_var", "Ko")} == {
        "system": "lorenz63", "method": "pf", "N": 800, "dko": 25, "obs_var": 2.0, "Ko": 1000}


def test_twin_experiment_defaults_to_the_sakov_oke_set_up() -> None:
    _, args = first_call("What analysis RMSE does optimal interpolation give on Lorenz-96?")
    assert {k: args[k] for k in ("system", "dko", "obs_var", "Ko", "xB")} == {
        "system": "lorenz96", "dko": 1, "obs_var": 1.0, "Ko": 1000, "xB": 0.02}


def test_method_comparison_sweeps_the_ensemble_size_and_system_named() -> None:
    recipe, args = first_call(
        "Which of optimal interpolation, 3D-Var with xB = 0.1 and the ETKF with 10 members "
        "gives the lowest analysis error on Lorenz-63 observed every 25 steps with "
        "observation error variance 2?")
    assert recipe == "da_method_comparison"
    assert {k: args[k] for k in ("system", "methods", "Ns", "xB", "dko", "obs_var")} == {
        "system": "lorenz63", "methods": ["oi", "3dvar", "etkf"], "Ns": [10], "xB": 0.1,
        "dko": 25, "obs_var": 2.0}
    _, default = first_call("Which of 3D-Var, EnKF and LETKF gives the lowest analysis error "
                            "on Lorenz-96?")
    assert (default["system"], default["Ns"], default["xB"]) == ("lorenz96", [40], 0.02)
