"""The LangGraph graph: guard -> recall -> plan -> act <-> observe -> check -> answer -> remember.

The graph is pure control flow over :class:`~climcopilot.agent.state.AgentState`; what it acts
on (the brain, the kernel, the memory) comes in through an :class:`Engine`.

A step the engine wants approved (e.g. code that writes files, in an interactive chat) pauses
the graph with a LangGraph ``interrupt``; the caller resumes it with ``Command(resume=reply)``,
``reply`` being ``{"approve": true}``, ``{"approve": false}``, or an edited step
(``{"code": ...}`` or ``{"arguments": {...}}``).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from climcopilot.agent.brains.base import Brain, BrainError, successful_results
from climcopilot.agent.entities import extract
from climcopilot.agent.scope import in_scope
from climcopilot.agent.state import Action, AgentState, Finish
from climcopilot.knowledge.memory import Memory, contradiction
from climcopilot.knowledge.records import Finding, Skill, now
from climcopilot.sandbox.observation import Observation

RECALL_SIMILARITY = 0.3  # findings less similar than this to the question are not recalled


class Engine(Protocol):
    """What the graph acts on: the brain, the session's kernel and memory."""

    brain: Brain
    step_budget: int

    def prepare(self) -> None:
        """Called once the question passed the guard (e.g. start the kernel)."""

    def execute(self, action: Action) -> Observation: ...

    def needs_approval(self, action: Action) -> str | None:
        """Why ``action`` must wait for the user's approval (None: run it)."""

    @property
    def memory(self) -> Memory: ...


def build_graph(engine: Engine, checkpointer: Any = None) -> Any:
    """Compile the agent graph over ``engine``; ``checkpointer`` makes sessions resumable."""

    def guard(state: AgentState) -> dict[str, Any]:
        question = state.get("question", "").strip()
        if not question:
            return {"status": "refused", "reason": "the question is empty"}
        ok, reason = in_scope(question, extract(question))
        if not ok:
            return {"status": "refused", "reason": reason}
        engine.prepare()
        return {"status": "running"}

    def recall(state: AgentState) -> dict[str, Any]:
        findings = [(f, s) for f, s in engine.memory.search(state["question"], k=3)
                    if s >= RECALL_SIMILARITY]
        pattern = extract(state["question"]).generalized
        skills = [(k, s) for k, s in engine.memory.search(pattern, k=2, kind="skill")
                  if s >= RECALL_SIMILARITY]
        return {"recalled": [r.summary() for r, _ in findings + skills],
                "recalled_findings": [f.model_dump() for f, _ in findings],
                "recalled_skills": [{**k.model_dump(), "similarity": s} for k, s in skills]}

    def plan(state: AgentState) -> dict[str, Any]:
        try:
            lines, memo = engine.brain.plan(state)
        except BrainError as exc:
            return {"status": "failed", "reason": str(exc)}
        return {"plan": lines, "memo": memo, "replan_requested": False}

    def act(state: AgentState) -> dict[str, Any]:
        if len(state.get("steps", [])) >= engine.step_budget:
            return {"status": "failed", "reason": f"the step budget of {engine.step_budget} "
                                                  "actions was used up without an answer"}
        try:
            decision = engine.brain.decide(state)
        except BrainError as exc:
            return {"status": "failed", "reason": str(exc)}
        if isinstance(decision, Finish):
            return {"final": decision.model_dump(), "pending": None}
        return {"pending": decision.model_dump(), "final": None}

    def observe(state: AgentState) -> dict[str, Any]:
        action = Action.model_validate(state["pending"])
        why = engine.needs_approval(action)
        if why:
            reply = interrupt({"action": action.model_dump(), "label": action.label(),
                               "reason": why, "plan": state.get("plan", [])})
            if not reply.get("approve", True):
                return {"status": "failed", "pending": None,
                        "reason": f"the user did not approve {action.label()}"}
            action = edited(action, reply)
        obs = engine.execute(action)
        update: dict[str, Any] = {
            "steps": [{"action": action.model_dump(), "observation": obs.model_dump()}],
            "pending": None, "feedback": None}
        if obs.ok:
            return update
        failed_before = any(
            not s["observation"]["ok"] and Action.model_validate(s["action"]).key() == action.key()
            for s in state.get("steps", []))
        if failed_before and state.get("replans", 0) >= 1:
            update.update(status="failed", reason=f"stuck: {action.label()} failed twice, "
                                                  f"also after a re-plan: {obs.error}")
        elif failed_before:
            update.update(replans=state.get("replans", 0) + 1, replan_requested=True,
                          feedback=f"{action.label()} failed twice ({obs.error}); "
                                   "take another approach")
        return update

    def check(state: AgentState) -> dict[str, Any]:
        results = successful_results(state)
        final = state.get("final") or {}
        if not results and final.get("values"):  # reused from a verified finding
            return {"values": final["values"], "units": final.get("units", {}),
                    "value_steps": {}, "figures": [], "verified": True, "feedback": None}
        if not results and not final.get("answer"):
            return {"status": "failed", "reason": "no step succeeded, so there is no answer"}
        failing = [f for s in state.get("steps", [])
                   for f in Observation.model_validate(s["observation"]).failed_checks()]
        values, units, value_steps = {}, {}, {}
        for number, step in enumerate(state.get("steps", []), start=1):
            result = step["observation"].get("result")
            if step["observation"]["ok"] and result:
                for name, v in result.get("values", {}).items():
                    values[name], value_steps[name] = v, number
                    units[name] = result.get("units", {}).get(name, "")
        failing += [f"{k} is not finite" for k, v in values.items() if not math.isfinite(v)]
        if failing and state.get("check_retries", 0) < 1:
            return {"check_retries": 1, "final": None,
                    "feedback": "failed checks: " + "; ".join(failing)}
        figures = [f for s in state.get("steps", []) if s["observation"]["ok"]
                   for f in s["observation"].get("figures", [])]
        return {"values": values, "units": units, "value_steps": value_steps,
                "figures": list(dict.fromkeys(figures)), "verified": bool(results) and not failing,
                "feedback": "; ".join(failing) or None}

    def answer(state: AgentState) -> dict[str, Any]:
        try:
            body = engine.brain.compose(state).strip()
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            return {"status": "failed", "reason": f"could not compose the answer from the "
                                                  f"results ({type(exc).__name__}: {exc})"}
        notes = list(state.get("notes", []))
        finding = new_finding(state, body, engine.brain.name)
        earlier = engine.memory.same_key(finding) if finding.key else None
        clash = contradiction(earlier, finding) if earlier is not None else None
        if clash:
            notes.append(f"**Check this**: this answer {clash}")
        text = "\n\n".join([body, *notes, provenance(state), reproduce(state)])
        return {"answer": text, "notes": notes, "status": "done"}

    def remember(state: AgentState) -> dict[str, Any]:
        if not state.get("verified"):
            return {"finding_id": None}
        claim = state["answer"].split("\n\n")[0]
        finding_id = engine.memory.add(new_finding(state, claim, engine.brain.name))
        reinforce_skill(engine.memory, state, engine.brain.name, success=True)
        return {"finding_id": finding_id}

    g = StateGraph(AgentState)
    for name, node in [("guard", guard), ("recall", recall), ("plan", plan), ("act", act),
                       ("observe", observe), ("check", check), ("answer", answer),
                       ("remember", remember)]:
        g.add_node(name, node)
    g.add_edge(START, "guard")
    g.add_conditional_edges("guard", lambda s: END if s["status"] != "running" else "recall")
    g.add_edge("recall", "plan")
    g.add_conditional_edges("plan", lambda s: END if s["status"] != "running" else "act")
    g.add_conditional_edges("act", lambda s: END if s["status"] != "running"
                            else "check" if s.get("final") is not None else "observe")
    g.add_conditional_edges("observe", lambda s: END if s["status"] != "running"
                            else "plan" if s.get("replan_requested") else "act")
    g.add_conditional_edges("check", lambda s: END if s["status"] != "running"
                            else "act" if s.get("final") is None else "answer")
    g.add_conditional_edges("answer", lambda s: END if s["status"] != "done" else "remember")
    g.add_edge("remember", END)
    return g.compile(checkpointer=checkpointer)


def edited(action: Action, reply: dict[str, Any]) -> Action:
    """``action`` with the user's edit from an approval ``reply`` (new code or arguments)."""
    if action.kind == "code" and reply.get("code"):
        return action.model_copy(update={"code": reply["code"]})
    if action.kind == "tool" and isinstance(reply.get("arguments"), dict):
        return action.model_copy(update={"arguments": reply["arguments"]})
    return action


def new_finding(state: AgentState, claim: str, brain: str) -> Finding:
    """The finding this run would write: claim, numbers, key and provenance."""
    steps = state.get("steps", [])
    reused = (state.get("memo") or {}).get("from_finding")
    return Finding(
        question=state["question"], claim=claim, key=(state.get("memo") or {}).get("key", ""),
        values=state.get("values", {}), units=state.get("units", {}),
        provenance=reused["provenance"] if reused else {
            "session_id": state.get("session_id"), "brain": brain,
            "steps": [Action.model_validate(s["action"]).label() for s in steps],
            "sources": data_sources(state), "figures": state.get("figures", [])})


def reinforce_skill(memory: Memory, state: AgentState, brain: str, success: bool) -> None:
    """Count a success or failure for the plan this run used (``memo["skill_key"]``), creating
    the skill on a first success."""
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
        memory.put(Skill(pattern=extract(state["question"]).generalized, key=key, brain=brain,
                         plan=memo.get("skill_plan", {}), successes=1))


def data_sources(state: AgentState) -> list[str]:
    """Source and license of every dataset the steps opened."""
    return list(dict.fromkeys(f"{r['handle']}: {r['source']} ({r['license']})"
                              for r in successful_results(state) if "source" in r))


def reproduce(state: AgentState) -> str:
    """Markdown: how to re-run this answer's steps as a notebook."""
    session = state.get("session_id", "SESSION")
    return (f"**How to reproduce**: `climcopilot export {session} --to {session}.ipynb` writes "
            "every step with its outputs as a notebook that re-runs top to bottom (`/export` "
            "in chat).")


def with_unit(unit: str) -> str:
    """`` unit`` to follow a number, or nothing for a dimensionless one (``""`` or ``"1"``)."""
    return f" {unit}" if unit not in ("", "1") else ""


def provenance(state: AgentState) -> str:
    """Markdown: which step produced each number, the data behind them, and the figures."""
    lines = ["**Provenance**"]
    for number, step in enumerate(state.get("steps", []), start=1):
        result = step["observation"].get("result") or {}
        if not (step["observation"]["ok"] and result.get("values")):
            continue
        units = result.get("units", {})
        shown = [f"{name} = {value:.4g}" + with_unit(units.get(name, ""))
                 for name, value in result["values"].items()]
        label = Action.model_validate(step["action"]).label()
        lines.append(f"- step {number} `{label}`: {', '.join(shown)}")
    reused = (state.get("memo") or {}).get("from_finding")
    if reused:
        origin = reused["provenance"]
        lines.append(f"- from memory: finding {reused['id']} (session "
                     f"{origin.get('session_id', '?')}, confirmed {reused['seen']} times): "
                     f"{'; '.join(origin.get('steps', []))}")
        lines += [f"- data: {s}" for s in origin.get("sources", [])]
    lines += [f"- data: {s}" for s in data_sources(state)]
    lines += [f"- figure: {f}" for f in state.get("figures", [])]
    if state.get("verified"):
        lines.append("- checks: all passed")
    elif state.get("feedback"):
        lines.append(f"- **unverified**: {state['feedback']}")
    return "\n".join(lines)
