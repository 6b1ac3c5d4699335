"""Emulators and the dynamical systems they learn from (Lorenz-63, Lorenz-96, two-scale L96)."""
