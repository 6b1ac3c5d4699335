"""How :func:`~climcopilot.tools.emulators.systems.integrate` advances an ensemble.

:class:`ModelStepper` calls any model's ``step``. Lorenz-96 holds the ensemble as columns
(dim, members) instead: with the members along the fast axis, a shift along the state (the
ring's neighbours) is a shift by whole contiguous rows, and every operation is one long
vectorised pass. Large ensembles are memory-bound, and a new tensor per operation costs page
faults (a 3 MB temporary goes back to the OS and is faulted in again), which at 10,000
Lorenz-96 members halves NumPy's and eager torch's rate (benchmarks/bench_emulators.py); the
hand-fused step allocates nothing per step.

:class:`NativeStepper` runs the compiled C step of :mod:`.native` on rows, in place (where
it runs, the fastest). Without it, :class:`ColumnStepper` runs a step function on the columns
(the compiled Lorenz-96 RK4 of :mod:`.compiled`) and :class:`Lorenz96Columns` is the
hand-fused, allocation-free Lorenz-96 step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor

ColumnStep = Callable[[Tensor, float, object], Tensor]
"""One step of ``model`` (the third argument) for states held as columns: (dim, members) ->
(dim, members), a new tensor."""


class Steppable(Protocol):
    """What :class:`ModelStepper` needs of a model: its name and ``step(x, dt)`` on (..., dim)."""

    name: str

    def step(self, x: Tensor, dt: float) -> Tensor: ...


class Stepper(Protocol):
    """An ensemble being advanced: ``advance`` by ``dt`` MTU, ``state`` (any layout, for the
    finiteness check), ``write`` into ``out`` of the initial states' shape (..., dim)."""

    def advance(self, dt: float) -> None: ...

    def state(self) -> Tensor: ...

    def write(self, out: Tensor) -> None: ...


def model_step(x: Tensor, dt: float, model: Steppable) -> Tensor:
    """``model.step(x, dt)``: a module-level function of its inputs, so one ``torch.compile``
    of it serves every model instance, parameter value and ensemble size."""
    return model.step(x, dt)


class ModelStepper:
    """States (..., dim) advanced by ``step(x, dt, model)`` (default :func:`model_step`; or a
    compiled version of it), one new tensor per step."""

    def __init__(self, model: Steppable, x: Tensor,
                 step: Callable[[Tensor, float, Steppable], Tensor] = model_step) -> None:
        self.model, self.x, self._step = model, x, step

    def advance(self, dt: float) -> None:
        self.x = self._step(self.x, dt, self.model)

    def state(self) -> Tensor:
        return self.x

    def write(self, out: Tensor) -> None:
        out.copy_(self.x)


class NativeStepper:
    """States ``x`` (..., dim), as one contiguous copy, advanced in place by the model's
    compiled C step (``native_step_``): one pass over the ensemble a step, no allocation."""

    def __init__(self, model: object, x: Tensor) -> None:
        self.model, self.x = model, x.clone(memory_format=torch.contiguous_format)

    def advance(self, dt: float) -> None:
        self.model.native_step_(self.x, dt, 1)

    def state(self) -> Tensor:
        return self.x

    def write(self, out: Tensor) -> None:
        out.copy_(self.x)


class Columns:
    """An ensemble of ``dim`` variables held as columns: ``state`` is (dim, members), valid
    until the next step; ``write`` copies it back to rows (..., dim)."""

    dim: int

    def state(self) -> Tensor:
        raise NotImplementedError

    def write(self, out: Tensor) -> None:
        out.view(-1, self.dim).copy_(self.state().T)


class ColumnStepper(Columns):
    """States ``x`` (..., dim) held as columns (dim, members), advanced by ``step(columns, dt,
    model)``."""

    def __init__(self, model: object, x: Tensor, step: ColumnStep) -> None:
        self.dim = x.shape[-1]
        self.columns = x.reshape(-1, self.dim).T.contiguous()
        self.model, self._step = model, step

    def advance(self, dt: float) -> None:
        self.columns = self._step(self.columns, dt, self.model)

    def state(self) -> Tensor:
        return self.columns


class Lorenz96Columns(Columns):
    """Lorenz-96 RK4, hand-fused: dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F.

    The state and the stage input live in wrap-padded buffers (dim + 3, members): rows 0 and 1
    are sites N-2 and N-1, rows 2..N+1 the ring, row N+2 site 0, so the neighbours are slices.
    Per stage: y = x + c k (into the padded buffer), the wrap rows, d = y_{i+1} - y_{i-2},
    d *= y_{i-1}, k = d - y, k += F, acc += w k; 31 operations a step, no allocation. The same
    arithmetic, in the same order, as
    :meth:`~climcopilot.tools.emulators.systems.DynamicalSystem.step`.
    """

    def __init__(self, x: Tensor, forcing: float) -> None:
        self.dim = n = x.shape[-1]
        members = x.numel() // n
        self.padded = x.new_empty(n + 3, members)
        self.padded[2:n + 2] = x.reshape(members, n).T
        self.stage = torch.empty_like(self.padded)
        self.k, self.diff, self.acc = (x.new_empty(n, members) for _ in range(3))
        self.forcing = torch.tensor(forcing, dtype=x.dtype, device=x.device)

    def _tendency_into(self, padded: Tensor, out: Tensor) -> None:
        """``out`` = ((y_{i+1} - y_{i-2}) y_{i-1} - y) + F, y the ring rows of ``padded``: the
        operations of :meth:`~climcopilot.tools.emulators.systems.Lorenz96.tendency` in its
        order, so the trajectory is the same to the last bit (``addcmul_`` would fuse the
        product into the sum and round differently)."""
        n = self.dim
        padded[0:2].copy_(padded[n:n + 2])
        padded[n + 2].copy_(padded[2])
        torch.sub(padded[3:], padded[:-3], out=self.diff)
        torch.sub(self.diff.mul_(padded[1:-2]), padded[2:n + 2], out=out).add_(self.forcing)

    def advance(self, dt: float) -> None:
        n = self.dim
        x, y = self.padded[2:n + 2], self.stage[2:n + 2]
        self._tendency_into(self.padded, self.acc)  # acc = k1
        previous = self.acc
        for c, w in ((0.5, 2.0), (0.5, 2.0), (1.0, 1.0)):
            torch.add(x, previous, alpha=c * dt, out=y)
            self._tendency_into(self.stage, self.k)
            self.acc.add_(self.k, alpha=w)
            previous = self.k
        x.add_(self.acc, alpha=dt / 6.0)

    def state(self) -> Tensor:
        return self.padded[2:self.dim + 2]
