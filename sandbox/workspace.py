"""The host's side of a session workspace, which the kernel controls and so is never trusted.

Every path is walked from a directory descriptor one component at a time with ``O_NOFOLLOW``,
so a symlink the kernel planted (or swaps in midway) is refused, never followed; files the host
creates are opened with ``O_EXCL``; a file is read only if it is a regular file inside the
workspace. The workspace folder itself is the host's (its parent is out of the kernel's sight).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from climcopilot.sandbox.errors import SandboxError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO cannot block


@dataclass(frozen=True)
class Usage:
    """What the workspace holds: ``bytes`` allocated on disk, ``entries`` (files, folders)."""

    bytes: int
    entries: int

    @property
    def mb(self) -> float:
        return self.bytes / 2**20


class Workspace:
    """A session workspace at ``root``, seen from the host. ``owner`` (uid, gid): who the
    folders the host makes there must belong to, so that an unprivileged kernel can write them
    (None: the caller's own ids)."""

    def __init__(self, root: Path, owner: tuple[int, int] | None = None) -> None:
        self.root = Path(root).resolve()
        self.owner = owner

    def parts(self, path: str | Path) -> tuple[str, ...] | None:
        """``path`` (absolute, or relative to the workspace) as names below the root; None if
        it points outside or has ``..`` in it."""
        path = Path(path)
        if path.is_absolute():
            try:
                path = path.relative_to(self.root)
            except ValueError:
                return None
        parts = path.parts
        if not parts or any(p in ("..", ".", "") for p in parts):
            return None
        return parts

    def _open_dir(self, names: tuple[str, ...]) -> int:
        """A descriptor of the folder ``names`` below the root, never through a symlink."""
        fd = os.open(self.root, DIR_FLAGS)
        try:
            for name in names:
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except OSError:
            os.close(fd)
            raise
        return fd

    def open_file(self, path: str | Path) -> BinaryIO | None:
        """``path`` opened for reading if it is a regular file inside the workspace, else None."""
        parts = self.parts(path)
        if parts is None:
            return None
        try:
            folder = self._open_dir(parts[:-1])
        except OSError:
            return None
        try:
            fd = os.open(parts[-1], READ_FLAGS, dir_fd=folder)
        except OSError:
            return None
        finally:
            os.close(folder)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

    def regular_file(self, path: str | Path) -> Path | None:
        """The absolute path of ``path`` if it is a regular file inside the workspace."""
        handle = self.open_file(path)
        if handle is None:
            return None
        handle.close()
        return self.root.joinpath(*self.parts(path))

    def read_bytes(self, path: str | Path, limit: int) -> bytes:
        """The content of the regular file ``path`` inside the workspace, at most ``limit``
        bytes; a SandboxError for anything else (outside, a symlink, a folder, too big)."""
        handle = self.open_file(path)
        if handle is None:
            raise SandboxError(f"{path} is not a regular file inside the workspace {self.root}")
        with handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise SandboxError(f"{path} is larger than {limit} bytes")
        return data

    def create(self, folder: str, stem: str, suffix: str) -> tuple[BinaryIO, Path]:
        """A new file ``folder/STEM[-k]SUFFIX`` (the first name not taken), opened for writing;
        ``folder`` is made if missing. OSError if ``folder`` is not a real folder."""
        self.prepare((folder,))
        parent = self._open_dir((folder,))
        try:
            for k in range(1, 1000):
                name = f"{stem}{suffix}" if k == 1 else f"{stem}-{k}{suffix}"
                try:
                    fd = os.open(name, NEW_FILE_FLAGS, 0o644, dir_fd=parent)
                except FileExistsError:
                    continue
                return os.fdopen(fd, "wb"), self.root / folder / name
        finally:
            os.close(parent)
        raise FileExistsError(f"{folder}/{stem}{suffix} and 998 more names are taken")

    def prepare(self, folders: tuple[str, ...]) -> None:
        """Make the top-level ``folders`` where missing, and give them and the root to
        :attr:`owner`; a symlink in their place is neither followed nor changed."""
        root = self._open_dir(())
        try:
            for name in folders:
                try:
                    os.mkdir(name, dir_fd=root)
                except FileExistsError:
                    pass
            if self.owner is not None:
                os.fchown(root, *self.owner)
                for name in folders:
                    os.chown(name, *self.owner, dir_fd=root, follow_symlinks=False)
        finally:
            os.close(root)

    def usage(self) -> Usage:
        """Disk space and entries below the root (symlinks count as entries, never followed)."""
        total = entries = 0
        for _, dirs, files, fd in os.fwalk(self.root, follow_symlinks=False):
            for name in (*dirs, *files):
                try:
                    total += os.stat(name, dir_fd=fd, follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
                entries += 1
        return Usage(total, entries)
