"""One observation cycle of a model (``dko`` steps of ``dt``), traced to one graph when it can.

The built-in ODE systems' steps are plain tensor code with no data-dependent branches, so a
cycle is traced once per input shape (``torch.jit.trace``) and then runs without Python between
the operations: for a 24-member Lorenz-96 ensemble about 3x faster than stepping eagerly, with
bit-identical results (benchmarks/bench_da.py, tests/test_da_methods.py). Plugin models run
eagerly, since a trace would freeze any branch their step takes on the data; so does every call
that needs gradients (4D-Var) and, should torch drop ``torch.jit.trace``, every call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor

from climcopilot.tools.emulators.models import Model, describe_model
from climcopilot.tools.emulators.systems import ODE_SYSTEMS

MAX_TRACED_STEPS = 64  # longer cycles trace one step and loop over it
_TRACED: dict[tuple, Callable[[Tensor], Tensor]] = {}  # kept for the process, like climatologies


class CycleForecast:
    """Propagates states (..., dim) of ``model`` over one cycle: ``dko`` RK4 steps of ``dt`` MTU."""

    def __init__(self, model: Model, dt: float, dko: int) -> None:
        self.model, self.dt, self.dko = model, dt, dko
        self.traceable = (type(model) in ODE_SYSTEMS.values()
                          and callable(getattr(torch.jit, "trace", None)))
        self.traced_steps = dko if dko <= MAX_TRACED_STEPS else 1

    def eager(self, x: Tensor, n_steps: int | None = None) -> Tensor:
        """``n_steps`` (default ``dko``) model steps, op by op (differentiable)."""
        for _ in range(self.dko if n_steps is None else n_steps):
            x = self.model.step(x, self.dt)
        return x

    def __call__(self, x: Tensor) -> Tensor:
        if not self.traceable or torch.is_grad_enabled():
            return self.eager(x)
        key = (describe_model(self.model), self.dt, self.traced_steps, tuple(x.shape), x.dtype,
               x.device)
        graph = _TRACED.get(key)
        if graph is None:
            graph = _TRACED[key] = self._trace(x)
        for _ in range(self.dko // self.traced_steps):
            x = graph(x)
        return x

    def _trace(self, x: Tensor) -> Callable[[Tensor], Tensor]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its deprecation notice; torch.compile is no
            # substitute here (about 20 s to compile on a CPU, slower per call than the trace)
            return torch.jit.trace(lambda state: self.eager(state, self.traced_steps),
                                   x.clone(), check_trace=False)
