"""What people call the causal-discovery methods and the benchmark systems with known graphs
(keys as the causal tools take them)."""

from __future__ import annotations

from climcopilot.tools.vocabulary import Term

TERMS: tuple[Term, ...] = (
    Term("causal.pcmci", "causal_method", "PCMCI", ("pcmci", "pcmci+", "pcmciplus")),
    Term("causal.granger", "causal_method", "Granger causality", ("granger",)),
    Term("causal.koopman", "causal_method", "Koopman causality", ("koopman",)),
    Term("tigramite_tutorial", "causal_system", "tigramite tutorial process",
         ("tigramite tutorial", "tutorial")),
    Term("rossler_uncoupled", "causal_system", "uncoupled Rossler oscillators",
         ("uncoupled rossler",)),
    Term("rossler_weak_chain", "causal_system", "weakly coupled Rossler chain",
         ("weakly coupled rossler", "rossler chain")),
    Term("rossler", "causal_system", "Rossler oscillator network", ("rossler",)),
    Term("coupled_logistic", "causal_system", "coupled logistic maps",
         ("logistic map", "logistic maps")),
    Term("linear_var", "causal_system", "linear VAR process", ("linear var", "var process")),
    Term("lorenz96", "causal_system", "Lorenz-96", ("lorenz-96", "lorenz 96", "l96")),
)
