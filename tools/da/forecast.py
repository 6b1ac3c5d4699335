"""One observation cycle of a model (``dko`` steps of ``dt``), and whole DA cycles traced into
one graph when they can be.

The built-in ODE systems' steps are plain tensor code with no data-dependent branches, so a
cycle of theirs (forecast, analysis, statistics) is traced once per input shape
(``torch.jit.trace``) and then runs without Python between its operations: a 24-member
Lorenz-96 forecast is about 3x faster than stepping eagerly, bit-identical
(tests/test_da_methods.py). Plugin models run eagerly, since a trace would freeze any branch
their step takes on the data; so does every call that needs gradients (4D-Var) and, should
torch drop ``torch.jit.trace``, every call. A failure inside a traced graph (a factorisation of
a non-finite ensemble) is a plain RuntimeError, not torch's LinAlgError.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable

import torch
from torch import Tensor

from climcopilot.tools.da.fused import fused_step
from climcopilot.tools.emulators.models import Model, describe_model
from climcopilot.tools.emulators.systems import ODE_SYSTEMS

MAX_TRACED_STEPS = 64  # longer cycles trace one step and loop over it
_TRACED: dict[tuple, Callable[..., tuple[Tensor, ...] | Tensor]] = {}  # for the process


def traced(fn: Callable[..., tuple[Tensor, ...] | Tensor], key: Hashable,
           example: tuple[Tensor, ...], enabled: bool = True) -> Callable:
    """``fn`` of tensors traced on ``example`` (kept per ``key`` and input shapes for the
    process; ``key`` must name everything ``fn`` reads besides its inputs), or ``fn`` itself
    when not ``enabled``, when gradients are on or when torch has no ``jit.trace``."""
    if not enabled or torch.is_grad_enabled() or not callable(getattr(torch.jit, "trace", None)):
        return fn
    full_key = (key, *((tuple(x.shape), x.dtype, x.device) for x in example))
    graph = _TRACED.get(full_key)
    if graph is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its deprecation notice; torch.compile is no
            # substitute here (about 20 s to compile on a CPU, slower per call than the trace)
            graph = _TRACED[full_key] = torch.jit.trace(
                fn, tuple(x.clone() for x in example), check_trace=False)
    return graph


class CycleForecast:
    """Propagates states (..., dim) of ``model`` over one cycle: ``dko`` RK4 steps of ``dt`` MTU,
    in one call of the compiled C step where it runs (:meth:`runs_natively`), else the
    hand-fused step of :mod:`.fused` where there is one, traced."""

    def __init__(self, model: Model, dt: float, dko: int) -> None:
        self.model, self.dt, self.dko = model, dt, dko
        self.step = fused_step(model)
        self.traceable = type(model) in ODE_SYSTEMS.values()
        self.key = (describe_model(model), dt)

    def runs_natively(self, x: Tensor) -> bool:
        """Whether states like ``x`` are forecast by the compiled C step (outside any graph:
        a trace would not see it)."""
        runs_natively = getattr(self.model, "runs_natively", None)
        return runs_natively is not None and runs_natively(x)

    def eager(self, x: Tensor, n_steps: int | None = None) -> Tensor:
        """``n_steps`` (default ``dko``) model steps, op by op (differentiable)."""
        for _ in range(self.dko if n_steps is None else n_steps):
            x = self.step(x, self.dt)
        return x

    def native(self, x: Tensor) -> Tensor:
        """One cycle by the compiled C step, a new tensor; only where :meth:`runs_natively`."""
        return self.model.native_advance(x, self.dt, self.dko)

    def __call__(self, x: Tensor) -> Tensor:
        if self.runs_natively(x):
            return self.native(x)
        if self.dko <= MAX_TRACED_STEPS:
            return traced(self.eager, (*self.key, self.dko), (x,), self.traceable)(x)
        one_step = traced(lambda state: self.eager(state, 1), (*self.key, 1), (x,),
                          self.traceable)
        for _ in range(self.dko):
            x = one_step(x)
        return x
