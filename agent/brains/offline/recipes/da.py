"""Recipes over the data-assimilation tools: one twin experiment, and which method wins.

The set-up follows the question where it says so (system, ensemble size, inflation, rotation,
localisation radius, xB, model steps between observations, observation error variance, number
of cycles; see ``agent.spec.SETTINGS``) and Sakov & Oke (2008)'s Lorenz-96 set-up where it
does not."""

from __future__ import annotations

from climcopilot.agent.brains.offline.recipes.base import Recipe, RecipeStep

DA_METHOD_COMPARISON = Recipe(
    name="da_method_comparison",
    quantity="method_comparison",
    examples=(
        "Which of 3D-Var, EnKF and LETKF gives the lowest analysis error on Lorenz-96 with 40 "
        "variables, all observed every step?",
        "Which data assimilation method has the smallest analysis RMSE on Lorenz-96?",
        "Compare ETKF and 3D-Var on a Lorenz-96 twin experiment.",
        "Does the LETKF beat the EnKF on Lorenz-96?",
        "With only 10 members, does the ETKF or the LETKF track Lorenz-96 better?",
        "Which of optimal interpolation, 3D-Var and the particle filter is best on Lorenz-63?",
    ),
    plan=(
        "Run a {system} twin experiment sweep (all variables observed every {dko} model "
        "steps, obs error variance {obs_var}, {Ko} cycles) for {methods}: ensemble size {N}, "
        "inflations 1.02 and 1.06, 3D-Var/4D-Var B = {xB} x climatological covariance, three "
        "seeds each, on Dask.",
        "Rank the methods by their best median analysis RMSE over seeds, with the table and a "
        "figure.",
    ),
    steps=(
        RecipeStep("sweep", "da.sweep", {
            "system": "{system}", "methods": "{methods}", "Ns": ["{N}"],
            "infls": [1.02, 1.06], "seeds": [0, 1, 2], "Ko": "{Ko}", "dko": "{dko}",
            "obs_var": "{obs_var}", "xB": "{xB}", "rot": True}),
    ),
    answer=(
        "On {system} (every variable observed every {dko} model steps, obs error variance "
        "{obs_var}, {Ko} cycles) the lowest analysis error comes from "
        "**{sweep[best][method]}**: median RMSE {sweep[values][best_rmse_a]:.3f} over 3 seeds "
        "(N = {sweep[best][N]}, inflation {sweep[best][infl]}). Best median RMSE per method: "
        "{sweep[ranking]} (3D-Var with B = {xB} x climatological covariance; 0.02 is Sakov & "
        "Oke 2008's tuned value for Lorenz-96). Table: {sweep[csv]}."
    ),
    needs_methods=2,
    keywords=("lorenz", "twin", "assimilation"),
    defaults={"system": "lorenz96", "N": 40, "Ko": 1000, "dko": 1, "obs_var": 1.0, "xB": 0.02},
)

DA_TWIN_EXPERIMENT = Recipe(
    name="da_twin_experiment",
    quantity="analysis_rmse",
    examples=(
        "What is the analysis RMSE of the ETKF with 24 members and inflation 1.013 on "
        "Lorenz-96?",
        "How well does the LETKF with 7 members track Lorenz-96 when every site is observed?",
        "Run a 3D-Var twin experiment on Lorenz-96 and report the analysis error.",
        "What analysis error does optimal interpolation give on Lorenz-96?",
        "What is the analysis RMSE of a particle filter with 800 particles on Lorenz-63 "
        "observed every 25 steps?",
    ),
    plan=(
        "Run one {system} twin experiment (all variables observed every {dko} model steps, "
        "obs error variance {obs_var}, {Ko} cycles, seed 0) with {method}: N = {N}, inflation "
        "{infl}, rotation {rot}, localization radius {loc_rad}, xB = {xB}.",
        "Report the time-mean analysis RMSE after the 20-MTU burn-in, the forecast RMSE and "
        "the ensemble spread, with a figure of error and spread over time.",
    ),
    steps=(
        RecipeStep("twin", "da.twin_experiment", {
            "system": "{system}", "method": "{method}", "N": "{N}", "infl": "{infl}",
            "rot": "{rot}", "loc_rad": "{loc_rad}", "xB": "{xB}", "Ko": "{Ko}", "dko": "{dko}",
            "obs_var": "{obs_var}", "seed": 0}),
    ),
    answer=(
        "{method} on {system} (every variable observed every {dko} model steps, obs error "
        "variance {obs_var}, {Ko} cycles, seed 0; N = {N}, inflation {infl}, rotation {rot}, "
        "localization radius {loc_rad}, xB = {xB}): time-mean analysis RMSE "
        "**{twin[values][rmse_a]:.3f}**, forecast RMSE {twin[values][rmse_f]:.3f} (state "
        "units, after a 20-MTU burn-in), in {twin[values][wall_s]:.1f} s."
    ),
    needs_methods=1,
    max_methods=1,
    keywords=("lorenz", "twin", "assimilation", "rmse", "analysis error"),
    defaults={"system": "lorenz96", "N": 20, "infl": 1.0, "rot": False, "loc_rad": 4.0,
              "xB": 0.02, "Ko": 1000, "dko": 1, "obs_var": 1.0},
)

RECIPES = (DA_METHOD_COMPARISON, DA_TWIN_EXPERIMENT)
