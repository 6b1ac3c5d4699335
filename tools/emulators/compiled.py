"""Optional ``torch.compile`` of the RK4 steps, with the eager step as the fallback.

Inductor fuses each RK4 stage into one loop (C++ on the CPU, Triton on CUDA): for Lorenz-96
about 17 passes over the state a step against the hand-fused eager step's 68. The first call
compiles (8 to 80 s here, benchmarks/README.md), so :func:`choose_compiled` asks for it only
when the eager run would take longer than :data:`COMPILE_AFTER_S`. ``CLIMCOPILOT_COMPILE`` =
``auto`` (default), ``never`` or ``always`` overrides that. Where compiling is not possible (no C++
compiler, no Triton, an unwritable cache, an inductor error) the eager step runs instead and a
warning says why, once per process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

MODE_VARIABLE = "CLIMCOPILOT_COMPILE"
MODES = ("auto", "never", "always")
COMPILE_AFTER_S = 120.0  # auto: compile when the eager run would take longer (s)

SystemStep = Callable[[Tensor, float, object], Tensor]
"""A step ``f(states, dt, model)``: a module-level function, the model passed as an argument,
so one compilation serves every model instance."""

_COMPILED: dict[int, SystemStep] = {}
_FAILED: dict[str, str] = {}  # device type -> why compiling failed there


def compile_mode() -> str:
    """``CLIMCOPILOT_COMPILE``: auto, never or always (anything else is an error)."""
    mode = os.environ.get(MODE_VARIABLE, "auto").strip().lower() or "auto"
    if mode not in MODES:
        from climcopilot.tools.base import ToolError

        raise ToolError(f"{MODE_VARIABLE}={mode!r} is not one of {', '.join(MODES)}; unset it "
                        "or pick one")
    return mode


def choose_compiled(estimated_eager_s: float) -> bool:
    """Whether to compile for a run whose eager time is estimated at ``estimated_eager_s``."""
    mode = compile_mode()
    return mode == "always" or (mode == "auto" and estimated_eager_s > COMPILE_AFTER_S)


def unavailable_reason(device: torch.device) -> str | None:
    """Why ``torch.compile`` cannot run on ``device`` here, or None when it can."""
    if device.type in _FAILED:
        return _FAILED[device.type]
    if device.type == "cpu" and shutil.which(os.environ.get("CXX", "g++")) is None:
        return "no C++ compiler (g++ or $CXX) on the PATH"
    if device.type == "cuda":
        from torch.utils._triton import has_triton

        if not has_triton():
            return "Triton is not installed"
    if device.type not in ("cpu", "cuda"):
        return f"device {device.type} is not supported"
    return ensure_cache_dir()


def ensure_cache_dir() -> str | None:
    """Point inductor's cache at a writable folder (its default under /tmp, or the temporary
    folder of this process, e.g. a sandbox's private /tmp); None when it is writable."""
    configured = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    candidates = [Path(configured)] if configured else []
    candidates.append(Path(tempfile.gettempdir()) / f"torchinductor_{os.getuid()}")
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=folder)
        except OSError:
            continue
        probe.close()
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)
        return None
    return f"no writable inductor cache folder (tried {', '.join(map(str, candidates))})"


def compiled_step(step: SystemStep, device: torch.device) -> SystemStep:
    """``step`` compiled (dynamic shapes: one compilation serves every ensemble size and
    parameter value), or ``step`` itself where compiling is unavailable or fails."""
    reason = unavailable_reason(device)
    if reason is not None:
        _warn_once(device, reason)
        return step
    if id(step) not in _COMPILED:
        _COMPILED[id(step)] = torch.compile(step, dynamic=True)
    fast = _COMPILED[id(step)]

    def run(x: Tensor, dt: float, system: object) -> Tensor:
        if device.type in _FAILED:
            return step(x, dt, system)
        try:
            return fast(x, dt, system)
        except Exception as exc:  # inductor and compiler errors come in many types
            _warn_once(device, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            return step(x, dt, system)

    return run


def _warn_once(device: torch.device, reason: str) -> None:
    if device.type not in _FAILED:
        _FAILED[device.type] = reason
        warnings.warn(f"torch.compile is not available on {device.type} ({reason}); the eager "
                      f"RK4 step runs instead (set {MODE_VARIABLE}=never to skip trying)",
                      RuntimeWarning, stacklevel=3)
