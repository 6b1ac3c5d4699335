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

RECIPES = (DA_METHOD_COMPARISON,)
