"""Standard diagnostics on series and fields."""
