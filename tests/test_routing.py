"""The offline brain plans from the question spec: composed plans carry every condition of
the question into the steps' arguments, recipes answer what composition does not cover, and
a question it cannot plan gets a refusal that says what it can do with what was named."""

from __future__ import annotations

import pytest

from climcopilot.agent.brains.offline import OfflineBrain
from climcopilot.agent.brains.offline.composer import compose
from climcopilot.agent.brains.offline.plans import Plan
from climcopilot.agent.errors import BrainError
from climcopilot.agent.spec import read_in_context, read_question
from climcopilot.agent.state import Recall, RecalledSkill
from climcopilot.knowledge.records import Skill


def asked(question: str, **state: object) -> dict:
    """The state the offline brain plans from: the question and its spec."""
    return {"question": question, "spec": read_question(question), **state}


def planned(question: str) -> tuple[dict, Plan]:
    _, memo = OfflineBrain().plan(asked(question))
    return memo, Plan.model_validate(memo["plan"])


def calls(plan: Plan) -> list[tuple[str, dict]]:
    return [(s.tool, s.arguments) for s in plan.steps]


RECIPE_CASES = [
    ("What leads the Niño 1+2 sea surface temperature?", "what_leads"),
    ("Which indices lead All-India monsoon rainfall?", "what_leads"),
    ("Does PCMCI recover the true links of the tigramite tutorial example?",
     "known_graph_discovery"),
    ("Is a learned parameterization of two-scale Lorenz-96 stable online?", "hybrid_closure"),
    ("How long can a neural emulator forecast Lorenz-96 before it loses skill?",
     "emulator_skill"),
    ("What is the kinetic energy of 2-D Kolmogorov flow with forcing sin(4y) at Reynolds "
     "number 2 once it has settled?", "kolmogorov_laminar"),
    ("Which CMIP6 model in the sample has the largest 1950-2014 temperature trend?",
     "cmip6_model_trends"),
]


@pytest.mark.parametrize("question, recipe", RECIPE_CASES)
def test_questions_composition_does_not_cover_go_to_their_recipe(question: str,
                                                                 recipe: str) -> None:
    memo, plan = planned(question)
    assert memo["recipe"] == recipe and plan.answer == f"recipe:{recipe}"


COMPOSED = [
    # (question, the tools in order, arguments some step must pass)
    ("What is the correlation between the SOI and the Niño-3 SST anomaly?",
     ["data.open_series", "data.open_series", "analysis.align", "analysis.lag_correlation",
      "viz.line_plot"], {}),
    ("How correlated are summer (JJAS) All-India rainfall and Niño-3 over 1950-2000?",
     ["data.open_series", "analysis.subset", "data.open_series", "analysis.subset",
      "analysis.align", "analysis.lag_correlation", "viz.line_plot"],
     {"analysis.subset": {"start": 1950, "end": 2000, "season": "JJAS",
                          "seasonal_mean": True}}),
    # two series lose their trends over their common period: detrended after the alignment
    ("Once both are detrended, how correlated are annual-mean CO2 and HadCRUT5?",
     ["data.open_series", "analysis.annual_mean", "data.open_series", "analysis.align",
      "analysis.detrend", "analysis.detrend", "analysis.lag_correlation", "viz.line_plot"], {}),
    ("What is the SOI's correlation with Niño-3 after a 3-month running mean of both?",
     ["data.open_series", "analysis.running_mean", "data.open_series",
      "analysis.running_mean", "analysis.align", "analysis.lag_correlation", "viz.line_plot"],
     {"analysis.running_mean": {"window": 3}}),
    ("By how many ppm per year did Mauna Loa CO2 rise between 1959 and 2001?",
     ["data.open_series", "analysis.subset", "analysis.trend", "viz.line_plot"],
     {"analysis.subset": {"start": 1959, "end": 2001}}),
    ("Which was the coldest year in HadCRUT5?",
     ["data.open_series", "analysis.extremes", "viz.line_plot"], {}),
    ("Which calendar month has the lowest All-India rainfall on average?",
     ["data.open_series", "analysis.seasonal_cycle", "viz.line_plot"], {}),
    ("What is the variance of the SOI after a 5-month running mean?",
     ["data.open_series", "analysis.running_mean", "analysis.describe", "viz.line_plot"],
     {"analysis.running_mean": {"window": 5}}),
    ("What was the wettest month on record in All-India rainfall?",
     ["data.open_series", "analysis.extremes", "viz.line_plot"],
     {"analysis.extremes": {"annual": False}}),
    ("Which year had the highest Niño-3.4 anomaly?",
     ["data.open_series", "analysis.extremes", "viz.line_plot"],
     {"analysis.extremes": {"annual": True}}),
    ("Do early-warning signals precede the collapse of the harvested Ricker model (seed 0, "
     "1000 steps, harvesting ramped from F = 0 to 2.7, transition at step 860, Lowess span 0.2, "
     "rolling window 0.5)? Give the Kendall tau of variance and lag-1 autocorrelation.",
     ["analysis.simulate_ricker", "analysis.early_warning"],
     {"analysis.simulate_ricker": {"tmax": 1000, "seed": 0, "F_start": 0, "F_end": 2.7},
      "analysis.early_warning": {"transition": 860, "detrend": "lowess", "span": 0.2,
                                 "window": 0.5}}),
    ("Is there critical slowing down in the EPICA Dome C deuterium record before the last "
     "deglaciation? Use 70-10 ka BP, the transition at 18 ka BP, a Gaussian detrending "
     "bandwidth 0.2.", ["data.open_series", "analysis.subset", "analysis.early_warning"],
     {"analysis.subset": {"oldest_ka": 70, "youngest_ka": 10},
      "analysis.early_warning": {"transition": 18, "detrend": "gaussian", "bandwidth": 0.2}}),
    ("What is the analysis RMSE of the EnSF with 20 members on Lorenz-96 with 100 variables "
     "observed through arctan with error standard deviation 0.05 every 10 steps of 0.01, over "
     "cycles 100 to 149, starting from the climatology?", ["da.twin_experiment"],
     {"da.twin_experiment": {"method": "ensf", "obs_operator": "arctan", "N": 20, "dt": 0.01,
                             "dko": 10, "Ko": 150, "burn_in": 10.0, "obs_var": 0.0025,
                             "cold_start": True, "system_params": {"N": 100}}}),
    ("With a perfect Lorenz-96 ensemble (no initial perturbation), how well does the power "
     "mean of the members predict exceedances of the local 95th percentile 2 MTU ahead?",
     ["emulators.extreme_forecast"],
     {"emulators.extreme_forecast": {"system": "lorenz96", "ic_noise": 0.0, "lead": 2}}),
    ("Calibrate the Lorenz-96 forcing F with ensemble Kalman inversion from observations of "
     "half the sites with 10 % noise.", ["emulators.infer_parameters"],
     {"emulators.infer_parameters": {"system": "lorenz96", "method": "eki", "noise": 0.1,
                                     "observed_every": 2}}),
    ("Learn the two-scale Lorenz-96 closure jointly with the forcing F through the solver.",
     ["emulators.joint_closure"], {}),
    ("How well does offline error predict online error over 100 hybrid runs of the two-scale "
     "Lorenz-96 closure?", ["emulators.closure_sweep"],
     {"emulators.closure_sweep": {"runs_per_design": 7, "n_workers": 2}}),
    ("Train a deep-ensemble closure with memory for the two-scale Lorenz-96. What share of "
     "held-out tendencies do its 90 % predictive intervals cover, and does a multi-fidelity "
     "closure extrapolate to F = 24?", ["emulators.closure_uncertainty"],
     {"emulators.closure_uncertainty": {"F_test": 24}}),
    ("What is the spread-skill ratio of a generative emulator of Lorenz-96, and is its CRPS "
     "below the deterministic emulator's error?", ["emulators.generative_emulator"], {}),
    ("What is the median SOI?", ["data.open_series", "analysis.describe", "viz.line_plot"],
     {}),
    ("What is the 95th percentile of monthly Niño-3.4 anomalies?",
     ["data.open_series", "analysis.describe", "viz.line_plot"],
     {"analysis.describe": {"percentile": 95}}),
    ("soi acf lag 3", ["data.open_series", "analysis.autocorrelation", "viz.line_plot"],
     {"analysis.autocorrelation": {"lag": 3}}),
    ("How well does the first principal component of Pacific winter SST track Niño-3?",
     ["data.open_field", "analysis.eof", "data.open_series", "analysis.subset",
      "analysis.align", "analysis.lag_correlation", "viz.line_plot"],
     {"analysis.subset": {"season": "NDJFM", "seasonal_mean": True}}),
    ("Does the SOI drive the Niño-3 SST anomaly, or the other way round?",
     ["data.open_series", "data.open_series", "analysis.align", "causal.pcmci",
      "viz.line_plot"], {}),
    ("Is there Granger causality from the SOI to Niño-3.4?",
     ["data.open_series", "data.open_series", "analysis.align", "causal.granger",
      "viz.line_plot"], {}),
    ("l96 lyapunov F=10", ["emulators.lyapunov"],
     {"emulators.lyapunov": {"system": "lorenz96", "F": 10}}),
    ("How long does an error take to double in the Kuramoto-Sivashinsky equation with L = 44?",
     ["emulators.lyapunov"], {"emulators.lyapunov": {"system": "kuramoto_sivashinsky",
                                                     "L": 44}}),
    ("What is the analysis RMSE of 3D-Var on Lorenz-96 with every other site observed?",
     ["da.twin_experiment"], {"da.twin_experiment": {"method": "3dvar",
                                                     "obs_sites": "every_other"}}),
    ("ETKF with 20 members on l96 with F = 10, observed only every 4 steps, inflation 1.02",
     ["da.twin_experiment"], {"da.twin_experiment": {
         "method": "etkf", "N": 20, "dko": 4, "infl": 1.02, "system_params": {"F": 10}}}),
]


@pytest.mark.parametrize("question, tools, arguments", COMPOSED)
def test_composed_plans_carry_every_condition(question: str, tools: list[str],
                                              arguments: dict) -> None:
    memo, plan = planned(question)
    assert "recipe" not in memo and [t for t, _ in calls(plan)] == tools
    for tool, wanted in arguments.items():
        assert any(t == tool and all(a.get(k) == v for k, v in wanted.items())
                   for t, a in calls(plan)), (tool, wanted, calls(plan))
    assert plan.not_applied == {}


@pytest.mark.parametrize(("question", "asked"), [
    ("Estimate the mean of Lorenz-96 with forcing 10", "mean"),
    ("Estimate the Lyapunov exponent of Lorenz-96", "lyapunov_exponent"),
    ("What forcing F does a Lorenz-96 record imply? Estimate it by EKI.",
     "parameter_inference"),
])
def test_estimating_a_statistic_is_not_inferring_a_parameter(question: str,
                                                             asked: str) -> None:
    assert read_question(question).quantity == asked


@pytest.mark.parametrize(("question", "named"), [
    ("How does the EnKF's analysis RMSE change with ensemble size on Lorenz-96?",
     ["how a result depends on a setting"]),
    ("Correlation of JJAS All-India rainfall with DJF Niño-3.4 of the following winter?",
     ["a season per series (JJAS and DJF)"]),
    ("Compare the variance of the SOI before and after 1976.", ["period to 1975",
                                                                "period 1976 on"]),
    ("Which month has the largest Niño-3 variance?", ["a seasonal cycle of the variance"]),
    ("What is the mean of Niño-3 above 1 °C?", ["a condition on the data's own values"]),
])
def test_conditions_the_plan_cannot_apply_are_named(question: str, named: list[str]) -> None:
    # each would otherwise be answered as a different question (the whole record, the mean
    # seasonal cycle, every month) and look complete
    from climcopilot.agent.coverage import unapplied

    spec = read_question(question)
    plan = compose(spec)
    reasons = [*(plan.not_applied if plan else {}), *spec.unsupported,
               *(unapplied(spec, []) if plan else [])]
    for condition in named:
        assert any(r.startswith(condition) for r in reasons), (condition, reasons)


def test_a_condition_that_cannot_apply_is_named_not_dropped() -> None:
    _, seasonal = planned("What is the trend of winter (DJF) HadCRUT5 since 1950?")
    assert "season DJF" in seasonal.not_applied and "annual" in seasonal.not_applied[
        "season DJF"]
    _, rank = planned("What is the Spearman correlation between the SOI and Niño-3?")
    assert any("rank correlation" in c for c in rank.not_applied)


def test_twin_experiment_defaults_to_the_sakov_oke_set_up() -> None:
    _, plan = planned("What analysis RMSE does optimal interpolation give on Lorenz-96?")
    [(tool, args)] = calls(plan)
    assert tool == "da.twin_experiment"
    assert {k: args[k] for k in ("system", "method", "dko", "obs_var", "Ko", "xB")} == {
        "system": "lorenz96", "method": "oi", "dko": 1, "obs_var": 1.0, "Ko": 1000, "xB": 0.02}


def test_method_comparison_sweeps_the_ensemble_size_and_system_named() -> None:
    _, plan = planned(
        "Which of optimal interpolation, 3D-Var with xB = 0.1 and the ETKF with 10 members "
        "gives the lowest analysis error on Lorenz-63 observed every 25 steps with "
        "observation error variance 2?")
    [(tool, args)] = calls(plan)
    assert tool == "da.sweep"
    assert {k: args[k] for k in ("system", "methods", "Ns", "xB", "dko", "obs_var")} == {
        "system": "lorenz63", "methods": ["oi", "3dvar", "etkf"], "Ns": [10], "xB": 0.1,
        "dko": 25, "obs_var": 2.0}


def test_a_skill_from_another_kind_of_question_gives_way_to_a_closer_recipe() -> None:
    hybrid = "Is a learned closure of two-scale Lorenz-96 stable when run online?"
    skill = Skill(id="s1", key="hybrid_closure", plan={"recipe": "hybrid_closure"},
                  pattern=hybrid.lower(), brain="offline", successes=3, failures=0)
    recall = Recall(skills=[RecalledSkill(skill=skill, similarity=0.9)])
    memo = OfflineBrain().plan(asked("How long can a neural emulator forecast Lorenz-96 "
                                     "before it loses skill?", recall=recall))[1]
    assert memo["recipe"] == "emulator_skill" and "skill" not in memo
    memo = OfflineBrain().plan(asked("Does a learned parameterization of two-scale Lorenz-96 "
                                     "stay stable online?", recall=recall))[1]
    assert memo.get("skill") == "s1"  # its own kind: reused


def test_a_question_without_a_plan_says_what_it_can_do() -> None:
    with pytest.raises(BrainError, match="no plan for this question"):
        OfflineBrain().plan(asked("Will it rain in Boston on Friday?"))
    with pytest.raises(BrainError, match="Southern Oscillation Index.*trend"):
        OfflineBrain().plan(asked("Tell me a story about the SOI"))


@pytest.mark.parametrize("question, series", [
    ("jjas air vs soi corr", ["air", "soi"]),
    ("Correlate the AIR index with Nino-3", ["air", "nino3"]),
    ("If the air is warming at the surface, what happens to the lapse rate?", []),
    ("What is the trend of surface air temperature in the CMIP6 sample?", []),
    ("What is the density of dry air at 1000 hPa?", []),
])
def test_a_series_key_that_is_an_everyday_word_counts_only_as_a_name(
        question: str, series: list[str]) -> None:
    # 'air' is All-India Rainfall; read as the series in 'the air is warming', a physics
    # question would open a rainfall record and end partial ("no step used it").
    assert read_question(question).series == series


def test_model_settings_count_only_where_a_system_or_method_is_named() -> None:
    coriolis = read_in_context(read_question("With a Coriolis parameter f=0.0001 s-1, what "
                                             "is the geostrophic wind speed?"), None)
    assert coriolis.system_params == {} and coriolis.settings == {}
    twin = read_question("Run an ETKF twin with F = 10")
    assert read_in_context(twin, None).system_params == {"F": 10.0}
    follow_up = read_in_context(read_question("And with F = 12?"), twin)
    assert follow_up.system_params == {"F": 12.0} and follow_up.methods == ["etkf"]
