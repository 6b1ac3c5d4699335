"""Every built-in dynamical system by name: the ODEs of :mod:`.systems` and the PDEs of
:mod:`.pdes`, built with their parameters overridden."""

from __future__ import annotations

import dataclasses

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators.pdes import PDE_SYSTEMS
from climcopilot.tools.emulators.systems import ODE_SYSTEMS, DynamicalSystem

SYSTEMS: dict[str, type[DynamicalSystem]] = {**ODE_SYSTEMS, **PDE_SYSTEMS}


def get_system(name: str, **params) -> DynamicalSystem:
    """The system called ``name`` with its parameters overridden by ``params``."""
    if name not in SYSTEMS:
        raise ToolError(f"unknown system {name!r}; known: {', '.join(SYSTEMS)}")
    cls = SYSTEMS[name]
    allowed = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ToolError(f"{name} has no parameter {', '.join(unknown)}; "
                        f"its parameters: {', '.join(allowed)}")
    return cls(**params)
