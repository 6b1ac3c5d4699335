"""The offline brain sends each kind of question to its recipe, with what the question names."""

from __future__ import annotations

import pytest

from climcopilot.agent.brains.base import BrainError
from climcopilot.agent.brains.offline import OfflineBrain

CASES = [
    ("What is the correlation between the SOI and the Niño-3 SST anomaly?",
     "two_series_correlation", {"series": ["soi", "nino3"]}),
    ("Does the SOI drive the Niño-3 SST anomaly, or the other way round?",
     "two_series_drivers", {"series": ["soi", "nino3"]}),
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
]


@pytest.mark.parametrize("question, recipe, named", CASES)
def test_question_goes_to_its_recipe(question: str, recipe: str, named: dict) -> None:
    _, memo = OfflineBrain().plan({"question": question})
    assert memo["recipe"] == recipe
    assert {k: memo[k] for k in named} == named


def test_question_without_a_recipe_says_what_it_can_do() -> None:
    with pytest.raises(BrainError, match="no recipe for this question"):
        OfflineBrain().plan({"question": "Will it rain in Boston on Friday?"})
