"""Compiled RK4 steps of Lorenz-63 and Lorenz-96 (native.c), loaded with ctypes.

Data assimilation steps ensembles of a few hundred numbers, where a torch step costs what its
operations cost to launch (about 1.5 us each, 31 for a Lorenz-96 step, 16 for Lorenz-63), and
integrates ensembles of 10,000 members, where torch and NumPy make one pass over memory per
operation. The C steps advance 8 members at a time, one per vector lane, through all their
stages and steps in the L1 cache: called from Python, a 40 x 40 Lorenz-96 step takes 11 us
instead of 56 (traced torch), 25 Lorenz-63 steps of 100 particles 19 us instead of 700, and
10,000 Lorenz-96 members step about 4x faster than the hand-fused torch step
(benchmarks/README.md). The arithmetic is the torch RK4's; on CPUs with FMA, to the last bit
(tests/test_emulators_native.py).

The library is compiled with the system's C compiler (``$CC``, else ``cc``) the first time it
is needed, for this CPU (``-march=native``), into ``_native/`` beside this file (``make
install`` does it) or, where that is read-only (a sandboxed kernel), the user's cache folder;
its file name is a hash of the source, the flags and the CPU, so a changed source or machine
builds anew. Without a compiler, or with ``CLIMCOPILOT_NATIVE=never``, the torch steps run
instead: the same numbers, slower.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

SOURCE = Path(__file__).with_name("native.c")
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-fPIC", "-shared")
MODE_VARIABLE = "CLIMCOPILOT_NATIVE"
BUILD_TIMEOUT_S = 120

_I64, _F64, _PTR = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p
SIGNATURES = {"lorenz96_rk4": (_PTR, _I64, _I64, _F64, _F64, _I64),
              "lorenz63_rk4": (_PTR, _I64, _F64, _F64, _F64, _F64, _I64)}


def enabled() -> bool:
    """``CLIMCOPILOT_NATIVE``: ``auto`` (default) uses the C steps, ``never`` the torch ones."""
    mode = os.environ.get(MODE_VARIABLE, "auto").strip().lower() or "auto"
    if mode not in ("auto", "never"):
        from climcopilot.tools.base import ToolError

        raise ToolError(f"{MODE_VARIABLE}={mode!r} is not auto or never; unset it or pick one")
    return mode == "auto"


def _cpu_identity() -> str:
    """What ``-march=native`` compiles for: the CPU's model and feature flags."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    wanted = ("model name", "flags", "Features", "CPU part")
    return "\n".join(sorted({line for line in lines if line.split(":")[0].strip() in wanted}))


def library_name() -> str:
    """The built library's file name: a hash of the source, the flags and the CPU."""
    digest = hashlib.sha256(SOURCE.read_bytes())
    for part in (*FLAGS, platform.machine(), _cpu_identity(), sys.platform):
        digest.update(part.encode())
    return f"native-{digest.hexdigest()[:16]}.so"


def build_folders() -> list[Path]:
    """Where the library is looked for and built, in order: beside this file, then the cache."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return [SOURCE.parent / "_native", Path(cache_home) / "climcopilot" / "native"]


def build(folder: Path) -> Path:
    """Compile the library into ``folder`` (written to a temporary name, then renamed, so a
    process never loads half a file); OSError or CalledProcessError when it cannot."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise OSError("no C compiler (cc, gcc or $CC) on the PATH")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / library_name()
    handle, partial = tempfile.mkstemp(dir=folder, suffix=".so.partial")
    os.close(handle)
    try:
        subprocess.run([compiler, *FLAGS, "-o", partial, str(SOURCE), "-lm"], check=True,
                       capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        os.chmod(partial, 0o755)  # mkstemp's 0600 would hide it from a sandboxed kernel's uid
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    for stale in folder.glob("native-*.so"):  # builds of an earlier source or another CPU
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def library() -> ctypes.CDLL | None:
    """The loaded library (built on first use), or None: without a word when
    ``CLIMCOPILOT_NATIVE=never``, with one warning saying why when it cannot be built."""
    return _load() if enabled() else None


@cache
def _load() -> ctypes.CDLL | None:
    name, reasons = library_name(), []
    for folder in build_folders():
        path = folder / name
        try:
            lib = ctypes.CDLL(str(path if path.exists() else build(folder)))
        except (OSError, subprocess.SubprocessError) as exc:
            detail = (getattr(exc, "stderr", None) or str(exc)).strip().splitlines()
            reasons.append(f"{folder}: {detail[-1] if detail else type(exc).__name__}")
            continue
        for function, argtypes in SIGNATURES.items():
            getattr(lib, function).argtypes = argtypes
            getattr(lib, function).restype = ctypes.c_int
        return lib
    warnings.warn("the compiled Lorenz-63/96 steps are unavailable, so the slower torch steps "
                  "run (" + "; ".join(reasons) + ")", RuntimeWarning, stacklevel=2)
    return None


def usable(x: Tensor) -> bool:
    """Whether the C steps can advance ``x``: a plain float64 tensor on the CPU, with no
    derivative to record (no gradient, no forward-mode level, no ``torch.func`` transform),
    not inside ``torch.jit.trace`` or ``torch.compile`` (which would not see them), and the
    library loaded."""
    import torch
    import torch.autograd.forward_ad as forward_ad

    return (x.device.type == "cpu" and x.dtype == torch.float64
            and not (x.requires_grad and torch.is_grad_enabled())
            and forward_ad._current_level < 0 and not torch.jit.is_tracing()
            and not torch.compiler.is_compiling()
            and not torch._C._functorch.is_functorch_wrapped_tensor(x)
            and library() is not None)


def lorenz96_rk4_(x: Tensor, forcing: float, dt: float, n_steps: int) -> Tensor:
    """Advance Lorenz-96 states ``x`` (..., dim), contiguous, in place by ``n_steps`` RK4 steps
    of ``dt`` MTU; returns ``x``. Only where :func:`usable`."""
    dim = x.shape[-1]
    if _load().lorenz96_rk4(x.data_ptr(), x.numel() // dim, dim, forcing, dt, n_steps):
        raise MemoryError("no memory for a Lorenz-96 step's scratch space")
    return x


def lorenz63_rk4_(x: Tensor, sigma: float, rho: float, beta: float, dt: float,
                  n_steps: int) -> Tensor:
    """Advance Lorenz-63 states ``x`` (..., 3), contiguous, in place by ``n_steps`` RK4 steps
    of ``dt`` MTU; returns ``x``. Only where :func:`usable`."""
    _load().lorenz63_rk4(x.data_ptr(), x.numel() // 3, sigma, rho, beta, dt, n_steps)
    return x


if __name__ == "__main__":  # make install: build beside this file
    try:
        print(f"compiled Lorenz-63/96 steps: {build(build_folders()[0])}")
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"compiled Lorenz-63/96 steps not built ({exc}); the torch steps will run")
