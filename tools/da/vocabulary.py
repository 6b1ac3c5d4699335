"""What people call the data-assimilation methods and observation operators (keys as
:mod:`.inputs` takes them)."""

from __future__ import annotations

from climcopilot.tools.vocabulary import Term

METHOD_TERMS: tuple[Term, ...] = (
    Term("oi", "da_method", "optimal interpolation", ("optimal interpolation", "oi")),
    Term("3dvar", "da_method", "3D-Var",
         ("3d-var", "3d var", "3dvar", "var3d", "three-dimensional variational")),
    Term("4dvar", "da_method", "4D-Var (strong constraint)",
         ("4d-var", "4d var", "4dvar", "var4d", "strong-constraint 4d-var",
          "four-dimensional variational")),
    Term("enkf", "da_method", "stochastic EnKF",
         ("stochastic enkf", "enkf", "perturbed-observation enkf", "ensemble kalman filter",
          "enkf_n")),
    Term("etkf", "da_method", "ETKF", ("etkf", "ensemble transform kalman filter")),
    Term("denkf", "da_method", "DEnKF", ("denkf", "deterministic enkf")),
    Term("letkf", "da_method", "LETKF",
         ("letkf", "local etkf", "local ensemble transform kalman filter")),
    Term("pf", "da_method", "bootstrap particle filter",
         ("particle filter", "bootstrap particle filter", "pf", "sir filter")),
    Term("ensf", "da_method", "EnSF (ensemble score filter)",
         ("ensf", "ensemble score filter", "score-based filter", "score filter",
          "score-based ensemble filter")),
    Term("ensf_learned", "da_method", "EnSF with a learned prior (score-based DA)",
         ("ensf_learned", "learned-prior ensf", "learned prior", "score-based da with a learned "
          "prior", "learned score filter", "score-based data assimilation")),
)

OBS_OPERATOR_TERMS: tuple[Term, ...] = (
    Term("identity", "obs_operator", "identity (linear) observations",
         ("identity", "linear observations", "linear obs", "observed directly")),
    Term("arctan", "obs_operator", "arctan observations",
         ("arctan", "atan", "arctangent", "inverse tangent", "arctan observations")),
    Term("quadratic", "obs_operator", "quadratic observations (x^2)",
         ("quadratic", "squared", "x^2", "x squared", "quadratic observations")),
    Term("abs", "obs_operator", "absolute-value observations (|x|)",
         ("abs", "absolute value", "|x|", "absolute-value observations")),
)

TERMS: tuple[Term, ...] = (*METHOD_TERMS, *OBS_OPERATOR_TERMS)
