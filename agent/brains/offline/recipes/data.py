"""Recipes over the data catalog and the standard diagnostics: seasonal cycle, change between
periods, trends, spectra, EOFs of bundled fields, and the CMIP6 sample across models."""

from __future__ import annotations

from climcopilot.agent.brains.offline.recipes.base import Recipe, RecipeStep

SEASONAL_CYCLE = Recipe(
    name="seasonal_cycle",
    quantity="seasonal_cycle",
    examples=(
        "What is the seasonal cycle of Mauna Loa CO2: in which month is it highest and lowest, "
        "and what is the peak-to-trough amplitude?",
        "When does atmospheric CO2 peak during the year?",
        "How large is the annual cycle of the Southern Oscillation Index?",
    ),
    plan=(
        "Open {a_name} from the bundled real data.",
        "Remove the trend (centred 2x12-month moving average) and average by calendar month.",
        "Read off the months of maximum and minimum and the peak-to-trough amplitude.",
        "Plot the series.",
    ),
    steps=(
        RecipeStep("open", "data.open_series", {"name": "{a}"}),
        RecipeStep("cycle", "analysis.seasonal_cycle", {"handle": "{a}"}),
        RecipeStep("plot", "viz.line_plot", {"handles": ["{a}"]}),
    ),
    answer=(
        "After removing the trend, the mean seasonal cycle of {a_name} peaks in "
        "**{cycle[month_of_max_name]}** and is lowest in **{cycle[month_of_min_name]}**, with "
        "a peak-to-trough amplitude of **{cycle[values][amplitude]:.2f} "
        "{open[series_units]}** ({open[start]} to {open[end]}; {open[source]})."
    ),
    needs_series=1,
    keywords=("seasonal", "annual cycle", "season", "month of", "which month", "peak-to-trough",
              "amplitude"),
)

PERIOD_CHANGE = Recipe(
    name="period_change",
    quantity="period_difference",
    examples=(
        "How much warmer was 2011-2020 than 1850-1900 in HadCRUT5?",
        "What is the warming of 2011-2020 relative to 1850-1900 in the global mean "
        "temperature?",
        "By how much did Mauna Loa CO2 rise between 1960-1969 and 1990-1999?",
    ),
    plan=(
        "Open {a_name} from the bundled real data.",
        "Average it over the periods the question names ({years}; two years: that period "
        "against 1850-1900).",
        "Report the later mean minus the earlier mean.",
    ),
    steps=(
        RecipeStep("open", "data.open_series", {"name": "{a}"}),
        RecipeStep("change", "analysis.period_difference", {"handle": "{a}", "years": "{years}"}),
        RecipeStep("plot", "viz.line_plot", {"handles": ["{a}"]}),
    ),
    answer=(
        "{a_name}: the later period is **{change[values][difference]:+.2f} "
        "{open[series_units]}** relative to the earlier one ({change[summary]}; "
        "{open[source]}; {open[license]})."
    ),
    needs_series=1,
    keywords=("warmer", "warming", "warmed", "rise", "increase", "change between",
              "relative to", "compared with", "compared to", "than"),
    defaults={"years": [2011, 2020, 1850, 1900]},
    min_similarity=0.35,
)

SERIES_TREND = Recipe(
    name="series_trend",
    quantity="trend",
    examples=(
        "What is the linear trend of HadCRUT5 global temperature since 1979, and is it "
        "significant?",
        "How fast is Mauna Loa CO2 rising per decade?",
    ),
    plan=(
        "Open {a_name} from the bundled real data.",
        "Fit a linear trend from {years[0]} on, with a p-value from the "
        "autocorrelation-adjusted effective sample size.",
    ),
    steps=(
        RecipeStep("open", "data.open_series", {"name": "{a}", "start": "{years[0]}"}),
        RecipeStep("trend", "analysis.trend", {"handle": "{a}"}),
        RecipeStep("plot", "viz.line_plot", {"handles": ["{a}"]}),
    ),
    answer=(
        "The linear trend of {a_name} over {open[start]} to {open[end]} is "
        "**{trend[values][trend]:+.3f} {trend[trend_units]}** (95 % interval "
        "{trend[values][ci95_low]:+.3f} to {trend[values][ci95_high]:+.3f}; p = "
        "{trend[values][p_value]:.2g} with an effective sample size of "
        "{trend[values][n_eff]:.0f})."
    ),
    needs_series=1,
    keywords=("trend", "per decade", "rising", "how fast", "rate of"),
    defaults={"years": [1000]},
)

DOMINANT_PERIOD = Recipe(
    name="dominant_period",
    quantity="dominant_period",
    examples=(
        "What is the dominant period of the Nino-3 SST anomaly?",
        "Which periodicity dominates the spectrum of the Southern Oscillation Index?",
    ),
    plan=(
        "Open {a_name} from the bundled real data.",
        "Compute its power spectrum (Hann-windowed periodogram of the detrended series).",
        "Report the period of the largest peak.",
    ),
    steps=(
        RecipeStep("open", "data.open_series", {"name": "{a}"}),
        RecipeStep("spectrum", "analysis.spectrum", {"handle": "{a}", "min_period": 1.0}),
    ),
    answer=(
        "The power spectrum of {a_name} ({open[start]} to {open[end]}) peaks at a period of "
        "**{spectrum[values][dominant_period]:.1f} years** (next peaks: "
        "{spectrum[periods_top3][1]:.1f} and {spectrum[periods_top3][2]:.1f} years; periods "
        "under 1 year ignored)."
    ),
    needs_series=1,
    keywords=("spectrum", "spectral", "periodicity", "dominant period", "period of",
              "power spectr"),
)

PACIFIC_SST_EOF = Recipe(
    name="pacific_sst_eof",
    quantity="eof_share",
    examples=(
        "What fraction of the variance of Pacific winter SST anomalies does the first EOF "
        "explain?",
        "What is the leading EOF of Pacific sea surface temperature anomalies?",
        "Principal component analysis of winter Pacific SST",
    ),
    plan=(
        "Open the Pacific winter (NDJFM) SST anomaly field bundled with the eofs package.",
        "Compute its EOFs with sqrt(cos latitude) weights.",
        "Report each leading mode's share of variance and map EOF1.",
    ),
    steps=(
        RecipeStep("open", "data.open_field", {"dataset": "pacific_sst_ndjfm", "handle": "sst"}),
        RecipeStep("eof", "analysis.eof", {"handle": "sst", "n_modes": 3}),
    ),
    answer=(
        "The first EOF of Pacific winter (NDJFM) SST anomalies ({open[start]} to {open[end]}) "
        "explains **{eof[values][eof1_variance_fraction]:.1%}** of the area-weighted variance "
        "(EOF2 {eof[values][eof2_variance_fraction]:.1%}, EOF3 "
        "{eof[values][eof3_variance_fraction]:.1%}); its pattern is the El Niño one. "
        "Data: {open[source]} ({open[license]})."
    ),
    keywords=("eof", "principal component", "pca", "empirical orthogonal", "leading mode"),
)

Z500_EOF = Recipe(
    name="z500_eof",
    quantity="eof_share",
    examples=(
        "What share of the variance of North Atlantic winter 500 hPa geopotential height does "
        "the leading EOF explain?",
        "EOF analysis of Z500 over the North Atlantic (the NAO pattern)",
    ),
    plan=(
        "Open the North Atlantic winter (DJF) 500 hPa height field bundled with eofs.",
        "Compute its EOFs with sqrt(cos latitude) weights.",
        "Report each leading mode's share of variance and map EOF1.",
    ),
    steps=(
        RecipeStep("open", "data.open_field",
                   {"dataset": "north_atlantic_z500_djf", "handle": "z500", "level": 500}),
        RecipeStep("eof", "analysis.eof", {"handle": "z500", "n_modes": 3}),
    ),
    answer=(
        "The first EOF of North Atlantic winter (DJF) 500 hPa height ({open[start]} to "
        "{open[end]}) explains **{eof[values][eof1_variance_fraction]:.1%}** of the "
        "area-weighted variance (EOF2 {eof[values][eof2_variance_fraction]:.1%}); the map "
        "shows its pattern (for this field, the eofs documentation identifies EOF1 with the "
        "NAO). Data: {open[source]} ({open[license]})."
    ),
    keywords=("z500", "geopotential", "500 hpa", "500hpa", "nao"),
)

CMIP6_MODEL_TRENDS = Recipe(
    name="cmip6_model_trends",
    quantity="model_spread",
    examples=(
        "Which CMIP6 model in the sample has the largest 1950-2014 temperature trend?",
        "Compare the CMIP6 sample models' temperature trends and their agreement with the "
        "multi-model mean",
        "Which climate model warms fastest in the CMIP6 historical runs?",
    ),
    plan=(
        "Open every model of the bundled CMIP6 sample (intake-esm joins each model's files "
        "along time) and reduce air temperature at 1000 hPa to area-weighted annual means "
        "over the years asked ({years}; one year: from it to 2014).",
        "Fit each model's linear trend with an autocorrelation-adjusted p-value and rank them.",
        "Compare each model with the multi-model mean (bias, RMSE, correlation, Taylor "
        "diagram).",
    ),
    steps=(
        RecipeStep("ensemble", "data.cmip6_ensemble",
                   {"variable": "ta", "years": "{years}", "level": 100000,
                    "handle": "cmip6_ta"}),
        RecipeStep("trend", "analysis.trend", {"handle": "cmip6_ta"}),
        RecipeStep("compare", "analysis.compare", {"handle": "cmip6_ta", "dim": "model"}),
    ),
    answer=(
        "Across the **{ensemble[values][n_models]:.0f}** CMIP6 historical models of the "
        "sample (air temperature at 1000 hPa over its small north-polar box, about 88-90 N, "
        "area-weighted annual means), **{trend[largest]}** has the largest "
        "{ensemble[start]}-{ensemble[end]} trend, **{trend[values][largest_trend]:+.2f} "
        "{trend[trend_units]}**; {trend[smallest]} the smallest "
        "({trend[values][smallest_trend]:+.2f}); the mean of the model trends is "
        "{trend[values][mean_trend]:+.2f}, and {trend[values][n_significant]:.0f} of them are "
        "significant at 5 %. Against the multi-model mean, {compare[best]} has the lowest "
        "RMSE ({compare[values][best_rmse]:.2f} K) and {compare[worst]} the highest "
        "({compare[values][worst_rmse]:.2f} K)."
    ),
    keywords=("cmip6", "cmip", "climate model", "models"),
    defaults={"years": [1950, 2014]},
)

RECIPES = (SEASONAL_CYCLE, PERIOD_CHANGE, SERIES_TREND, DOMINANT_PERIOD, PACIFIC_SST_EOF,
           Z500_EOF, CMIP6_MODEL_TRENDS)
