"""What "a model" is for ClimCopilot: something that steps a state forward in time.

The built-in systems (:class:`~climcopilot.tools.emulators.systems.DynamicalSystem`) satisfy
:class:`Model` as they are; a user's torch emulator is wrapped in a few lines with
:class:`TorchModel`. Plugins offer models through the ``climcopilot.models`` entry-point group
(name -> a factory returning a model); :func:`resolve_model` finds a model by name, built-in
systems first.

Optional capabilities, read with the helpers below when a model does not declare them:
``differentiable`` (default True: ``step`` is made of torch operations), ``device`` (default
None: the model runs wherever its input lives), ``positions()`` and ``ring_length`` (default
None: no spatial layout, so no localisation) and ``describe()`` (default: the name). A plugin
model's knowledge card is the ``card`` attribute of its factory (a function attribute, or a
class attribute when the factory is the model's class).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.plugins import MODEL_GROUP, one_line, plugin_points


@runtime_checkable
class Model(Protocol):
    """A time-stepping model of a state with ``dim`` variables.

    ``step(x, dt)`` maps states (..., dim) to the states ``dt`` model time units (MTU) later,
    same shape and dtype, batched over the leading dimensions (ensemble members);
    ``default_dt`` is the step it is meant to take (MTU); ``base_state()`` is a starting point
    near its attractor, shape (dim,) (used to spin up a climatology).
    """

    name: str
    dim: int
    default_dt: float

    def step(self, x: Tensor, dt: float) -> Tensor: ...

    def base_state(self) -> Tensor: ...


def is_differentiable(model: Model) -> bool:
    """Whether gradients flow through ``model.step`` (4D-Var needs it); default True."""
    return bool(getattr(model, "differentiable", True))


def model_positions(model: Model) -> Tensor | None:
    """Each state variable's ring coordinate (dim,), or None when the model has no layout."""
    positions = getattr(model, "positions", None)
    return positions() if callable(positions) else None


def describe_model(model: Model) -> str:
    """The model's ``describe()`` (name and parameters), else its name."""
    describe = getattr(model, "describe", None)
    return describe() if callable(describe) else model.name


class TorchModel:
    """A torch ``nn.Module`` emulator as a :class:`Model`.

    ``module`` maps a batch of states (B, dim) to (B, dim): the tendency dx/dt (``tendency=
    True``, integrated here with RK4 for any dt) or the state one step ``dt`` later
    (``tendency=False``, which only steps by its own ``dt``). Inputs are cast to the dtype and
    device of the module's parameters and the outputs back, so a float32 module serves float64
    DA code (a module without parameters gets its inputs as they are); ``device`` says where
    the module lives. ``base_state`` (dim,) is a state near the attractor (default zeros), used
    when the model makes the truth; ``positions`` (dim,) and ``ring_length`` give the spatial
    layout for localisation.
    """

    def __init__(self, module: nn.Module, dim: int, dt: float, *, name: str = "torch_model",
                 tendency: bool = False, differentiable: bool = True,
                 base_state: Tensor | None = None, positions: Tensor | None = None,
                 ring_length: float | None = None) -> None:
        if dim < 1 or not dt > 0:
            raise ToolError(f"TorchModel needs dim >= 1 and dt > 0 MTU; got dim={dim}, dt={dt}")
        parameter = next(module.parameters(), None)
        self.module = module.eval()
        self.name, self.dim, self.default_dt = name, dim, dt
        self.tendency, self.differentiable = tendency, differentiable
        self.device = parameter.device if parameter is not None else None
        self.dtype = parameter.dtype if parameter is not None else None
        self._base_state = (torch.zeros(dim, dtype=torch.float64) if base_state is None
                            else base_state.to(torch.float64))
        self._positions, self.ring_length = positions, ring_length

    def _call(self, x: Tensor) -> Tensor:
        flat = x.reshape(-1, self.dim).to(self.device or x.device, self.dtype or x.dtype)
        return self.module(flat).to(x.device, x.dtype).reshape(x.shape)

    def step(self, x: Tensor, dt: float) -> Tensor:
        """The states (..., dim) ``dt`` MTU later."""
        if not self.tendency:
            if abs(dt - self.default_dt) > 1e-12 * self.default_dt:
                raise ToolError(f"{self.name} steps by its fixed dt={self.default_dt:g} MTU, not "
                                f"{dt:g}; set dt={self.default_dt:g}")
            return self._call(x)
        k1 = self._call(x)
        k2 = self._call(x + 0.5 * dt * k1)
        k3 = self._call(x + 0.5 * dt * k2)
        k4 = self._call(x + dt * k3)
        return x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

    def base_state(self) -> Tensor:
        return self._base_state.clone()

    def positions(self) -> Tensor | None:
        return self._positions

    def describe(self) -> str:
        return f"{self.name}(torch emulator, dim={self.dim})"


def builtin_systems() -> list[str]:
    """Names of the built-in systems (the ODEs and PDEs of :mod:`climcopilot.tools.emulators`)."""
    from climcopilot.tools.emulators.catalog import SYSTEMS

    return list(SYSTEMS)


def known_models() -> list[str]:
    """Names :func:`resolve_model` accepts: built-in systems, then plugin models."""
    builtin = builtin_systems()
    plugins = [ep.name for ep in plugin_points(MODEL_GROUP) if ep.name not in builtin]
    return [*builtin, *dict.fromkeys(plugins)]


def build_model(name: str, factory: Callable[..., Model], params: dict[str, Any]) -> Model:
    """Call a plugin's factory with ``params``; a ToolError says what is wrong."""
    try:
        inspect.signature(factory).bind(**params)
    except TypeError as exc:
        raise ToolError(f"model {name!r} does not take parameters {sorted(params)}: {exc}") \
            from None
    except ValueError:  # no signature to check (a builtin); the call below will say
        pass
    try:
        model = factory(**params)
    except ToolError:
        raise
    except Exception as exc:  # the plugin's own failure, as one line
        raise ToolError(f"model {name!r} could not be built with {params}: {one_line(exc)}") \
            from None
    if not isinstance(model, Model):
        raise ToolError(f"model {name!r}: its factory returned a {type(model).__name__}, which "
                        "lacks name, dim, default_dt, step() or base_state() (docs/plugins.md)")
    return model


def resolve_model(name: str, **params: Any) -> Model:
    """The model called ``name`` with parameters ``params``: a built-in system (get_system),
    else a plugin model; an unknown name is a ToolError listing the known ones."""
    if name in builtin_systems():
        return get_system(name, **params)
    point = next((ep for ep in plugin_points(MODEL_GROUP) if ep.name == name), None)
    if point is None:
        raise ToolError(f"unknown model {name!r}; known: {', '.join(known_models())} "
                        "(plugins add more: docs/plugins.md)")
    try:
        factory = point.load()
    except Exception as exc:  # a broken plugin: say so rather than "unknown"
        raise ToolError(f"model {name!r} ({point.value}) failed to load: {one_line(exc)}; "
                        "`climcopilot tools check` tells more") from None
    return build_model(name, factory, params)
