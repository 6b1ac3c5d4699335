"""Recipes over the emulator tools: chaos, learned emulators and learned parameterizations."""

from __future__ import annotations

from climcopilot.agent.brains.offline.recipes.base import Recipe, RecipeStep

LYAPUNOV_SPECTRUM = Recipe(
    name="lyapunov_spectrum",
    quantity="lyapunov_exponent",
    examples=(
        "What is the leading Lyapunov exponent of Lorenz-96 with 40 variables and F = 8?",
        "How chaotic is Lorenz-96: Lyapunov exponents and Kaplan-Yorke dimension?",
        "What is the Lyapunov time of the Lorenz-63 system?",
        "What is the Kaplan-Yorke dimension of the Kuramoto-Sivashinsky equation?",
        "What is the sum of the Lyapunov exponents of Lorenz-96 with N = 20?",
    ),
    plan=(
        "Integrate the system with its tangent linear model (QR / Benettin method) over "
        "8 trajectories (400 model time units each for the ODEs, longer for the PDEs).",
        "Report the leading exponent, the Kaplan-Yorke dimension, the Lyapunov time and the "
        "sum of the exponents (a check: it must equal the phase-space contraction rate).",
    ),
    steps=(RecipeStep("spectrum", "emulators.lyapunov", {"system": "{system}", "N": "{N}"}),),
    answer=(
        "{system}: leading Lyapunov exponent **{spectrum[values][leading]:.3f} per model time "
        "unit** (Lyapunov time {spectrum[values][lyapunov_time]:.3f} MTU), Kaplan-Yorke "
        "dimension {spectrum[values][kaplan_yorke_dim]:.2f}, sum of exponents "
        "{spectrum[values][exponent_sum]:.3f} per MTU."
    ),
    keywords=("lyapunov", "chaotic", "chaos", "kaplan-yorke", "predictability"),
    defaults={"system": "lorenz96", "N": None},
)

SYSTEM_CLIMATE = Recipe(
    name="system_climate",
    quantity="mean",
    examples=(
        "What are the long-run mean and standard deviation of Lorenz-96 with F = 8?",
        "What is the climatology of the Lorenz-96 model?",
        "Simulate the Kuramoto-Sivashinsky equation and show its Hovmoller diagram.",
    ),
    plan=(
        "Simulate 4 independent trajectories of 100 model time units after the spin-up onto "
        "the attractor.",
        "Report the mean and standard deviation of the state over all members, times and "
        "variables, with the figure.",
    ),
    steps=(RecipeStep("run", "emulators.simulate", {"system": "{system}", "N": "{N}",
                                                    "duration": 100, "members": 4}),),
    answer=(
        "{run[summary]}: long-run mean **{run[values][mean]:.2f}** and standard deviation "
        "**{run[values][std]:.2f}** (state units) over 4 x 100 model time units."
    ),
    keywords=("lorenz", "kuramoto"),  # a question about one of the dynamical systems
    defaults={"system": "lorenz96", "N": None},
)

KOLMOGOROV_LAMINAR = Recipe(
    name="kolmogorov_laminar",
    quantity="kinetic_energy",
    examples=(
        "What is the kinetic energy of the steady laminar Kolmogorov flow at Reynolds number 2?",
        "Does 2-D Kolmogorov flow at Re = 2 settle to the laminar solution?",
    ),
    plan=(
        "Simulate 2-D Kolmogorov flow (forcing sin(4y), Re = 2, no drag, 32 x 32 grid) for "
        "40 time units of spin-up and 10 more.",
        "Compare its mean kinetic energy with the laminar solution's U^2 / 4, "
        "U = F / (nu n^2 + drag).",
    ),
    steps=(RecipeStep("run", "emulators.simulate", {
        "system": "kolmogorov", "Re": 2.0, "N": 32, "dt": 0.05, "spinup": 40, "duration": 10,
        "members": 2}),),
    answer=(
        "At Re = 2 the flow settles to mean kinetic energy **{run[values][kinetic_energy]:.6f}**"
        " against {run[values][laminar_kinetic_energy]:.6f} for the laminar solution u = U "
        "sin(4y), U = F / (nu n^2 + drag): it is laminar. {run[summary]}."
    ),
    keywords=("kolmogorov flow",),
)

EMULATOR_SKILL = Recipe(
    name="emulator_skill",
    quantity="emulator_skill",
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
    quantity="closure_stability",
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

RECIPES = (LYAPUNOV_SPECTRUM, SYSTEM_CLIMATE, KOLMOGOROV_LAMINAR, EMULATOR_SKILL, HYBRID_CLOSURE)
