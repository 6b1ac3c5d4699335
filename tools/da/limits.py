"""Bounds on the work of one twin experiment: a run that would take hours is refused at once.

Each count is an integer measure of one kind of work. The limits are 20x or more above every
published reproduction and eval task (tests/test_da_limits.py): the 800-particle Lorenz-63 PF
has N x Ko x dim = 2.4e6 (limit 1e8), N x dim x Ko x dko = 6e7 (limit 2e9) and Ko x dko =
25,000 model steps (limit 1e6); Sakov & Oke's 4D-Var has lag x Ko x dko = 1000 (limit 2e4);
Bao et al.'s EnSF (100 variables, N 20, 150 cycles, 200 SDE steps) has N x dim x Ko x
sde_steps = 6e7 (limit 2e9); ensf_learned's default training on 40 variables has
train_steps x 256 x dim = 2e7 (limit 2e9).
"""

from __future__ import annotations

from dataclasses import dataclass

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.inputs import ENSEMBLE_METHODS, TwinInput


@dataclass(frozen=True)
class WorkCount:
    """One bounded count: its name as the error shows it, value, limit and how to lower it."""

    name: str
    value: int
    limit: int
    lower: str


def work_counts(args: TwinInput, dim: int) -> list[WorkCount]:
    """The counts that bound ``args``' run on a system of ``dim`` state variables."""
    counts = [WorkCount("model steps Ko x dko", args.Ko * args.dko, 1_000_000, "lower Ko or dko")]
    if args.method in ENSEMBLE_METHODS:
        counts += [
            WorkCount("N x Ko x dim", args.N * args.Ko * dim, 100_000_000, "lower N or Ko"),
            WorkCount("N x dim x Ko x dko (model values stepped)",
                      args.N * dim * args.Ko * args.dko, 2_000_000_000, "lower N, Ko or dko"),
        ]
    if args.method == "etkf":  # an (N, N) eigendecomposition per cycle
        counts.append(WorkCount("N^3 x Ko", args.N**3 * args.Ko, 100_000_000_000,
                                "lower N or Ko"))
    if args.method == "letkf":  # one (N, N) eigendecomposition per state variable and cycle
        counts.append(WorkCount("N^3 x dim x Ko", args.N**3 * dim * args.Ko, 100_000_000_000,
                                "lower N or Ko"))
    # sde_steps reverse-SDE steps of the whole ensemble per cycle
    if args.method in ("ensf", "ensf_learned"):
        counts.append(WorkCount("N x dim x Ko x sde_steps (values stepped by the reverse SDE)",
                                args.N * dim * args.Ko * args.sde_steps, 2_000_000_000,
                                "lower N, Ko or sde_steps"))
    if args.method == "ensf_learned":  # training the learned prior: 256 states per step
        counts.append(WorkCount("train_steps x 256 x dim (values seen in training)",
                                args.train_steps * 256 * dim, 2_000_000_000,
                                "lower train_steps"))
    if args.method == "4dvar":  # up to 50 minimiser iterations over the window per cycle
        counts.append(WorkCount("lag x Ko x dko", args.lag * args.Ko * args.dko, 20_000,
                                "shorten lag or lower Ko"))
    return counts


def check_work(args: TwinInput, dim: int) -> None:
    """ToolError naming the first count over its limit, unless ``args.allow_large``."""
    if args.allow_large:
        return
    for count in work_counts(args, dim):
        if count.value > count.limit:
            raise ToolError(f"{count.name} = {count.value:,} exceeds the limit of "
                            f"{count.limit:,}; {count.lower}, or pass allow_large=true")
