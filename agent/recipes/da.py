"""Recipes over the data-assimilation tools: which method wins on a twin experiment."""

from __future__ import annotations

from climcopilot.agent.recipes.base import Recipe, RecipeStep

DA_METHOD_COMPARISON = Recipe(
    name="da_method_comparison",
    examples=(
        "Which of 3D-Var, EnKF and LETKF gives the lowest analysis error on Lorenz-96 with 40 "
        "variables, all observed every step?",
        "Which data assimilation method has the smallest analysis RMSE on Lorenz-96?",
        "Compare ETKF and 3D-Var on a Lorenz-96 twin experiment.",
        "Does the LETKF beat the EnKF on Lorenz-96?",
    ),
    plan=(
        "Run a Lorenz-96 twin experiment sweep (40 variables, F = 8, all sites observed every "
        "step, obs error variance 1, 1000 cycles) for {methods}, ensemble size 40, inflations "
        "1.02 and 1.06, three seeds each, on Dask.",
        "Rank the methods by their best median analysis RMSE over seeds, with the table and a "
        "figure.",
    ),
    steps=(
        RecipeStep("sweep", "da.sweep", {
            "methods": "{methods}", "Ns": [40], "infls": [1.02, 1.06],
            "seeds": [0, 1, 2], "Ko": 1000, "xB": 0.02, "rot": True}),
    ),
    answer=(
        "On Lorenz-96 (40 variables, F = 8, every site observed every step, obs error variance "
        "1, 1000 cycles) the lowest analysis error comes from **{sweep[best][method]}**: median "
        "RMSE {sweep[values][best_rmse_a]:.3f} over 3 seeds (N = {sweep[best][N]}, inflation "
        "{sweep[best][infl]}). Best median RMSE per method: {sweep[ranking]} (3D-Var with "
        "B = 0.02 x climatological covariance, the tuned value of Sakov & Oke 2008). "
        "Table: {sweep[csv]}."
    ),
    needs_methods=2,
    keywords=("lorenz", "twin", "assimilation"),
)

DA_TWIN_EXPERIMENT = Recipe(
    name="da_twin_experiment",
    examples=(
        "What is the analysis RMSE of the ETKF with 24 members and inflation 1.013 on "
        "Lorenz-96?",
        "How well does the LETKF with 7 members track Lorenz-96 when every site is observed?",
        "Run a 3D-Var twin experiment on Lorenz-96 and report the analysis error.",
        "What analysis error does optimal interpolation give on Lorenz-96?",
    ),
    plan=(
        "Run one Lorenz-96 twin experiment (40 variables, F = 8, all sites observed every step, "
        "obs error variance 1, 1000 cycles, seed 0) with {method}: N = {N}, inflation {infl}, "
        "rotation {rot}, localization radius {loc_rad}, xB = {xB}.",
        "Report the time-mean analysis RMSE after the 20-MTU burn-in, the forecast RMSE and "
        "the ensemble spread, with a figure of error and spread over time.",
    ),
    steps=(
        RecipeStep("twin", "da.twin_experiment", {
            "method": "{method}", "N": "{N}", "infl": "{infl}", "rot": "{rot}",
            "loc_rad": "{loc_rad}", "xB": "{xB}", "Ko": 1000, "seed": 0}),
    ),
    answer=(
        "{method} on Lorenz-96 (40 variables, F = 8, every site observed every step, obs error "
        "variance 1, 1000 cycles, seed 0; N = {N}, inflation {infl}, rotation {rot}, "
        "localization radius {loc_rad}, xB = {xB}): time-mean analysis RMSE "
        "**{twin[values][rmse_a]:.3f}**, forecast RMSE {twin[values][rmse_f]:.3f} (state "
        "units, after a 20-MTU burn-in), in {twin[values][wall_s]:.1f} s."
    ),
    needs_methods=1,
    max_methods=1,
    keywords=("lorenz", "twin", "assimilation", "rmse", "analysis error"),
    defaults={"N": 20, "infl": 1.0, "rot": False, "loc_rad": 4.0, "xB": 0.02},
)

RECIPES = (DA_METHOD_COMPARISON, DA_TWIN_EXPERIMENT)
