"""The sandbox's one exception: a setting, input or host that the kernel must not start with."""

from __future__ import annotations


class SandboxError(RuntimeError):
    """One line saying what is wrong and what to do (the CLI prints it as it is)."""
