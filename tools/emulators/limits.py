"""Bounds on the work one emulator call may ask for, so a tiny ``dt`` or a huge ensemble is a
one-line error instead of a run that only the cell timeout ends.

Each limit is a count, the same on every machine; at the limits a call takes minutes here (a
2-core VM): about 10^6 Lorenz-96 steps of one state, 10^10 state values stepped (members x
steps x variables, tangent vectors counted as states). ``allow_large=True`` lifts them.
"""

from __future__ import annotations

import math

from climcopilot.tools.base import ToolError

MAX_STEPS = 1_000_000  # solver steps of one trajectory (spin-up included)
MAX_VALUE_STEPS = 10_000_000_000  # members x steps x state values
MAX_STORED_VALUES = 250_000_000  # values kept in memory (2 GB of float64)
MAX_SAMPLE_STEPS = 50_000_000  # training: epochs x pairs x rollout steps
OVERRIDE = "allow_large=true"


def step_count(duration: float, dt: float, *, what: str = "duration",
               allow_large: bool = False) -> int:
    """``round(duration / dt)`` solver steps, at most :data:`MAX_STEPS` unless ``allow_large``.

    ``duration`` and ``dt`` in MTU; ``what`` names the duration in the error.
    """
    ratio = duration / dt if dt > 0 else math.inf
    if not math.isfinite(ratio) or (ratio > MAX_STEPS + 0.5 and not allow_large):
        raise ToolError(f"{what} {duration:g} MTU at dt={dt:g} MTU is {ratio:.3g} solver steps; "
                        f"the limit is {MAX_STEPS:,}: lower {what} or raise dt, or pass "
                        f"{OVERRIDE}")
    return round(ratio)


def check_work(*, members: int, steps: int, values: int, stored: int = 0,
               allow_large: bool = False, hint: str = "lower the duration or members") -> None:
    """ToolError when ``members`` x ``steps`` x ``values`` (state values per member, tangent
    vectors included) exceeds :data:`MAX_VALUE_STEPS` or ``stored`` values kept exceed
    :data:`MAX_STORED_VALUES`, unless ``allow_large``; ``hint`` says what to lower."""
    if allow_large:
        return
    work = members * steps * values
    if work > MAX_VALUE_STEPS:
        raise ToolError(f"{members:,} members x {steps:,} steps x {values:,} values = "
                        f"{work:.3g} state updates; the limit is {MAX_VALUE_STEPS:.0e}: {hint}, "
                        f"or pass {OVERRIDE}")
    if stored > MAX_STORED_VALUES:
        raise ToolError(f"the result would keep {stored:.3g} values ({8 * stored / 1e9:.1f} GB of "
                        f"float64); the limit is {MAX_STORED_VALUES:.2g}: {hint} or keep fewer "
                        f"states (raise every), or pass {OVERRIDE}")


def check_training(*, epochs: int, pairs: int, rollout_steps: int,
                   allow_large: bool = False) -> None:
    """ToolError when ``epochs`` x ``pairs`` x ``rollout_steps`` exceeds
    :data:`MAX_SAMPLE_STEPS`, unless ``allow_large``."""
    work = epochs * pairs * rollout_steps
    if work > MAX_SAMPLE_STEPS and not allow_large:
        raise ToolError(f"{epochs:,} epochs x {pairs:,} training pairs x {rollout_steps} rollout "
                        f"steps = {work:.3g} sample steps; the limit is {MAX_SAMPLE_STEPS:.0e}: "
                        f"lower epochs, duration or members, or pass {OVERRIDE}")


MAX_SWEEP_SAMPLE_STEPS = 1_000_000_000  # sweeps: runs x iterations x training pairs
MAX_SWEEP_ONLINE_STEPS = 5_000_000  # sweeps: runs x online RK4 steps (a network call each)


def check_sweep(*, runs: int, iterations: int, pairs: int, online_steps: int,
                allow_large: bool = False) -> None:
    """ToolError when a sweep's training (``runs`` x ``iterations`` x ``pairs``) exceeds
    :data:`MAX_SWEEP_SAMPLE_STEPS` or its online runs (``runs`` x ``online_steps``) exceed
    :data:`MAX_SWEEP_ONLINE_STEPS`, unless ``allow_large``."""
    if allow_large:
        return
    training = runs * iterations * pairs
    if training > MAX_SWEEP_SAMPLE_STEPS:
        raise ToolError(f"{runs:,} runs x {iterations:,} iterations x {pairs:,} training pairs "
                        f"= {training:.3g} sample steps; the limit is "
                        f"{MAX_SWEEP_SAMPLE_STEPS:.0e}: lower runs, iterations or "
                        f"max_samples, or pass {OVERRIDE}")
    online = runs * online_steps
    if online > MAX_SWEEP_ONLINE_STEPS:
        raise ToolError(f"{runs:,} runs x {online_steps:,} online steps = {online:.3g}; the "
                        f"limit is {MAX_SWEEP_ONLINE_STEPS:.0e}: lower runs or "
                        f"online_duration, or raise dt, or pass {OVERRIDE}")
