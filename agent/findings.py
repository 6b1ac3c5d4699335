"""What a finished question leaves in memory: the finding (claim, numbers, provenance) and the
success or failure of the skill (plan) it used."""

from __future__ import annotations

from typing import Any

from climcopilot.agent.provenance import data_sources, reused_finding
from climcopilot.agent.state import AgentState, Evidence
from climcopilot.knowledge.memory import Memory
from climcopilot.knowledge.records import Finding


def finding_of(state: AgentState, claim: str, brain: str) -> Finding:
    """The finding this run would write: claim, numbers, key and provenance."""
    evidence = state.get("evidence") or Evidence()
    memo = state.get("memo") or {}
    reused = reused_finding(state)
    provenance = reused["provenance"] if reused else {
        "session_id": state.get("session_id"), "brain": brain,
        "steps": [s.action.label() for s in state.get("steps", [])],
        "sources": data_sources(state), "figures": evidence.figures}
    return Finding(question=state["question"], claim=claim, key=memo.get("key", ""),
                   values=evidence.values, units=evidence.units, provenance=provenance)


def count_skill(memory: Memory, state: AgentState, brain: str, success: bool,
                plan: dict[str, Any] | None = None) -> None:
    """Count a success or failure for the skill this run used (``memo["skill_key"]``),
    creating it with ``plan`` (default the memo's ``skill_plan``) on a first success (the
    store does it under its lock)."""
    memo = state.get("memo") or {}
    key = memo.get("skill_key")
    if key:
        memory.count_skill(key, pattern=state["spec"].generalized, brain=brain,
                           plan=memo.get("skill_plan", {}) if plan is None else plan,
                           success=success)
