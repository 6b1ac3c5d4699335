"""The graph's nodes, one function each: ``node(state, runtime) -> update``.

``runtime.context`` is the session's :class:`~climcopilot.agent.services.Services`;
``runtime.stream_writer`` carries the typed events of :mod:`climcopilot.agent.events`.
The order is ``guard -> recall -> plan -> act <-> observe -> check -> answer -> remember``
(:mod:`climcopilot.agent.graph` wires them).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from climcopilot.agent.coverage import unapplied
from climcopilot.agent.errors import BrainError
from climcopilot.agent.events import CheckEvent, PlanEvent, StepEvent, StepStarted
from climcopilot.agent.executor import refused
from climcopilot.agent.faithfulness import numbers_in, unsourced
from climcopilot.agent.findings import count_skill, finding_of
from climcopilot.agent.provenance import provenance, reproduce_block
from climcopilot.agent.scope import in_scope
from climcopilot.agent.services import Services
from climcopilot.agent.spec import read_in_context, read_question
from climcopilot.agent.state import AgentState, Evidence, Recall, RecalledSkill
from climcopilot.agent.steps import Action, Finish, Step, done_before, failed_before
from climcopilot.agent.verification import collect, from_memory, reproduce
from climcopilot.knowledge.memory import contradiction
from climcopilot.knowledge.records import Finding, Skill

RECALL_SIMILARITY = 0.3  # records less similar than this to the question are not recalled
STOPPED = {"status": "failed", "reason": "stopped by the user", "pending": []}
Update = dict[str, Any]


def guard(state: AgentState, runtime: Runtime[Services]) -> Update:
    """Read the question into its spec (a follow-up against the question before it, so the
    conversation is judged, not the fragment); refuse an empty or out-of-scope question."""
    question = state.get("question", "").strip()
    if not question:
        return {"status": "refused", "reason": "the question is empty"}
    spec = read_in_context(read_question(question), state.get("previous"))
    ok, reason = in_scope(spec)
    if not ok:
        return {"status": "refused", "reason": reason, "spec": spec}
    return {"status": "running", "spec": spec}


def recall(state: AgentState, runtime: Runtime[Services]) -> Update:
    """Findings near the question and skills near its generalized pattern. With no finding
    to answer from, a step is near certain: the kernel starts in the background."""
    memory = runtime.context.memory()
    findings = [f for f, s in memory.search(state["question"], k=3)
                if s >= RECALL_SIMILARITY and isinstance(f, Finding)]
    skills = [RecalledSkill(skill=k, similarity=s)
              for k, s in memory.search(state["spec"].generalized, k=2, kind="skill")
              if s >= RECALL_SIMILARITY and isinstance(k, Skill)]
    if not findings:
        runtime.context.warm_kernel()
    return {"recall": Recall(findings=findings, skills=skills)}


def plan(state: AgentState, runtime: Runtime[Services]) -> Update:
    """The brain's plan and notes (``memo``)."""
    try:
        lines, memo = runtime.context.brain.plan(state)
    except BrainError as exc:
        return {"status": "failed", "reason": str(exc)}
    runtime.stream_writer(PlanEvent(lines=lines))
    return {"plan": lines, "memo": memo, "replan_requested": False}


def act(state: AgentState, runtime: Runtime[Services]) -> Update:
    """The brain's next decision: actions to run, or the end (Finish). When the step budget
    is spent, what was found so far is answered as partial (failed if nothing was)."""
    if runtime.context.stopped():
        return STOPPED
    budget = runtime.context.step_budget
    steps = state.get("steps", [])
    if len(steps) >= budget:
        spent = f"the step budget of {budget} actions was used up before the brain finished"
        if not any(s.result is not None for s in steps):
            return {"status": "failed", "reason": f"{spent}, and no step succeeded"}
        return {"final": Finish(cut_short=spent), "pending": []}
    try:
        decision = runtime.context.brain.decide(state)
    except BrainError as exc:
        return {"status": "failed", "reason": str(exc)}
    if isinstance(decision, Finish):
        return {"final": decision, "pending": []}
    actions = decision if isinstance(decision, list) else [decision]
    if not actions:
        return {"status": "failed", "reason": "the brain decided nothing to do"}
    runtime.context.warm_kernel()
    return {"pending": actions[: budget - len(steps)], "final": None}


def edited(action: Action, reply: dict[str, Any]) -> Action:
    """``action`` with the user's edit from an approval ``reply`` (new code or arguments)."""
    if action.kind == "code" and reply.get("code"):
        return action.model_copy(update={"code": reply["code"]})
    if action.kind == "tool" and isinstance(reply.get("arguments"), dict):
        return action.model_copy(update={"arguments": reply["arguments"]})
    return action


def observe(state: AgentState, runtime: Runtime[Services]) -> Update:
    """Run the first pending action (after the user's approval where the policy asks for
    it); the others wait their turn. A call that repeats an earlier successful one exactly
    is not run again: the brain is told where its result is. The same action failing twice
    asks for a re-plan; failing again after one, stops: with what the earlier steps found
    (answered as partial), else failed.

    The approval is a LangGraph ``interrupt``: the caller resumes with
    ``Command(resume=reply)``, ``reply`` being ``{"approve": true}``, ``{"approve": false}``
    or an edited step (``{"code": ...}`` or ``{"arguments": {...}}``)."""
    action, *waiting = state["pending"]
    services = runtime.context
    if services.stopped():
        return STOPPED
    why = services.approval.reason(action)
    if why:
        reply = interrupt({"action": action, "label": action.label(),
                           "reason": why, "plan": state.get("plan", [])})
        if not reply.get("approve", True):
            return {"status": "failed", "pending": [],
                    "reason": f"the user did not approve {action.label()}"}
        action = edited(action, reply)
    steps = state.get("steps", [])
    number = len(steps) + 1
    runtime.stream_writer(StepStarted(number=number, action=action))
    earlier = done_before(steps, action)
    observation = refused(action, f"repeated: this exact call already ran as step "
                                  f"{earlier.number}; use its result ({earlier.brief(200)})"
                          ) if earlier is not None else services.run(action)
    step = Step(number=number, action=action, observation=observation)
    runtime.stream_writer(StepEvent(step=step))
    update: Update = {"steps": [step], "pending": waiting, "feedback": None}
    if step.ok or not failed_before(steps, action):
        return update
    error = step.observation.error
    if state.get("replans", 0) >= 1:
        stuck = f"stuck: {action.label()} failed twice, also after a re-plan: {error}"
        if any(s.result is not None for s in steps):
            return {**update, "pending": [], "final": Finish(cut_short=stuck)}
        return {**update, "status": "failed", "reason": stuck}
    return {**update, "replans": state.get("replans", 0) + 1, "replan_requested": True,
            "feedback": f"{action.label()} failed twice ({error}); take another approach"}


def check(state: AgentState, runtime: Runtime[Services]) -> Update:
    """Weigh the evidence: the steps' values, their checks, and (where free code could have
    tampered with the kernel) a reproduction. A failed check goes back to the brain once."""
    steps = state.get("steps", [])
    final = state.get("final") or Finish()
    if not any(s.result is not None for s in steps):
        if final.values:  # reused from a verified finding
            evidence = from_memory(final)
            runtime.stream_writer(CheckEvent(verified=True, problems=[]))
            return {"evidence": evidence, "feedback": None}
        if not final.answer:
            return {"status": "failed", "reason": "no step succeeded, so there is no answer"}
    evidence = collect(steps)
    if evidence.problems and state.get("check_retries", 0) < 1:
        return {"check_retries": 1, "final": None,
                "feedback": "failed checks: " + "; ".join(evidence.problems)}
    evidence = reproduce(steps, evidence, runtime.context.reproduce)
    evidence.not_applied = unapplied(state["spec"], steps,
                                     runtime.context.brain.not_applied(state))
    if final.cut_short:
        evidence.not_applied.append(f"the whole question: {final.cut_short}")
    runtime.stream_writer(CheckEvent(verified=evidence.verified, problems=evidence.problems))
    return {"evidence": evidence, "feedback": "; ".join(evidence.problems) or None}


def answer(state: AgentState, runtime: Runtime[Services]) -> Update:
    """The answer: the brain's text, checked for faithfulness (every number it states traces
    to what the run produced), the conditions it could not apply (then it is partial), what
    the user must know beside it (a contradiction with memory), the provenance of every
    number, and how to reproduce it."""
    services = runtime.context
    try:
        body = services.brain.compose(state).strip()
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        return {"status": "failed", "reason": f"could not compose the answer from the "
                                              f"results ({type(exc).__name__}: {exc})"}
    evidence = state.get("evidence") or Evidence()
    invented = unsourced(body, sources(state))
    if invented:
        evidence = evidence.model_copy(update={"verified": False, "invented": invented,
                                               "problems": [*evidence.problems,
                                                            f"the answer states "
                                                            f"{', '.join(invented)}, which no "
                                                            "step produced"]})
    body += "".join(f" I could not apply {item}." for item in evidence.not_applied
                    if item.split(":")[0] not in body)
    notes = list(state.get("notes", []))
    finding = finding_of({**state, "evidence": evidence}, body, services.brain.name)
    earlier = services.memory().same_key(finding) if finding.key else None
    clash = contradiction(earlier, finding) if earlier is not None else None
    if clash:
        notes.append(f"**Check this**: this answer {clash}")
    checked: AgentState = {**state, "evidence": evidence}
    text = "\n\n".join([body, *notes, provenance(checked),
                        reproduce_block(state.get("session_id", "SESSION"))])
    if evidence.not_applied:
        return {"answer": text, "notes": notes, "evidence": evidence, "status": "partial",
                "reason": "could not apply " + "; ".join(evidence.not_applied)}
    return {"answer": text, "notes": notes, "evidence": evidence, "status": "done"}


def sources(state: AgentState) -> list[float]:
    """Every number an answer may state: what the steps produced and were given, the
    question, and what a reused finding holds."""
    steps = state.get("steps", [])
    final = state.get("final") or Finish()
    return [*(n for s in steps if s.ok for r in s.observation.results
              for n in numbers_in(r.result)),
            *(n for s in steps for n in numbers_in(s.action.arguments)),
            *numbers_in(state.get("question", "")), *numbers_in(final.values),
            *numbers_in((state.get("memo") or {}).get("from_finding") or {})]


def remember(state: AgentState, runtime: Runtime[Services]) -> Update:
    """Store a verified, complete answer's finding and count a success for its skill."""
    evidence = state.get("evidence")
    if evidence is None or not evidence.verified or state.get("status") != "done":
        return {"finding_id": None}
    services = runtime.context
    memory = services.memory()
    claim = state["answer"].split("\n\n")[0]
    finding_id = memory.add(finding_of(state, claim, services.brain.name))
    count_skill(memory, state, services.brain.name, success=True,
                plan=services.brain.learned(state))
    return {"finding_id": finding_id}
