"""The session kernel: start, execute, capture outputs as compact observations."""
