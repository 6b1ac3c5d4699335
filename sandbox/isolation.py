"""How the kernel is isolated: bubblewrap, a user namespace, seccomp, an environment allow-list,
and resource limits. ``docs/sandbox.md`` has the threat model and each flag's reason.

With bubblewrap the kernel sees only what it needs, read-only (the system's ``/usr``, ``/etc``,
``/sys``, Python, the tool packages and plugins, the data folders), its own workspace
read-write and fresh ``/tmp`` and ``/dev/shm`` of bounded size; it has no network, its own
pid, IPC, UTS and cgroup namespaces, and runs as an unprivileged uid in a user namespace with
no capabilities, no_new_privs and a seccomp filter. Started as root, the launcher first drops
to :data:`SANDBOX_UID` on the host too. As root the kernel is never started with capabilities:
without bubblewrap or user namespaces, only an explicit ``--no-sandbox`` runs it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from climcopilot.sandbox.errors import SandboxError
from climcopilot.sandbox.launch import cgroup_dir
from climcopilot.tools.plugins import source_dirs

ENV_ALLOWED = {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
               "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "CLIMCOPILOT_DEVICE",
               "CLIMCOPILOT_NATIVE", "CLIMCOPILOT_COMPILE",
               "PYTHONPATH", "CLIMCOPILOT_PLUGIN_PATHS"}
"""Variables passed from the parent to the kernel (plus ``LC_*``); nothing else, no secrets."""

SANDBOX_UID = SANDBOX_GID = 65534
"""The kernel's uid and gid (``nobody``/``nogroup``) inside its user namespace, and on the host
when ClimCopilot runs as root."""

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
"""Host folders the kernel sees read-only (a symlink, as on merged-/usr systems, stays one)."""

KERNEL_PACKAGES = ("climcopilot", "climcopilot.sandbox", "climcopilot.tools")
"""What the kernel imports of ClimCopilot; their folders are bound read-only."""

SCRATCH_MB = 1024
"""Size of the kernel's private ``/tmp`` and of its ``/dev/shm`` (each a tmpfs, in memory)."""

KERNEL_HOME = "/tmp/home"
"""The kernel's HOME (and IPython, matplotlib and cache folders): new at every kernel start,
so nothing a cell leaves in the workspace is loaded by a later kernel on its own."""


@dataclass(frozen=True)
class Bound:
    """A setting's allowed range; ``why`` says what the minimum is for."""

    variable: str
    low: int
    high: int
    why: str = ""

    def parse(self, text: str) -> int:
        """The value of ``text``, or a SandboxError naming the variable and the range."""
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or not self.low <= value <= self.high:
            raise SandboxError(f"{self.variable}={text!r} is not allowed: give a whole number "
                               f"from {self.low} to {self.high}{self.why}")
        return value


BOUNDS = {
    "memory_mb": Bound("CLIMCOPILOT_KERNEL_MEMORY_MB", 1024, 1 << 22,
                       " (MB of address space; a kernel needs 1024 to start, the tools 2048)"),
    "cpu_seconds": Bound("CLIMCOPILOT_KERNEL_CPU_SECONDS", 10, 10**8,
                         " (seconds of CPU time; a kernel needs a few to start)"),
    "processes": Bound("CLIMCOPILOT_KERNEL_PROCESSES", 32, 1 << 22,
                       " (processes and threads; a kernel needs about 16 to start)"),
    "workspace_mb": Bound("CLIMCOPILOT_WORKSPACE_MB", 16, 1 << 30, " (MB on disk)"),
    "workspace_files": Bound("CLIMCOPILOT_WORKSPACE_FILES", 100, 10**9, " (files and folders)"),
}
"""Each numeric policy field, its environment variable and its range."""


@dataclass(frozen=True)
class SandboxPolicy:
    """What the kernel may use. ``isolate=False`` (``--no-sandbox``) skips bubblewrap.

    ``memory_mb``: address-space cap per process; ``cpu_seconds``: CPU time of the kernel
    process; ``processes``: processes and threads allowed; ``file_mb``: largest file it may
    write; ``workspace_mb``/``workspace_files``: the workspace quota (disk space, entries);
    ``data_dirs``: host directories bound read-only (visible even when under a home dir).
    """

    isolate: bool = True
    memory_mb: int = 8192
    cpu_seconds: int = 3600
    processes: int = 256
    file_mb: int = 4096
    workspace_mb: int = 4096
    workspace_files: int = 10000
    data_dirs: tuple[Path, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls, isolate: bool = True) -> SandboxPolicy:
        """Defaults, overridden by the variables of :data:`BOUNDS` and ``CLIMCOPILOT_DATA_DIRS``
        (``:``-separated absolute folders); a bad value is a one-line SandboxError."""
        env = os.environ
        limits = {name: bound.parse(env[bound.variable]) for name, bound in BOUNDS.items()
                  if env.get(bound.variable, "") != ""}
        return cls(isolate=isolate and env.get("CLIMCOPILOT_NO_SANDBOX", "") != "1",
                   data_dirs=data_dirs(env.get("CLIMCOPILOT_DATA_DIRS", "")), **limits)


def climcopilot_home() -> Path:
    """``CLIMCOPILOT_HOME`` (default ``~/.climcopilot``): memory, config, checkpoints and every
    session's workspace, which the kernel must not see (its own workspace excepted)."""
    return Path(os.environ.get("CLIMCOPILOT_HOME") or Path.home() / ".climcopilot").expanduser()


def data_dirs(listed: str) -> tuple[Path, ...]:
    """The folders of ``CLIMCOPILOT_DATA_DIRS``: each absolute and existing, and none holding
    what the kernel must not see (``/``, ``/proc``, the temp folder of other kernels'
    connection files, ``CLIMCOPILOT_HOME``)."""
    private = [Path("/proc"), Path("/run"), Path(tempfile.gettempdir()).resolve(),
               climcopilot_home().resolve()]
    dirs = []
    for entry in (e for e in listed.split(":") if e):
        path = Path(entry)
        if not path.is_absolute() or not path.is_dir():
            raise SandboxError(f"CLIMCOPILOT_DATA_DIRS: {entry!r} is not an absolute path to "
                               "an existing folder; list data folders as /abs/one:/abs/two")
        exposed = [p for p in private if p == path.resolve() or path.resolve() in p.parents]
        if exposed:
            raise SandboxError(f"CLIMCOPILOT_DATA_DIRS: {entry!r} would show the kernel "
                               f"{exposed[0]}; list the data folders themselves")
        dirs.append(path)
    return tuple(dirs)


@lru_cache(maxsize=1)
def bubblewrap() -> str | None:
    """Path of a working ``bwrap`` (one that can start a network-less sandbox), else None."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    ok = _runs([path, "--ro-bind", "/", "/", "--dev", "/dev", "--unshare-net", "true"])
    return path if ok else None


@lru_cache(maxsize=1)
def user_namespaces() -> bool:
    """Whether bubblewrap can give the kernel a user namespace as the uid it runs as (as root:
    :data:`SANDBOX_UID`, i.e. an unprivileged user namespace)."""
    path = bubblewrap()
    return path is not None and _runs(
        [path, "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
         "--ro-bind", "/", "/", "--unshare-net", "true"], drop=os.geteuid() == 0)


def _runs(argv: list[str], drop: bool = False) -> bool:
    ids = {"user": SANDBOX_UID, "group": SANDBOX_GID, "extra_groups": []} if drop else {}
    try:
        return subprocess.run(argv, capture_output=True, timeout=20, **ids).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@lru_cache(maxsize=1)
def seccomp_problem() -> str | None:
    """Why the seccomp filter cannot be built here (libseccomp or pyseccomp missing), or None."""
    from climcopilot.sandbox.seccomp import build

    try:
        build()
    except SandboxError as exc:
        return str(exc)
    return None


def uses_bubblewrap(policy: SandboxPolicy) -> bool:
    return policy.isolate and bubblewrap() is not None


def refusal(policy: SandboxPolicy) -> str | None:
    """Why a kernel must not start under ``policy`` on this host, or None. As root it would
    keep every capability without bubblewrap and a user namespace, so it is refused unless
    ``--no-sandbox`` is explicit; a sandbox without its seccomp filter is refused too."""
    if not policy.isolate:
        return None
    if os.geteuid() == 0 and bubblewrap() is None:
        return ("running as root without a working bubblewrap, the kernel would keep root's "
                "capabilities: apt-get install bubblewrap, or pass --no-sandbox")
    if os.geteuid() == 0 and not user_namespaces():
        return ("user namespaces are unavailable here, so as root the kernel would keep its "
                "capabilities: enable them (sysctl user.max_user_namespaces=15000, and "
                "kernel.unprivileged_userns_clone=1 where it exists), or pass --no-sandbox")
    return seccomp_problem() if uses_bubblewrap(policy) else None


def describe(policy: SandboxPolicy) -> str:
    """One status line saying how the kernel is isolated, or why it will not start."""
    why_not = refusal(policy)
    if why_not is not None:
        return f"sandbox: REFUSED: {why_not}"
    capped = os.geteuid() != 0 or uses_bubblewrap(policy) or cgroup_dir("probe") is not None
    limits = (f"memory {policy.memory_mb} MB, CPU {policy.cpu_seconds} s, "
              + (f"{policy.processes} processes" if capped else "process count NOT capped "
                 "(root without a pids cgroup)")
              + f", workspace {policy.workspace_mb} MB / {policy.workspace_files} files")
    if uses_bubblewrap(policy):
        user = (f"user namespace (uid {SANDBOX_UID}, no capabilities)" if user_namespaces()
                else "NO user namespace (unavailable here; unprivileged uid)")
        data = f" and {len(policy.data_dirs)} data folders" if policy.data_dirs else ""
        return (f"sandbox: bubblewrap, {user}, seccomp, no network; sees the system and "
                f"Python read-only, its own workspace{data}, no other session, memory or "
                f"config, no secrets; {limits}")
    why = "--no-sandbox given" if not policy.isolate else "bubblewrap not found"
    return (f"sandbox: OFF ({why}): scrubbed environment and limits only ({limits}); "
            "install bubblewrap for isolation")


@dataclass(frozen=True)
class KernelIdentity:
    """What a started kernel process is, from its ``/proc/self/status`` and ``uid_map``:
    ``cap_eff`` (effective capabilities, a bit mask), ``no_new_privs``, ``seccomp`` (0 off, 1
    strict, 2 filter) and whether it is in a ``user_namespace`` of its own."""

    uid: int
    gid: int
    cap_eff: int
    no_new_privs: bool
    seccomp: int
    user_namespace: bool

    @classmethod
    def parse(cls, text: str) -> KernelIdentity:
        """From the status text with a ``UidMap:`` line (the map's numbers) appended."""
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        try:
            return cls(uid=int(fields["Uid"].split()[1]), gid=int(fields["Gid"].split()[1]),
                       cap_eff=int(fields["CapEff"], 16),
                       no_new_privs=fields["NoNewPrivs"].strip() == "1",
                       seccomp=int(fields["Seccomp"]),
                       user_namespace=fields["UidMap"].split() != ["0", "0", "4294967295"])
        except (KeyError, IndexError, ValueError) as exc:
            raise SandboxError(f"unreadable kernel status (missing {exc})") from None

    def problems(self) -> list[str]:
        """How it falls short of a sandboxed kernel (empty: it does not)."""
        found = [f"CapEff is {self.cap_eff:016x}, not 0"] if self.cap_eff else []
        found += [] if self.no_new_privs else ["no_new_privs is off"]
        found += [] if self.seccomp == 2 else [f"Seccomp is {self.seccomp}, not 2 (filter)"]
        found += [] if self.uid else ["it runs as uid 0"]
        return found + ([] if self.user_namespace else ["it has no user namespace"])

    def line(self) -> str:
        return (f"uid {self.uid}, CapEff {self.cap_eff:016x}, NoNewPrivs "
                f"{int(self.no_new_privs)}, Seccomp {self.seccomp}, user namespace "
                f"{'yes' if self.user_namespace else 'no'}")


def gpu_devices() -> list[Path]:
    """NVIDIA device nodes on this host (empty without a GPU)."""
    return sorted(Path("/dev").glob("nvidia*"))


def kernel_env(workspace: Path, policy: SandboxPolicy) -> dict[str, str]:
    """The kernel's environment: the allow-listed parent variables plus its own. In the
    sandbox HOME and the config and cache folders are fresh per kernel (:data:`KERNEL_HOME`);
    without it they are in the workspace."""
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOWED or k.startswith("LC_")}
    if "PYTHONPATH" in env:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in python_path())
    home = Path(KERNEL_HOME) if uses_bubblewrap(policy) else workspace
    env.update(HOME=str(home), CLIMCOPILOT_WORKSPACE=str(workspace), MPLBACKEND="Agg",
               PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               IPYTHONDIR=str(home / ".ipython"), MPLCONFIGDIR=str(home / ".config" / "mpl"),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    return env


def python_path() -> list[Path]:
    """The parent's ``PYTHONPATH`` entries that are absolute folders (a relative one would
    import from the workspace)."""
    entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return [Path(e) for e in entries if os.path.isabs(e) and os.path.isdir(e)]


def _package_dirs() -> set[Path]:
    dirs = set()
    for name in KERNEL_PACKAGES:
        spec = importlib.util.find_spec(name)
        dirs.update(Path(p) for p in (spec.submodule_search_locations or []) if spec)
    return dirs


@dataclass(frozen=True)
class KernelDirs:
    """One kernel's host-side folder ``root`` (a fresh temporary folder). ``host/`` (mode
    0700, the host's alone) holds the kernel spec, the connection file and ``ipc/`` (the
    kernel's sockets, owned by the kernel's uid); ``stage/`` holds the launcher's mount points
    when it runs as root. ``root`` is then traversable by the sandbox's group, and by no one
    else."""

    root: Path

    @property
    def host(self) -> Path:
        return self.root / "host"

    @property
    def ipc(self) -> Path:
        return self.host / "ipc"

    @property
    def connection(self) -> Path:
        return self.host / "connection.json"

    @property
    def stage(self) -> Path:
        return self.root / "stage"

    def make(self, owner: tuple[int, int] | None) -> None:
        """Create the folders; with ``owner`` (the kernel's uid, gid), let it use ``ipc/``
        and reach ``stage/``."""
        self.host.mkdir(mode=0o700)
        self.ipc.mkdir(mode=0o700)
        if owner is not None:
            self.stage.mkdir(mode=0o755)
            os.chown(self.root, 0, owner[1])
            self.root.chmod(0o710)
            os.chown(self.ipc, *owner)


def _bwrap_args(workspace: Path, dirs: KernelDirs, policy: SandboxPolicy) -> list[str]:
    scratch = str(SCRATCH_MB * 1024 * 1024)
    args = [str(bubblewrap())]
    if user_namespaces():
        args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
                 "--disable-userns"]
    args += ["--cap-drop", "ALL"]
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    args += ["--dev", "/dev", "--proc", "/proc",
             "--perms", "1777", "--size", scratch, "--tmpfs", "/tmp",
             "--perms", "1777", "--size", scratch, "--tmpfs", "/dev/shm",
             "--dir", KERNEL_HOME]
    needed = {Path(sys.base_prefix), Path(sys.prefix), *_package_dirs(), *source_dirs(),
              *python_path(), *policy.data_dirs}
    for path in sorted(needed):
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    # Memory, config, checkpoints and other sessions: hidden, even under a bound folder.
    if climcopilot_home().exists():
        args += ["--perms", "0555", "--tmpfs", str(climcopilot_home())]
    args += ["--bind", str(workspace), str(workspace), "--bind", str(dirs.ipc), str(dirs.ipc),
             "--ro-bind", str(dirs.connection), str(dirs.connection)]
    for device in gpu_devices():
        args += ["--dev-bind", str(device), str(device)]
    # In its own pid namespace the kernel's parent is pid 1, which ipykernel's parent poller
    # would read as "parent gone"; parent pid 1 switches the poller off (--die-with-parent
    # does its job) and keeps interrupts working.
    return args + ["--remount-ro", "/dev", "--remount-ro", "/",
                   "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                   "--unshare-cgroup-try", "--hostname", "climcopilot-sandbox",
                   "--new-session", "--die-with-parent", "--setenv", "JPY_PARENT_PID", "1",
                   "--chdir", str(workspace)]


def kernel_command(workspace: Path, dirs: KernelDirs, policy: SandboxPolicy) -> list[str]:
    """The command that starts the kernel: launcher (limits, uid) -> bubblewrap -> ipykernel.

    The kernel sees of ``dirs`` only its connection file (read-only) and ``ipc/`` (its
    sockets). Python runs with ``-s -P``: neither the user's site folder nor the current
    folder (the workspace) is on ``sys.path``. A SandboxError if the policy cannot be
    honoured here (:func:`refusal`).
    """
    why_not = refusal(policy)
    if why_not is not None:
        raise SandboxError(why_not)
    sandboxed = uses_bubblewrap(policy)
    launcher = [sys.executable, "-s", "-P", "-m", "climcopilot.sandbox.launch",
                "--memory-mb", str(policy.memory_mb), "--cpu-seconds", str(policy.cpu_seconds),
                "--processes", str(policy.processes), "--file-mb", str(policy.file_mb),
                "--cgroup", dirs.root.name]
    if sandboxed:
        launcher += ["--bubblewrap"]
    if sandboxed and os.geteuid() == 0:
        launcher += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
                     "--stage", str(dirs.stage)]
    sandbox = _bwrap_args(workspace, dirs, policy) if sandboxed else []
    kernel = [sys.executable, "-s", "-P", "-m", "ipykernel_launcher", "-f", "{connection_file}",
              "--IPKernelApp.exec_lines=from climcopilot.sandbox.startup import start; "
              "tools = start(); del start"]
    return [*launcher, "--", *sandbox, *kernel]


def kernel_owner(policy: SandboxPolicy) -> tuple[int, int] | None:
    """Who must own the folders the kernel writes (workspace, sockets): the sandbox's uid and
    gid when ClimCopilot runs as root with bubblewrap; None when the caller's own ids do."""
    return (SANDBOX_UID, SANDBOX_GID) if os.geteuid() == 0 and uses_bubblewrap(policy) else None
