"""The tools' one exception (no imports: the CLI catches it without loading any tool)."""

from __future__ import annotations


class ToolError(Exception):
    """A tool cannot do what was asked; the message says what is wrong and what to do."""
