"""What people call the built-in dynamical systems (keys as :mod:`.catalog` takes them)."""

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
