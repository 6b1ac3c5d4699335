"""Checkers: functions that give partial credit for what numbers alone cannot show.

A task names one with ``checker = "module:function"`` (these, or any importable module). A
checker takes the run's :class:`~climcopilot.evals.trace.Trace` (``answer``, ``values``,
``units``, ``figures``, ``tool_calls``) and returns a credit in [0, 1]; it counts as one more
expected item in the task's score.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from climcopilot.evals.trace import Trace

Checker = Callable[[Trace], float]


def load_checker(spec: str) -> Checker:
    """The function named by ``"module:function"``; ValueError saying what is wrong."""
    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise ValueError(f"checker {spec!r} is not 'module:function'")
    try:
        function = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"checker {spec!r} cannot be loaded: {exc}") from None
    if not callable(function):
        raise ValueError(f"checker {spec!r} is not a function")
    return function


def figure_written(trace: Trace) -> float:
    """1 if the answer comes with at least one figure file that exists and is not empty."""
    files = [Path(f) for f in trace.figures]
    return float(any(f.is_file() and f.stat().st_size > 0 for f in files))


def numbers_have_units(trace: Trace) -> float:
    """Fraction of the answer's numbers that carry units (0 when it has no numbers)."""
    values, units = trace.values, trace.units
    return sum(bool(units.get(name)) for name in values) / len(values) if values else 0.0


def soi_leads_with_negative_sign(trace: Trace) -> float:
    """1 if the SOI is found to lead and its strongest link is negative: the SOI (Tahiti minus
    Darwin sea-level pressure) falls as the eastern Pacific warms (Trenberth 1984, Mon. Wea.
    Rev. 112, 326), so any SOI -> Nino SST link must carry a negative sign."""
    mci = trace.values.get("mci_soi")
    return float(mci is not None and mci < 0)
