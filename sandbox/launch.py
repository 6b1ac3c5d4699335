"""Process launcher for the kernel: set resource limits, then exec the command.

Run as ``python -m climcopilot.sandbox.launch [limits] -- COMMAND...``. Limits are inherited by
everything the command starts (bubblewrap, the kernel, its children): address space, CPU time,
file size, and the number of processes. Linux does not enforce RLIMIT_NPROC for root, so as
root the process count is capped with a ``pids`` cgroup instead (v1 or v2), where one can be
made.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def processes_of(uid: int) -> int:
    """How many processes ``uid`` runs now (Linux /proc; 0 where unknown)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    count = 0
    for entry in proc.iterdir():
        try:
            count += entry.name.isdigit() and entry.stat().st_uid == uid
        except OSError:
            continue
    return count


def cgroup_dir(name: str) -> Path | None:
    """Where the pids cgroup ``climcopilot-NAME`` lives (or would), if this host has one."""
    v1, v2 = CGROUP_ROOTS
    if (v1 / "cgroup.procs").exists():
        return v1 / f"climcopilot-{name}"
    if "pids" in _read(v2 / "cgroup.subtree_control"):
        return v2 / f"climcopilot-{name}"
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def join_pids_cgroup(name: str, processes: int) -> bool:
    """Put this process in a new pids cgroup capped at ``processes``; False if impossible.
    Empty cgroups that earlier kernels left behind are removed first (an rmdir succeeds only
    on a cgroup without processes, so live kernels keep theirs)."""
    folder = cgroup_dir(name)
    if folder is None:
        return False
    for stale in folder.parent.glob("climcopilot-*"):
        _remove(stale)
    try:
        folder.mkdir(exist_ok=True)
        (folder / "pids.max").write_text(str(processes))
        (folder / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        return False
    return True


def remove_cgroup(name: str, wait_s: float = 2.0) -> None:
    """Remove the cgroup of a stopped kernel, waiting up to ``wait_s`` for its last processes
    to exit; harmless if there is none (a later kernel start removes what is left)."""
    folder = cgroup_dir(name)
    deadline = time.monotonic() + wait_s
    while folder is not None and folder.exists() and not _remove(folder):
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)


def _remove(folder: Path) -> bool:
    try:
        folder.rmdir()
    except OSError:
        return False
    return True


def apply_limits(memory_mb: int, cpu_seconds: int, processes: int, file_mb: int,
                 cgroup: str) -> None:
    """Address space, CPU time, file size, and process count for this process and its
    children."""
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * mb, memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * mb, file_mb * mb))
    if os.geteuid() == 0:
        join_pids_cgroup(cgroup, processes)
    elif hasattr(resource, "RLIMIT_NPROC"):
        cap = processes + processes_of(os.geteuid())
        resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="climcopilot.sandbox.launch")
    p.add_argument("--memory-mb", type=int, required=True)
    p.add_argument("--cpu-seconds", type=int, required=True)
    p.add_argument("--processes", type=int, required=True)
    p.add_argument("--file-mb", type=int, required=True)
    p.add_argument("--cgroup", required=True, help="name of the pids cgroup (as root)")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("no command after --")
    apply_limits(args.memory_mb, args.cpu_seconds, args.processes, args.file_mb, args.cgroup)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
