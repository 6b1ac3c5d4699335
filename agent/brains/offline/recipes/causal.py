"""Recipes over the causal-discovery tools: what drives what, at which lag."""

from __future__ import annotations

from climcopilot.agent.brains.offline.recipes.base import Recipe, RecipeStep

TWO_SERIES_DRIVERS = Recipe(
    name="two_series_drivers",
    quantity="causal_direction",
    examples=(
        "Does the SOI drive the Nino-3 SST anomaly, or the other way round?",
        "Does ENSO cause Indian monsoon rainfall anomalies?",
        "What drives what between two climate indices, and at which lag?",
        "Is there a causal link from A to B?",
    ),
    plan=(
        "Open {a_name} and {b_name} from the bundled real data and put them on a common "
        "time axis.",
        "Run PCMCI (partial correlation, lags 1 to 6 steps, FDR-corrected at 0.05), which "
        "removes links explained by either series' own past.",
    ),
    steps=(
        RecipeStep("open_a", "data.open_series", {"name": "{a}"}),
        RecipeStep("open_b", "data.open_series", {"name": "{b}"}),
        RecipeStep("align", "analysis.align", {"a": "{a}", "b": "{b}"}),
        RecipeStep("pcmci", "causal.pcmci", {"handles": ["{a}_aligned", "{b}_aligned"],
                                             "tau_max": 6, "pc_alpha": 0.05}),
    ),
    answer=(
        "PCMCI on {a_name} and {b_name} ({align[start]} to {align[end]}, "
        "{pcmci[n_time]} {align[frequency]} values) finds these lagged links between them, "
        "strongest first: {pcmci[cross_links]}. Links are conditioned on both series' pasts; "
        "a hidden common driver could still explain them."
    ),
    needs_series=2,
    keywords=("cause", "causal", "drive", "driver", "influence", "lead", "precursor"),
    min_similarity=0.3,
)

WHAT_LEADS = Recipe(
    name="what_leads",
    quantity="drivers",
    examples=(
        "What leads the Nino-3 SST anomaly?",
        "Which indices lead All-India monsoon rainfall, and by how many months?",
        "What are the precursors of the Southern Oscillation Index?",
        "What drives the Nino 1+2 sea surface temperature?",
    ),
    plan=(
        "Open {a_name} and every other bundled series at its frequency, put them on their "
        "common period and remove each calendar month's mean and the linear trend.",
        "Leave out candidates that duplicate {a_name} or each other (|r| > 0.8 at lag 0), run "
        "PCMCI (partial correlation, leads 1 to 6 steps, FDR-corrected at 0.05) and keep the "
        "links into {a_name}.",
    ),
    steps=(
        RecipeStep("drivers", "causal.drivers", {"target": "{a}"}),
    ),
    answer=(
        "What leads {a_name}: {drivers[summary]}. Each link is conditioned on the other "
        "series' pasts and its own; a driver missing from the candidates could still explain "
        "it."
    ),
    needs_series=1,
    keywords=("lead", "precursor", "drive", "driver", "cause"),
    min_similarity=0.3,
)

KNOWN_GRAPH_DISCOVERY = Recipe(
    name="known_graph_discovery",
    quantity="causal_links",
    examples=(
        "Does PCMCI recover the true links of the tigramite tutorial example?",
        "Does the Koopman method report false links between uncoupled Rossler oscillators?",
        "How well does Granger causality find the graph of a linear VAR process?",
        "Which links does causal discovery find in coupled logistic maps?",
    ),
    plan=(
        "Generate a realisation of the {causal_system} benchmark system (known causal graph, "
        "1000 steps, seed 42).",
        "Run {causal_tool} on it and score the links found against the true graph (TPR, FPR, "
        "F1, AUROC).",
    ),
    steps=(
        RecipeStep("found", "{causal_tool}", {"system": "{causal_system}", "seed": 42,
                                              "T": 1000}),
    ),
    answer=(
        "{found[summary]}. Links between different series: {found[cross_links]}. Against the "
        "true graph of {causal_system}: {found[truth]}."
    ),
    needs_causal_system=True,
    keywords=("pcmci", "granger", "koopman", "causal", "links", "graph"),
    defaults={"causal_tool": "causal.pcmci"},
    min_similarity=0.25,
)

PLANTED_PRECURSOR = Recipe(
    name="planted_precursor",
    quantity="drivers",
    examples=(
        "Where does the planted precursor of the synthetic field sit, and at which lead?",
        "Can causal discovery recover the region and lag of a planted precursor?",
        "Find the planted precursor region of the target index in the synthetic gridded field.",
    ),
    plan=(
        "Generate the synthetic anomaly field whose planted precursor region (25-45 N, "
        "130-170 E) leads the target index by {lag} steps, with a decoy region that follows "
        "the target.",
        "Reduce the field to 3 x 6 area-weighted box means, run PCMCI on them with the target "
        "(lags 1 to 6, FDR-corrected at 0.05) and map the links into the target.",
    ),
    steps=(
        RecipeStep("drivers", "causal.field_drivers", {"synthetic_lag": "{lag}"}),
    ),
    answer=(
        "{drivers[summary]} (the map shows each precursor region and its lead). The field was "
        "built with its precursor at 25-45 N, 130-170 E, {lag} steps ahead of the target."
    ),
    keywords=("planted",),
    defaults={"lag": 3},
    min_similarity=0.25,
)

RECIPES = (TWO_SERIES_DRIVERS, WHAT_LEADS, KNOWN_GRAPH_DISCOVERY, PLANTED_PRECURSOR)
