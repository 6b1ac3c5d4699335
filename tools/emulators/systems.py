"""Chaotic test systems in torch: Lorenz-63, Lorenz-96 and the two-scale Lorenz-96.

Every system works on tensors of shape ``(..., dim)`` (any leading batch dimensions), float64
by default, on CPU or CUDA. Time is in model time units (MTU); RK4 is the integrator.
:func:`integrate` runs an ensemble through a :mod:`.steppers` stepper: Lorenz-96 on columns
(dim, members), hand-fused or compiled (:mod:`.compiled`); the others by their ``step``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators import native
from climcopilot.tools.emulators.compiled import choose_compiled, compiled_step
from climcopilot.tools.emulators.steppers import (
    ColumnStepper,
    Lorenz96Columns,
    ModelStepper,
    NativeStepper,
    Steppable,
    Stepper,
    model_step,
)

STEP_OVERHEAD_S = 1e-4  # eager cost of one RK4 step of one state, all operations' overheads (s)
CHECK_EVERY = 64  # steps between finiteness checks in integrate


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to torch."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ToolError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ToolError("device 'cuda' asked for but no GPU is visible; use 'auto' or 'cpu'")
    return resolved


class DynamicalSystem:
    """An autonomous ODE dx/dt = f(x) on R^dim, stepped with RK4 (PDE systems override the step).

    ``default_dt`` is a stable step (MTU); ``default_spinup`` the time (MTU) to reach the
    attractor from :meth:`initial_state`; ``default_every`` the steps between stored states;
    ``default_exponents`` how many Lyapunov exponents to compute by default (None: all) and
    ``default_averaging`` over how long (MTU per member).
    ``positions`` gives each state variable's place on a periodic ring of length
    ``ring_length`` (grid units) for localisation, or None when the system has no such layout.
    """

    name: str = ""
    dim: int = 0
    default_dt: float = 0.01
    default_spinup: float = 10.0
    default_every: int = 1
    default_exponents: int | None = None
    default_averaging: float = 400.0
    ring_length: float | None = None
    compilable: bool = True  # whether torch.compile speeds the step up (measured)
    has_native: bool = False  # whether native.c has this system's step
    element_step_s: float = 5e-8  # eager cost of one step per state value (s), for compile

    def eager_seconds(self, n_values: int, n_steps: int) -> float:
        """Estimated eager time (s) of ``n_steps`` steps of ``n_values`` state values."""
        return n_steps * (STEP_OVERHEAD_S + n_values * self.element_step_s)

    def tendency(self, x: Tensor) -> Tensor:
        """dx/dt at ``x`` of shape (..., dim); same shape."""
        raise NotImplementedError

    def tendency_jvp(self, x: Tensor, v: Tensor) -> Tensor:
        """The tendency's Jacobian at ``x`` (..., dim) applied to ``v`` (same shape).

        Forward-mode autograd by default; systems override it with the analytic product.
        """
        import torch.autograd.forward_ad as fwAD

        with fwAD.dual_level():
            dual = fwAD.make_dual(x.contiguous(), v.contiguous())
            return fwAD.unpack_dual(self.tendency(dual)).tangent

    def step(self, x: Tensor, dt: float) -> Tensor:
        """One classical fourth-order Runge-Kutta step of length ``dt`` (MTU), a new tensor (by
        the compiled C step where it runs: :meth:`runs_natively`)."""
        return self.native_advance(x, dt, 1) if self.runs_natively(x) else rk4(self.tendency, x, dt)

    def advance(self, x: Tensor, dt: float, n_steps: int) -> Tensor:
        """``x`` after ``n_steps`` steps of ``dt`` MTU, a new tensor (one C call where the
        compiled step runs)."""
        if self.runs_natively(x):
            return self.native_advance(x, dt, n_steps)
        for _ in range(n_steps):
            x = self.step(x, dt)
        return x

    def runs_natively(self, x: Tensor) -> bool:
        """Whether the compiled C step advances ``x``: the system has one (:attr:`has_native`),
        ``x`` is :func:`.native.usable` and no parameter is a tensor asking for a gradient
        (the C step would drop it)."""
        return (self.has_native and native.usable(x)
                and not any(isinstance(value, Tensor) and value.requires_grad
                            for value in vars(self).values()))

    def native_advance(self, x: Tensor, dt: float, n_steps: int) -> Tensor:
        """``x`` after ``n_steps`` steps of the compiled C step, a new contiguous tensor (``x``
        untouched). Only where :meth:`runs_natively`."""
        return self.native_step_(x.clone(memory_format=torch.contiguous_format), dt, n_steps)

    def native_step_(self, x: Tensor, dt: float, n_steps: int) -> Tensor:
        """Advance contiguous states ``x`` in place by ``n_steps`` RK4 steps of the compiled C
        step (:mod:`.native`); returns ``x``. Only where :meth:`runs_natively`."""
        raise NotImplementedError

    def stepper(self, x: Tensor, *, compiled: bool = False) -> Stepper:
        """What :func:`integrate` advances ``x`` (..., dim) with: the compiled C step where it
        runs, else :meth:`step`, compiled by torch.compile when ``compiled`` and the system is
        :attr:`compilable`."""
        if self.runs_natively(x):
            return NativeStepper(self, x)
        if compiled and self.compilable:
            return ModelStepper(self, x, compiled_step(model_step, x.device))
        return ModelStepper(self, x)

    def tangent_step(self, x: Tensor, tangents: Tensor, dt: float) -> tuple[Tensor, Tensor]:
        """One step of ``x`` (members, dim) and of its tangent linear model on ``tangents``
        (members, k, dim): the new state and the propagated tangents (same shapes). For RK4
        this is RK4 applied to the tendency and its Jacobian-vector products."""
        def stage(state: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
            return self.tendency(state), self.tendency_jvp(state.unsqueeze(-2).expand_as(v), v)

        k1, d1 = stage(x, tangents)
        k2, d2 = stage(x + 0.5 * dt * k1, tangents + 0.5 * dt * d1)
        k3, d3 = stage(x + 0.5 * dt * k2, tangents + 0.5 * dt * d2)
        k4, d4 = stage(x + dt * k3, tangents + dt * d3)
        return (x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4),
                tangents + (dt / 6.0) * (d1 + 2.0 * d2 + 2.0 * d3 + d4))

    def positions(self) -> Tensor | None:
        """Ring coordinate of each state variable, shape (dim,), or None (no layout)."""
        return None

    def base_state(self) -> Tensor:
        """A deterministic starting point near the attractor, shape (dim,)."""
        raise NotImplementedError

    def initial_state(self, batch_shape: tuple[int, ...] = (), *, seed: int = 0,
                      device: str | torch.device = "auto",
                      dtype: torch.dtype = torch.float64) -> Tensor:
        """``base_state`` plus N(0, 0.01^2) noise, shape (*batch_shape, dim)."""
        gen = torch.Generator().manual_seed(seed)
        noise = 0.01 * torch.randn(*batch_shape, self.dim, generator=gen, dtype=dtype)
        return (self.base_state().to(dtype) + noise).to(resolve_device(device))

    def describe(self) -> str:
        """Name and parameters, e.g. ``lorenz96(N=40, F=8.0)``."""
        fields = dataclasses.fields(self) if dataclasses.is_dataclass(self) else ()
        return f"{self.name}({', '.join(f'{f.name}={getattr(self, f.name)}' for f in fields)})"


@dataclass
class Lorenz63(DynamicalSystem):
    """Lorenz (1963) convection model, 3 variables."""

    sigma: float = 10.0
    rho: float = 28.0
    beta: float = 8.0 / 3.0

    name = "lorenz63"
    dim = 3
    has_native = True
    default_dt = 0.01

    def tendency(self, x: Tensor) -> Tensor:
        u, v, w = x.unbind(-1)
        return torch.stack((self.sigma * (v - u), u * (self.rho - w) - v,
                            u * v - self.beta * w), dim=-1)

    def native_step_(self, x: Tensor, dt: float, n_steps: int) -> Tensor:
        return native.lorenz63_rk4_(x, self.sigma, self.rho, self.beta, dt, n_steps)

    def tendency_jvp(self, x: Tensor, v: Tensor) -> Tensor:
        u, w_, z = x.unbind(-1)
        du, dw, dz = v.unbind(-1)
        return torch.stack((self.sigma * (dw - du), du * (self.rho - z) - dw - u * dz,
                            du * w_ + u * dw - self.beta * dz), dim=-1)

    def base_state(self) -> Tensor:
        return torch.tensor([1.509, -1.531, 25.46], dtype=torch.float64)


def _l96_advection(x: Tensor) -> Tensor:
    """(x[i+1] - x[i-2]) * x[i-1] on a periodic last axis, a new tensor.

    One wrap-padded copy of ``x`` and slices of it instead of three rolls, and an in-place
    product: about 2x faster than rolls for large ensembles (benchmarks/bench_emulators.py).
    """
    padded = torch.cat((x[..., -2:], x, x[..., :1]), dim=-1)  # x[-2], x[-1], x..., x[0]
    return (padded[..., 3:] - padded[..., :-3]).mul_(padded[..., 1:-2])


def _l96_advection_jvp(x: Tensor, v: Tensor) -> Tensor:
    """The Jacobian of :func:`_l96_advection` at ``x`` applied to ``v``."""
    return ((v.roll(-1, -1) - v.roll(2, -1)) * x.roll(1, -1)
            + (x.roll(-1, -1) - x.roll(2, -1)) * v.roll(1, -1))


@dataclass
class Lorenz96(DynamicalSystem):
    """Lorenz (1996) ring: dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F."""

    N: int = 40
    F: float = 8.0

    name = "lorenz96"
    default_dt = 0.05
    has_native = True
    element_step_s = 1.5e-8  # hand-fused columns

    def __post_init__(self) -> None:
        if self.N != int(self.N) or self.N < 4:
            raise ToolError(f"lorenz96 needs a whole number N >= 4 of sites, got N={self.N}")
        self.N = int(self.N)
        self.dim = self.N
        self.ring_length = float(self.N)

    def tendency(self, x: Tensor) -> Tensor:
        return _l96_advection(x).sub_(x).add_(self.F)

    def column_tendency(self, x: Tensor) -> Tensor:
        """dx/dt of states held as columns (N, members); same shape. Written for inductor,
        where a roll is index arithmetic in the fused loop (a padded copy would be a pass)."""
        return (x.roll(-1, 0) - x.roll(2, 0)) * x.roll(1, 0) - x + self.F

    def tendency_jvp(self, x: Tensor, v: Tensor) -> Tensor:
        return _l96_advection_jvp(x, v) - v

    def native_step_(self, x: Tensor, dt: float, n_steps: int) -> Tensor:
        return native.lorenz96_rk4_(x, float(self.F), dt, n_steps)

    def stepper(self, x: Tensor, *, compiled: bool = False) -> Stepper:
        """The compiled C step on rows where it runs (:class:`NativeStepper`, the fastest);
        else columns: compiled RK4 of :meth:`column_tendency`, or the hand-fused
        :class:`Lorenz96Columns` (allocation-free; the faster one without compiling)."""
        if self.runs_natively(x):
            return NativeStepper(self, x)
        if compiled:
            return ColumnStepper(self, x, compiled_step(lorenz96_column_step, x.device))
        return Lorenz96Columns(x, float(self.F))

    def positions(self) -> Tensor:
        return torch.arange(self.N, dtype=torch.float64)

    def base_state(self) -> Tensor:
        x = torch.full((self.N,), float(self.F), dtype=torch.float64)
        x[0] += 0.01
        return x


@dataclass
class Lorenz96TwoScale(DynamicalSystem):
    """Two-scale Lorenz-96 (Wilks 2005; Arnold et al. 2013): K slow X, J fast Y per X.

    State layout ``[X_1..X_K, Y_1..Y_{JK}]`` with Y_{j,k} at index K + k*J + j;
    dX_k/dt = -X_{k-1}(X_{k-2} - X_{k+1}) - X_k + F - (h c / b) sum_j Y_{j,k},
    dY/dt = -c b Y_{+1}(Y_{+2} - Y_{-1}) - c Y + (h c / b) X_k, Y periodic over all JK.
    """

    K: int = 8
    J: int = 32
    F: float = 20.0
    h: float = 1.0
    b: float = 10.0
    c: float = 10.0

    name = "lorenz96_two_scale"
    default_dt = 0.005
    compilable = False  # compiled, 3-4x slower than eager at 100 members (bench_emulators.py)

    def __post_init__(self) -> None:
        if self.K != int(self.K) or self.J != int(self.J) or self.K < 4 or self.J < 1:
            raise ToolError(f"lorenz96_two_scale needs whole numbers K >= 4 and J >= 1, got "
                            f"K={self.K}, J={self.J}")
        self.K, self.J = int(self.K), int(self.J)
        self.dim = self.K * (self.J + 1)
        self.ring_length = float(self.K)

    def tendency(self, x: Tensor) -> Tensor:
        slow, fast = x[..., : self.K], x[..., self.K:]
        coupling = self.h * self.c / self.b
        fast_sum = fast.unflatten(-1, (self.K, self.J)).sum(-1)
        d_slow = _l96_advection(slow) - slow + self.F - coupling * fast_sum
        # The fast ring advects the other way: -cb Y_{j+1}(Y_{j+2} - Y_{j-1}).
        d_fast = (-self.c * self.b * fast.roll(-1, -1) * (fast.roll(-2, -1) - fast.roll(1, -1))
                  - self.c * fast + coupling * slow.repeat_interleave(self.J, dim=-1))
        return torch.cat((d_slow, d_fast), dim=-1)

    def tendency_jvp(self, x: Tensor, v: Tensor) -> Tensor:
        slow, fast = x[..., : self.K], x[..., self.K:]
        d_slow, d_fast = v[..., : self.K], v[..., self.K:]
        coupling = self.h * self.c / self.b
        slow_out = (_l96_advection_jvp(slow, d_slow) - d_slow
                    - coupling * d_fast.unflatten(-1, (self.K, self.J)).sum(-1))
        fast_out = (-self.c * self.b * (d_fast.roll(-1, -1) * (fast.roll(-2, -1) - fast.roll(1, -1))
                                        + fast.roll(-1, -1) * (d_fast.roll(-2, -1)
                                                               - d_fast.roll(1, -1)))
                    - self.c * d_fast + coupling * d_slow.repeat_interleave(self.J, dim=-1))
        return torch.cat((slow_out, fast_out), dim=-1)

    def positions(self) -> Tensor:
        slow = torch.arange(self.K, dtype=torch.float64)
        fast = torch.arange(self.K * self.J, dtype=torch.float64) / self.J + 0.5 / self.J
        return torch.cat((slow, fast))

    def base_state(self) -> Tensor:
        x = torch.zeros(self.dim, dtype=torch.float64)
        x[: self.K] = self.F / 2.0
        x[0] += 0.5
        x[self.K:] = 0.1 * torch.sin(torch.arange(self.K * self.J, dtype=torch.float64))
        return x


ODE_SYSTEMS: dict[str, type[DynamicalSystem]] = {
    "lorenz63": Lorenz63,
    "lorenz96": Lorenz96,
    "lorenz96_two_scale": Lorenz96TwoScale,
}


def rk4(tendency: Callable[[Tensor], Tensor], x: Tensor, dt: float) -> Tensor:
    """One classical fourth-order Runge-Kutta step of ``dx/dt = tendency(x)`` by ``dt``.

    Fused ``add(..., alpha=)`` and in-place accumulation: the ensembles are memory-bound.
    """
    k1 = tendency(x)
    k2 = tendency(torch.add(x, k1, alpha=0.5 * dt))
    total = torch.add(k1, k2, alpha=2.0)
    k3 = tendency(torch.add(x, k2, alpha=0.5 * dt))
    total.add_(k3, alpha=2.0)
    total.add_(tendency(torch.add(x, k3, alpha=dt)))
    return torch.add(x, total, alpha=dt / 6.0)


def lorenz96_column_step(columns: Tensor, dt: float, system: Lorenz96) -> Tensor:
    """One RK4 step of Lorenz-96 states held as columns (N, members), a new tensor; a
    module-level function, so one ``torch.compile`` serves every instance and size."""
    return rk4(system.column_tendency, columns, dt)


def integrate(system: Steppable, x0: Tensor, dt: float, n_steps: int, every: int = 1) -> Tensor:
    """Trajectory from ``x0`` (..., dim) under ``system`` (RK4 for the ODE systems, a model's
    own step otherwise): states at steps 0, every, 2*every, ...

    Returns shape (n_steps // every + 1, *x0.shape), the first row being ``x0``, written into
    one preallocated tensor. The stored states and the current state are checked every
    :data:`CHECK_EVERY` steps and at the end; ToolError when one is not finite (blow-up:
    reduce ``dt``). Without gradients, a :class:`DynamicalSystem` runs on columns, compiled
    when the run is long (:func:`~climcopilot.tools.emulators.compiled.choose_compiled`).
    """
    if dt <= 0 or n_steps < 0 or every < 1:
        raise ToolError(f"integrate needs dt > 0, n_steps >= 0 and every >= 1; got dt={dt}, "
                        f"n_steps={n_steps}, every={every}")
    out = x0.new_empty((n_steps // every + 1, *x0.shape))
    out[0] = x0
    stepper = _stepper_for(system, x0, n_steps)
    checked = 1  # rows of out already checked (row 0 is the caller's)
    for k in range(1, n_steps + 1):
        stepper.advance(dt)
        if k % every == 0:
            stepper.write(out[k // every])
        if k % CHECK_EVERY == 0 or k == n_steps:
            _check_finite(system.name, out, checked, k // every + 1, every, dt)
            checked = k // every + 1
            if not finite(stepper.state()):
                raise ToolError(f"{system.name} blew up (non-finite state) by step {k} "
                                f"(t={k * dt:g} MTU); reduce dt={dt:g}")
    return out


def _stepper_for(system: Steppable, x0: Tensor, n_steps: int) -> Stepper:
    """The system's own stepper when it has one and no gradient is asked for, else its step."""
    if not isinstance(system, DynamicalSystem) or (torch.is_grad_enabled() and x0.requires_grad):
        return ModelStepper(system, x0)
    seconds = system.eager_seconds(x0.numel(), n_steps)
    return system.stepper(x0, compiled=choose_compiled(seconds))


def finite(x: Tensor) -> bool:
    """Whether every value of ``x`` is finite: one sum, then the exact test if it is not."""
    return bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())


def _check_finite(name: str, out: Tensor, start: int, stop: int, every: int,
                  dt: float) -> None:
    """ToolError naming the first stored state ``out[start:stop]`` that is not finite."""
    if start < stop and not finite(out[start:stop]):
        bad = start + int((~torch.isfinite(out[start:stop]).flatten(1).all(1)).nonzero()[0, 0])
        raise ToolError(f"{name} blew up (non-finite state) at step {bad * every} "
                        f"(t={bad * every * dt:g} MTU); reduce dt={dt:g}")


@contextmanager
def cpu_threads(n: int) -> Iterator[None]:
    """Run with ``n`` torch CPU threads, then restore the caller's count.

    The tensors of these systems are small, so on a shared CPU extra OpenMP threads cost more in
    synchronisation than they gain.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
