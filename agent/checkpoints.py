"""Where sessions are kept: LangGraph checkpoints in sqlite under ``$CLIMCOPILOT_HOME``.

The first question of a session is graph thread ``ID``, later ones ``ID/2``, ``ID/3``...
The state's models are rebuilt on load (an explicit allow-list, :data:`CHECKPOINT_TYPES`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from climcopilot.agent.errors import BrainError
from climcopilot.agent.state import CHECKPOINT_TYPES, AgentState


def thread_id(session_id: str, question: int) -> str:
    """The graph thread of a session's ``question``-th question (1-based)."""
    return session_id if question == 1 else f"{session_id}/{question}"


def saver(db: sqlite3.Connection) -> SqliteSaver:
    """A checkpointer over ``db`` that rebuilds the state's models."""
    return SqliteSaver(db, serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES))


def load_states(path: Path, session_id: str) -> list[AgentState]:
    """The last checkpointed state of each question of a session, in order (BrainError if
    the session is unknown)."""
    states: list[AgentState] = []
    if path.exists():
        with sqlite3.connect(path) as db:
            checkpoints = saver(db)
            while saved := checkpoints.get_tuple(
                    {"configurable": {"thread_id": thread_id(session_id, len(states) + 1)}}):
                states.append(saved.checkpoint["channel_values"])
    if not states:
        raise BrainError(f"no session {session_id!r} in {path}")
    return states
