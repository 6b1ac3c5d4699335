"""What people call the data-assimilation methods (keys as :mod:`.inputs` takes them)."""

from __future__ import annotations

from climcopilot.tools.vocabulary import Term

TERMS: tuple[Term, ...] = (
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
)
