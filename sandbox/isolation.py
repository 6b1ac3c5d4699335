"""How the kernel is isolated: bubblewrap, an environment allow-list, and resource limits.

With bubblewrap the host is read-only, home directories and /tmp are hidden (a private /tmp
instead), only the session workspace is writable, there is no network (``--unshare-net``), and
the sandbox dies with its parent. Without bubblewrap (macOS, locked-down hosts) the kernel runs
with the scrubbed environment and the limits only, and :func:`describe` says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import climcopilot.sandbox as _package
from climcopilot.sandbox.launch import cgroup_dir
from climcopilot.tools.plugins import source_dirs

ENV_ALLOWED = {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
               "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "CLIMCOPILOT_DEVICE",
               "PYTHONPATH", "CLIMCOPILOT_PLUGIN_PATHS"}
"""Variables passed from the parent to the kernel (plus ``LC_*``); nothing else, no secrets."""


@dataclass(frozen=True)
class SandboxPolicy:
    """What the kernel may use. ``isolate=False`` (``--no-sandbox``) skips bubblewrap.

    ``memory_mb``: address-space cap per process; ``cpu_seconds``: CPU time of the kernel
    process; ``processes``: new processes allowed; ``file_mb``: largest file it may write;
    ``data_dirs``: host directories bound read-only (visible even when under a home dir).
    """

    isolate: bool = True
    memory_mb: int = 8192
    cpu_seconds: int = 3600
    processes: int = 256
    file_mb: int = 4096
    data_dirs: tuple[Path, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls, isolate: bool = True) -> SandboxPolicy:
        """Defaults, overridden by ``CLIMCOPILOT_KERNEL_MEMORY_MB``, ``..._CPU_SECONDS``,
        ``..._PROCESSES`` and ``CLIMCOPILOT_DATA_DIRS`` (``:``-separated)."""
        env = os.environ
        dirs = tuple(Path(d) for d in env.get("CLIMCOPILOT_DATA_DIRS", "").split(":") if d)
        return cls(isolate=isolate and env.get("CLIMCOPILOT_NO_SANDBOX", "") != "1",
                   memory_mb=int(env.get("CLIMCOPILOT_KERNEL_MEMORY_MB", cls.memory_mb)),
                   cpu_seconds=int(env.get("CLIMCOPILOT_KERNEL_CPU_SECONDS", cls.cpu_seconds)),
                   processes=int(env.get("CLIMCOPILOT_KERNEL_PROCESSES", cls.processes)),
                   data_dirs=dirs)


@lru_cache(maxsize=1)
def bubblewrap() -> str | None:
    """Path of a working ``bwrap`` (one that can start a network-less sandbox), else None."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--unshare-net", "true"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return path if ok else None


def uses_bubblewrap(policy: SandboxPolicy) -> bool:
    return policy.isolate and bubblewrap() is not None


def describe(policy: SandboxPolicy) -> str:
    """One status line saying how the kernel is isolated."""
    capped = os.geteuid() != 0 or cgroup_dir("probe") is not None
    limits = (f"memory {policy.memory_mb} MB, CPU {policy.cpu_seconds} s, "
              + (f"{policy.processes} processes" if capped else "process count NOT capped "
                 "(root without a pids cgroup)"))
    if uses_bubblewrap(policy):
        return f"sandbox: bubblewrap (no network, host read-only, no secrets; {limits})"
    why = "--no-sandbox given" if not policy.isolate else "bubblewrap not found"
    return (f"sandbox: OFF ({why}): scrubbed environment and limits only ({limits}); "
            "install bubblewrap for isolation")


def gpu_devices() -> list[Path]:
    """NVIDIA device nodes on this host (empty without a GPU)."""
    return sorted(Path("/dev").glob("nvidia*"))


def kernel_env(workspace: Path) -> dict[str, str]:
    """The kernel's environment: the allow-listed parent variables plus its own."""
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOWED or k.startswith("LC_")}
    env.update(HOME=str(workspace), CLIMCOPILOT_WORKSPACE=str(workspace), MPLBACKEND="Agg",
               PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               IPYTHONDIR=str(workspace / ".ipython"),
               MPLCONFIGDIR=str(workspace / ".cache" / "matplotlib"),
               XDG_CACHE_HOME=str(workspace / ".cache"))
    return env


def _bwrap_args(workspace: Path, sockets: Path, policy: SandboxPolicy) -> list[str]:
    hidden = {Path("/tmp"), Path("/home"), Path("/root"), Path.home()}
    args = [str(bubblewrap()), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in sorted(hidden):
        if path.is_dir():
            args += ["--tmpfs", str(path)]
    # What the kernel needs to run, even where it lies under a hidden directory.
    needed = {Path(sys.base_prefix), Path(sys.prefix), Path(_package.__file__).parents[1],
              *source_dirs(), *policy.data_dirs}
    for path in sorted(needed):
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    for path in (workspace, sockets):
        args += ["--bind", str(path), str(path)]
    for device in gpu_devices():
        args += ["--dev-bind", str(device), str(device)]
    # In its own pid namespace the kernel's parent is pid 1, which ipykernel's parent poller
    # would read as "parent gone"; parent pid 1 switches the poller off (--die-with-parent
    # does its job) and keeps interrupts working.
    return args + ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                   "--die-with-parent", "--setenv", "JPY_PARENT_PID", "1",
                   "--chdir", str(workspace)]


def kernel_command(workspace: Path, sockets: Path, policy: SandboxPolicy) -> list[str]:
    """The command that starts the kernel: launcher (limits) -> bubblewrap -> ipykernel."""
    launcher = [sys.executable, "-m", "climcopilot.sandbox.launch",
                "--memory-mb", str(policy.memory_mb), "--cpu-seconds", str(policy.cpu_seconds),
                "--processes", str(policy.processes), "--file-mb", str(policy.file_mb),
                "--cgroup", sockets.name, "--"]
    sandbox = _bwrap_args(workspace, sockets, policy) if uses_bubblewrap(policy) else []
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return launcher + sandbox + kernel
