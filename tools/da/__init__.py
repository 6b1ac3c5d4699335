"""Data assimilation: twin experiments with variational, ensemble and particle methods."""
