"""A person's verdict on an answer (``/good``, ``/bad``, ``memory feedback``): it counts for
or against the skill the answer used."""

from __future__ import annotations

from climcopilot.agent.checkpoints import load_states
from climcopilot.agent.config import Settings
from climcopilot.agent.findings import count_skill
from climcopilot.agent.state import AgentState
from climcopilot.knowledge.memory import Memory, MemoryStoreError


def rate_session(settings: Settings, session_id: str, verdict: str,
                 state: AgentState | None = None) -> str:
    """Count a session's (first question's, unless ``state`` is given) answer as ``good`` or
    ``bad`` for the skill it used; says what was done."""
    state = state if state is not None else load_states(settings.checkpoints, session_id)[0]
    key = (state.get("memo") or {}).get("skill_key")
    if not key:
        raise MemoryStoreError(f"session {session_id} used no skill to score")
    count_skill(Memory(settings.home), state, "feedback", success=verdict == "good")
    return f"counted a {verdict} answer for skill {key}"
