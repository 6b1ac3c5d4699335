"""The eval harness's one exception: a suite or option it cannot run with (one line)."""

from __future__ import annotations


class EvalError(ValueError):
    """What is wrong with the suite or the options, and what to do."""
