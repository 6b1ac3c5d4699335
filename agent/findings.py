"""What a finished question leaves in memory: the finding (claim, numbers, provenance) and the
success or failure of the skill (plan) it used."""

from __future__ import annotations

from climcopilot.agent.provenance import data_sources, reused_finding
from climcopilot.agent.state import AgentState, Evidence
from climcopilot.knowledge.memory import Memory
from climcopilot.knowledge.records import Finding, Skill, now


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


def count_skill(memory: Memory, state: AgentState, brain: str, success: bool) -> None:
    """Count a success or failure for the plan this run used (``memo["skill_key"]``),
    creating the skill on a first success."""
    memo = state.get("memo") or {}
    key = memo.get("skill_key")
    if not key:
        return
    existing = [r for r in memory.records.values() if isinstance(r, Skill) and r.key == key]
    if existing:
        skill = existing[0]
        field = "successes" if success else "failures"
        memory.put(skill.model_copy(update={field: getattr(skill, field) + 1,
                                            "last_used": now()}))
    elif success:
        memory.put(Skill(pattern=state["spec"].generalized, key=key, brain=brain,
                         plan=memo.get("skill_plan", {}), successes=1))
