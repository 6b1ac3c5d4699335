"""Recipes over the emulator tools: chaos, learned emulators and learned parameterizations."""

from __future__ import annotations

from climcopilot.agent.recipes.base import Recipe, RecipeStep

LYAPUNOV_SPECTRUM = Recipe(
    name="lyapunov_spectrum",
    examples=(
        "What is the leading Lyapunov exponent of Lorenz-96 with 40 variables and F = 8?",
        "How chaotic is Lorenz-96: Lyapunov exponents and Kaplan-Yorke dimension?",
        "What is the Lyapunov time of the Lorenz-63 system?",
    ),
    plan=(
        "Integrate the system with its tangent linear model (QR / Benettin method) over "
        "8 trajectories of 400 model time units.",
        "Report the leading exponent, the Kaplan-Yorke dimension, the Lyapunov time and the "
        "sum of the exponents (a check: it must equal the phase-space contraction rate).",
    ),
    steps=(RecipeStep("spectrum", "emulators.lyapunov", {"system": "{system}"}),),
    answer=(
        "{system}: leading Lyapunov exponent **{spectrum[values][leading]:.3f} per model time "
        "unit** (Lyapunov time {spectrum[values][lyapunov_time]:.3f} MTU), Kaplan-Yorke "
        "dimension {spectrum[values][kaplan_yorke_dim]:.2f}, sum of exponents "
        "{spectrum[values][exponent_sum]:.3f} per MTU."
    ),
    keywords=("lyapunov", "chaotic", "chaos", "kaplan-yorke", "predictability"),
    defaults={"system": "lorenz96"},
)

EMULATOR_SKILL = Recipe(
    name="emulator_skill",
    examples=(
        "How long can a neural emulator forecast Lorenz-96 before it loses skill?",
        "Train a neural network emulator of Lorenz-96 and compare it with persistence.",
        "What is the valid prediction time of a machine-learning emulator of Lorenz-96?",
    ),
    plan=(
        "Simulate Lorenz-96 (40 variables, F = 8) and train a small convolutional emulator "
        "that respects the ring, one step ahead, with a validation split in time and early "
        "stopping.",
        "Forecast from 200 independent states; compare RMSE with persistence and climatology "
        "at every lead and report the valid prediction time in Lyapunov times and the "
        "long-run climate of the emulator.",
    ),
    steps=(
        RecipeStep("trained", "emulators.train", {"system": "lorenz96"}),
        RecipeStep("skill", "emulators.evaluate", {"model": "emulator"}),
    ),
    answer=(
        "{skill[summary]}. The emulator stays skilful for **{skill[values][valid_time]:.2f} "
        "model time units = {skill[values][valid_time_lyapunov]:.2f} Lyapunov times** "
        "(normalised RMSE below 0.5); at one Lyapunov time its RMSE is "
        "{skill[values][rmse_at_1lt]:.3f} against {skill[values][rmse_persistence_at_1lt]:.3f} "
        "for persistence and {skill[values][rmse_climatology_at_1lt]:.3f} for climatology."
    ),
    keywords=("emulator", "neural", "machine learning", "machine-learning", "network"),
)

HYBRID_CLOSURE = Recipe(
    name="hybrid_closure",
    examples=(
        "Is a learned parameterization of two-scale Lorenz-96 stable online?",
        "Learn the subgrid tendency of two-scale Lorenz-96 and run it coupled in the one-level "
        "model.",
        "Does a machine-learned closure drift when coupled online?",
    ),
    plan=(
        "Run two-scale Lorenz-96 (K = 8, J = 32, F = 20) and learn the subgrid tendency of the "
        "slow variables from the resolved state (offline R^2 on an independent run).",
        "Couple deterministic and stochastic (AR(1)) closures into the one-level model, run "
        "them online, and report stability and climate drift against the full model.",
    ),
    steps=(RecipeStep("hybrid", "emulators.hybrid", {}),),
    answer="{hybrid[summary]}",
    keywords=("parameterization", "parameterisation", "closure", "subgrid", "hybrid"),
)

RECIPES = (LYAPUNOV_SPECTRUM, EMULATOR_SKILL, HYBRID_CLOSURE)
