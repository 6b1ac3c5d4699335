"""Causal discovery on time series: PCMCI/PCMCI+, Granger, Koopman causality, benchmarks."""
