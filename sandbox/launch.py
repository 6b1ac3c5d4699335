"""Process launcher for the kernel: limits, process cap, unprivileged uid, then exec the command.

Run as ``python -m climcopilot.sandbox.launch [limits] -- COMMAND...``. Limits are inherited by
everything the command starts (bubblewrap, the kernel, its children): address space, CPU time,
file size, and the number of processes. Linux does not enforce RLIMIT_NPROC for root, so as
root the process count is capped with a ``pids`` cgroup (v1 or v2) where one can be made, and
RLIMIT_NPROC of the unprivileged uid otherwise. As root the launcher then drops to that uid
(``--uid``/``--gid``, no supplementary groups), so bubblewrap builds its user namespace as an
unprivileged user. ``--seccomp`` builds the system-call filter and hands it to bubblewrap
(the command's first word) as ``--seccomp FD``.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys
import time
from pathlib import Path

CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
BIND_WORDS = ("--bind", "--ro-bind")
CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x00020000, 4096, 16384, 1 << 18


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


def cap_hits(name: str) -> int | None:
    """How often a fork in cgroup ``climcopilot-NAME`` was refused at its cap so far (the
    ``max`` line of ``pids.events``); None without such a cgroup."""
    folder = cgroup_dir(name)
    for line in _read(folder / "pids.events").splitlines() if folder is not None else []:
        key, _, count = line.partition(" ")
        if key == "max" and count.strip().isdigit():
            return int(count)
    return None


def apply_limits(memory_mb: int, cpu_seconds: int, processes: int, file_mb: int,
                 cgroup: str, uid: int | None = None, gid: int | None = None) -> None:
    """Address space, CPU time, file size, and process count for this process and its
    children; as root with ``uid``/``gid``, drop to them after joining the cgroup."""
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * mb, memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * mb, file_mb * mb))
    capped = os.geteuid() == 0 and join_pids_cgroup(cgroup, processes)
    if os.geteuid() == 0 and uid is not None and gid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    if not capped and os.geteuid() != 0:
        cap = processes + processes_of(os.geteuid())
        resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))


def bubblewrap_command(command: list[str], stage: Path | None) -> list[str]:
    """``command`` (bubblewrap's) with the seccomp filter as ``--seccomp FD``; with ``stage``
    (as root, before dropping to the unprivileged uid) each ``--bind``/``--ro-bind`` source
    is first bound at ``stage/N``, in a mount namespace of the launcher's own, so that
    bubblewrap reaches it as the unprivileged uid even where the host path does not let that
    uid through (a Python or a workspace under ``/root``)."""
    from climcopilot.sandbox.seccomp import program_fd

    out = [command[0], "--seccomp", str(program_fd())]
    if stage is not None:
        _private_mounts()
        stage = stage / str(os.getpid())  # a restarted kernel's launcher stages anew
        stage.mkdir(mode=0o755)
    i = 1
    while i < len(command):
        word = command[i]
        if stage is not None and word in BIND_WORDS and i + 2 < len(command):
            out += [word, str(_stage(Path(command[i + 1]), stage / str(len(out)))),
                    command[i + 2]]
            i += 3
        else:
            out.append(word)
            i += 1
    return out


def _libc_call(name: str, *args: object) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def _private_mounts() -> None:
    """A mount namespace for this process, none of whose mounts reach the host's."""
    _libc_call("unshare", CLONE_NEWNS)
    _libc_call("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)


def _stage(source: Path, target: Path) -> Path:
    if source.is_dir():
        target.mkdir(mode=0o755)
    else:
        target.touch(mode=0o644)
    _libc_call("mount", bytes(source), bytes(target), None, MS_BIND | MS_REC, None)
    return target


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="climcopilot.sandbox.launch")
    p.add_argument("--memory-mb", type=int, required=True)
    p.add_argument("--cpu-seconds", type=int, required=True)
    p.add_argument("--processes", type=int, required=True)
    p.add_argument("--file-mb", type=int, required=True)
    p.add_argument("--cgroup", required=True, help="name of the pids cgroup (as root)")
    p.add_argument("--uid", type=int, help="as root: the unprivileged uid to drop to")
    p.add_argument("--gid", type=int, help="as root: the unprivileged gid to drop to")
    p.add_argument("--bubblewrap", action="store_true",
                   help="the command is bubblewrap: give it the seccomp filter")
    p.add_argument("--stage", type=Path,
                   help="as root: a new folder where bubblewrap's bind sources are staged")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("no command after --")
    if args.bubblewrap:
        command = bubblewrap_command(command, args.stage)
    apply_limits(args.memory_mb, args.cpu_seconds, args.processes, args.file_mb, args.cgroup,
                 args.uid, args.gid)
    sys.exit(supervise(command))


def supervise(command: list[str], poll_s: float = 0.5) -> int:
    """Run ``command`` as this process's child and wait for it; returns its exit status.

    The launcher stays the command's parent, so bubblewrap's ``--die-with-parent`` (a parent
    *thread* death signal) follows this single-threaded process rather than whichever host
    thread started the kernel. The launcher in turn ends its child when the host process is
    gone (its parent changes) and passes SIGTERM, SIGINT and SIGHUP on to it.
    """
    host = os.getppid()
    child = os.fork()
    if child == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda number, frame: os.kill(child, number))
    while True:
        try:
            pid, status = os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            return 0
        if pid == child:
            return os.waitstatus_to_exitcode(status) % 256
        if os.getppid() != host:  # the host process died without stopping the kernel
            os.kill(child, signal.SIGKILL)
        time.sleep(poll_s)


if __name__ == "__main__":
    main(sys.argv[1:])
