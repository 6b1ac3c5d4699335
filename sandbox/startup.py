"""What every kernel runs as it starts (IPython ``exec_lines``): the ``tools`` namespace, and
stream output cut into messages of at most :data:`PIECE` characters.

A long print then reaches the host as pieces it streams to a file, not as one message it must
hold whole (the host drops any message over its size limit, see ``kernel.MESSAGE_LIMIT``).
This only spares honest output: nothing the kernel runs is relied on for the host's safety.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from climcopilot.sandbox.namespace import ToolNamespace, tools

PIECE = 1 << 20  # characters per stream message


def _piecewise(stream: Any) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """An ipykernel OutStream hook that sends a long stream message as several."""

    def hook(msg: dict[str, Any]) -> dict[str, Any] | None:
        text = msg["content"].get("text", "")
        if len(text) <= PIECE:
            return msg
        for start in range(0, len(text), PIECE):
            piece = stream.session.msg("stream", {"name": stream.name,
                                                  "text": text[start:start + PIECE]},
                                       parent=msg["parent_header"])
            stream.session.send(stream.pub_thread, piece, ident=stream.topic)
        return None

    return hook


def start() -> ToolNamespace:
    """Install the stream hooks (in the IO thread, where ipykernel flushes and keeps its hooks
    thread-locally); returns the ``tools`` namespace for the user namespace."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "register_hook") and getattr(stream, "pub_thread", None):
            stream.pub_thread.schedule(lambda s=stream: s.register_hook(_piecewise(s)))
    return tools
