"""The agent's own exceptions; each message is one line the CLI prints as it is."""

from __future__ import annotations


class BrainError(RuntimeError):
    """The brain cannot go on (endpoint unreachable, no recipe, unknown session)."""


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""
