"""What people call the built-in dynamical systems (keys as :mod:`.catalog` takes them), and
the extreme-forecast question and its aggregation."""

from __future__ import annotations

from climcopilot.tools.vocabulary import Term

TERMS: tuple[Term, ...] = (
    Term("lorenz63", "dynamical_system", "Lorenz-63",
         ("lorenz-63", "lorenz 63", "lorenz63", "l63", "lorenz 1963", "lorenz attractor",
          "lorenz system", "lorenz equations", "lorenz butterfly")),
    Term("lorenz96", "dynamical_system", "Lorenz-96",
         ("lorenz-96", "lorenz 96", "lorenz96", "l96", "lorenz 1996")),
    Term("lorenz96_two_scale", "dynamical_system", "two-scale Lorenz-96",
         ("two-scale lorenz-96", "two-scale lorenz 96", "two scale lorenz-96",
          "two-scale l96", "multiscale lorenz-96", "lorenz-96 two-scale", "l96 two-scale")),
    Term("kuramoto_sivashinsky", "dynamical_system", "Kuramoto-Sivashinsky",
         ("kuramoto-sivashinsky", "kuramoto sivashinsky", "ks", "ks equation")),
    Term("kolmogorov", "dynamical_system", "Kolmogorov flow",
         ("kolmogorov flow", "kolmogorov")),
)

EXTREME_FORECAST = Term("extreme_forecast", "diagnostic",
                        "exceedance of a local quantile predicted from an ensemble forecast",
                        ("extreme", "extremes", "extreme event", "extreme events",
                         "exceedance", "exceedances", "quantile exceedance",
                         "exceeds its local quantile", "extreme forecast"))
"""What people call ``emulators.extreme_forecast``'s question."""

POWER_MEAN = Term("power_mean", "aggregation", "power-mean aggregation of ensemble members",
                  ("power mean", "power-mean aggregation", "power ensemble aggregation",
                   "generalized mean", "generalised mean", "holder mean"))
"""The aggregation ``emulators.extreme_forecast`` compares with the plain mean."""

TERMS = (*TERMS, EXTREME_FORECAST, POWER_MEAN)

PARAMETER_INFERENCE = Term("infer_parameters", "diagnostic",
                           "recovery of a system's parameters from noisy, sparse observations",
                           ("parameter estimation", "parameter inference", "infer parameters",
                            "infer the parameters", "recover the parameters",
                            "parameter recovery", "estimate the parameters", "calibrate",
                            "calibration", "model calibration", "differentiable inference",
                            "inverse problem"))
"""What people call ``emulators.infer_parameters``'s question."""

INFERENCE_METHODS: tuple[Term, ...] = (
    Term("gradient", "inference_method", "gradient descent through the differentiable solver",
         ("gradient descent", "gradient-based", "gradient based", "differentiable solver",
          "through the solver", "adjoint", "autograd", "l-bfgs", "lbfgs")),
    Term("eki", "inference_method", "ensemble Kalman inversion",
         ("ensemble kalman inversion", "ensemble kalman inversions", "es-mda",
          "ensemble smoother with multiple data assimilation", "gradient-free",
          "gradient free")),
)
"""``emulators.infer_parameters``'s methods (its third, ``both``, is no term: the word is
too common in questions)."""

TERMS = (*TERMS, PARAMETER_INFERENCE, *INFERENCE_METHODS)

CONSTRAINED_CLOSURE = Term("constrained_closure", "diagnostic",
                           "a closure that closes its energy budget by construction",
                           ("conserving closure", "energy-conserving closure",
                            "energy conserving closure", "constrained closure",
                            "physically constrained closure", "physically-constrained closure",
                            "architecture-constrained closure", "constraint layer",
                            "conservation constraint", "penalised closure",
                            "penalized closure"))
"""What people call ``emulators.constrained_closure``'s question."""

JOINT_CLOSURE = Term("joint_closure", "diagnostic",
                     "a closure learned jointly with the parameters through the solver",
                     ("joint closure", "jointly learned closure", "learn the closure jointly",
                      "closure learned jointly", "joint parameter and closure inference",
                      "online-trained closure", "trajectory-trained closure"))
"""What people call ``emulators.joint_closure``'s question."""

TERMS = (*TERMS, CONSTRAINED_CLOSURE, JOINT_CLOSURE)

CLOSURE_SWEEP = Term("closure_sweep", "diagnostic",
                     "online ensembles of hybrid closure designs, offline vs online error",
                     ("closure sweep", "design sweep", "online ensemble", "online ensembles",
                      "ensemble of online runs", "hybrid online runs", "online runs",
                      "offline vs online error", "offline versus online error",
                      "offline and online error", "offline error predict online error",
                      "offline error predicts online error", "online stability",
                      "closure designs", "hybrid designs"))
"""What people call ``emulators.closure_sweep``'s question."""

CLOSURE_LOSSES: tuple[Term, ...] = (
    Term("mse", "closure_loss", "mean squared error loss",
         ("mean squared error", "squared error", "l2 loss")),
    Term("mae", "closure_loss", "mean absolute error loss",
         ("mean absolute error", "absolute error", "l1 loss")),
)
"""``emulators.closure_sweep``'s training losses."""

TERMS = (*TERMS, CLOSURE_SWEEP, *CLOSURE_LOSSES)

CLOSURE_UNCERTAINTY = Term("closure_uncertainty", "diagnostic",
                           "a closure with predictive intervals, and its multi-fidelity variant",
                           ("bayesian closure", "closure with uncertainty", "probabilistic "
                            "closure", "closure uncertainty", "uncertainty of the closure",
                            "calibrated closure", "predictive intervals of the closure",
                            "multi-fidelity closure", "multifidelity closure",
                            "multi-fidelity network", "closure with memory"))
"""What people call ``emulators.closure_uncertainty``'s question."""

UNCERTAINTY_METHODS: tuple[Term, ...] = (
    Term("ensemble", "uncertainty_method", "a deep ensemble of Gaussian networks",
         ("deep ensemble", "deep ensembles", "ensemble of networks", "network ensemble")),
    Term("randomized_prior", "uncertainty_method", "randomized prior networks",
         ("randomized prior", "randomised prior", "randomized prior network",
          "randomized prior networks", "randomised prior networks", "rpn")),
)
"""``emulators.closure_uncertainty``'s methods, for its input only: not in TERMS, because the
key ``ensemble`` is too common a word in questions (ensemble Kalman filters, forecasts)."""

TERMS = (*TERMS, CLOSURE_UNCERTAINTY)

GENERATIVE_EMULATOR = Term("generative_emulator", "diagnostic",
                           "a stochastic emulator's ensemble forecasts: spread-skill, CRPS and "
                           "energy spectra against the true system",
                           ("generative emulator", "stochastic emulator",
                            "probabilistic emulator", "conditional gaussian emulator",
                            "ensemble spread vs error", "spread-skill ratio",
                            "spread skill ratio", "crps of the emulator",
                            "ensemble emulator"))
"""What people call ``emulators.generative_emulator``'s question."""

TERMS = (*TERMS, GENERATIVE_EMULATOR)
