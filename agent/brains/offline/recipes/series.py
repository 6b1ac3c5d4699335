"""Recipes over two bundled series: correlation and lead-lag."""

from __future__ import annotations

from climcopilot.agent.brains.offline.recipes.base import Recipe, RecipeStep

TWO_SERIES_CORRELATION = Recipe(
    name="two_series_correlation",
    quantity="correlation",
    examples=(
        "What is the correlation between the Southern Oscillation Index and the Nino-3 SST "
        "anomaly?",
        "Does Nino-3.4 lead global-mean temperature, and by how much?",
        "How are ENSO and Indian monsoon rainfall related?",
        "Is there a lagged relationship between two climate indices?",
        "Which leads, A or B, and at what lag?",
        "Does the SOI lead or lag the Nino-3 SST anomaly, and by how many months?",
        "At which lag in months is the correlation between the SOI and Nino-3 strongest?",
    ),
    plan=(
        "Open {a_name} and {b_name} from the bundled real data.",
        "Put both on a common time axis over their overlap.",
        "Correlate them at lags up to 12 steps, with a p-value from the effective sample size.",
        "Plot both series.",
    ),
    steps=(
        RecipeStep("open_a", "data.open_series", {"name": "{a}"}),
        RecipeStep("open_b", "data.open_series", {"name": "{b}"}),
        RecipeStep("align", "analysis.align", {"a": "{a}", "b": "{b}"}),
        RecipeStep("corr", "analysis.lag_correlation",
                   {"a": "{a}_aligned", "b": "{b}_aligned", "max_lag": 12}),
        RecipeStep("plot", "viz.line_plot", {"handles": ["{a}_aligned", "{b}_aligned"]}),
    ),
    answer=(
        "{a_name} and {b_name} correlate at **r = {corr[values][r]:.2f}** at lag 0 "
        "(p = {corr[values][p_value]:.1g}; n = {corr[values][n]:.0f} {align[frequency]} "
        "values, effective n = {corr[values][n_eff]:.0f}; {align[start]} to {align[end]}). "
        "The strongest lagged correlation is r = {corr[values][r_at_best_lag]:.2f} at lag "
        "{corr[values][best_lag]:+.0f} {corr[lag_unit]} (a positive lag means {a_name} leads)."
    ),
    needs_series=2,
    min_similarity=0.2,
)

RECIPES = (TWO_SERIES_CORRELATION,)
