"""The kernel's system-call filter: a deny list compiled to BPF by libseccomp (``pyseccomp``).

bubblewrap loads the program (``--seccomp FD``) just before it starts the kernel, with
no_new_privs set, so nothing in the sandbox can lift it. Everything not listed is allowed; a
denied call fails with ``EPERM`` (``clone3`` with ``ENOSYS``, so glibc falls back to ``clone``,
whose namespace flags can be checked). Calls of another ABI (i386 ``int 0x80``, x32) kill the
process: libseccomp's default for a foreign architecture.
"""

from __future__ import annotations

import errno
import os
from types import ModuleType
from typing import TYPE_CHECKING

from climcopilot.sandbox.errors import SandboxError

if TYPE_CHECKING:
    from pyseccomp import SyscallFilter

DENIED: dict[str, str] = {
    **dict.fromkeys(("mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig",
                     "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr"),
                    "mounts: remounting or unmounting would undo the sandbox's view of the host"),
    **dict.fromkeys(("setns", "unshare"), "namespaces: joining or making one"),
    **dict.fromkeys(("keyctl", "add_key", "request_key"), "the kernel keyring is not namespaced"),
    **dict.fromkeys(("ptrace", "process_vm_readv", "process_vm_writev", "kcmp"),
                    "reading or steering other processes"),
    **dict.fromkeys(("bpf", "perf_event_open", "userfaultfd", "lookup_dcookie"),
                    "kernel attack surface with no use in a notebook"),
    **dict.fromkeys(("io_uring_setup", "io_uring_enter", "io_uring_register"),
                    "io_uring runs operations that seccomp never sees"),
    **dict.fromkeys(("kexec_load", "kexec_file_load", "init_module", "finit_module",
                     "delete_module", "reboot", "swapon", "swapoff", "syslog", "acct",
                     "quotactl", "settimeofday", "clock_settime", "clock_adjtime", "iopl",
                     "ioperm", "vhangup"), "host administration"),
    **dict.fromkeys(("open_by_handle_at", "name_to_handle_at"),
                    "file handles reach files outside the mounts"),
}
"""Calls denied outright, with why."""

CLONE_NAMESPACE_FLAGS = {"CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000,
                         "CLONE_NEWUTS": 0x04000000, "CLONE_NEWIPC": 0x08000000,
                         "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
                         "CLONE_NEWNET": 0x40000000}
"""``clone`` flags (argument 0 on x86-64 and arm64) that make a namespace: denied."""

TERMINAL_IOCTLS = {"TIOCSTI": 0x5412, "TIOCLINUX": 0x541C}
"""``ioctl`` requests that type into a terminal: denied (``--new-session`` also detaches it)."""

AF_VSOCK = 40
"""Virtual-machine sockets are not network-namespaced: ``socket(AF_VSOCK)`` is refused."""


def _library() -> ModuleType:
    try:
        import pyseccomp
    except (ImportError, RuntimeError) as exc:
        raise SandboxError(f"the seccomp filter needs libseccomp and pyseccomp ({exc}): "
                           "apt-get install libseccomp2 and pip install pyseccomp, or pass "
                           "--no-sandbox") from None
    return pyseccomp


def build() -> SyscallFilter:
    """The filter: allow by default, deny :data:`DENIED`, namespace flags of ``clone``,
    terminal injection and vsock; ``clone3`` answers ENOSYS."""
    sc = _library()
    flt = sc.SyscallFilter(sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            flt.add_rule(deny, name)
        except OSError as exc:
            raise SandboxError(f"libseccomp does not know the system call {name!r} ({exc}): "
                               "upgrade libseccomp2, or pass --no-sandbox") from None
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for flag in CLONE_NAMESPACE_FLAGS.values():
        flt.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    for request in TERMINAL_IOCTLS.values():
        flt.add_rule(deny, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    flt.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.EQ, AF_VSOCK))
    return flt


def program_fd() -> int:
    """A file descriptor (inheritable, at offset 0) holding the BPF program of :func:`build`,
    for bubblewrap's ``--seccomp FD``."""
    flt = build()
    fd = os.memfd_create("climcopilot-seccomp", 0)  # no MFD_CLOEXEC: bubblewrap inherits it
    with os.fdopen(os.dup(fd), "wb") as out:
        flt.export_bpf(out)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
