"""The LangGraph graph: guard -> recall -> plan -> act <-> observe -> check -> answer -> remember.

The nodes are the functions of :mod:`climcopilot.agent.nodes`; the routers below decide where
each goes next. What the nodes act on comes in as the runtime context
(:class:`~climcopilot.agent.services.Services`), so one compiled graph serves any session.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.graph import END, START, StateGraph

from climcopilot.agent import nodes
from climcopilot.agent.services import Services
from climcopilot.agent.state import AgentState


def after_guard(state: AgentState) -> Literal["recall", "__end__"]:
    """A refused question ends here."""
    return "recall" if state["status"] == "running" else END


def after_plan(state: AgentState) -> Literal["act", "__end__"]:
    """A brain that cannot plan ends the question."""
    return "act" if state["status"] == "running" else END


def after_act(state: AgentState) -> Literal["observe", "check", "__end__"]:
    """An action is run; a Finish is checked; a spent budget or a brain failure ends."""
    if state["status"] != "running":
        return END
    return "check" if state.get("final") is not None else "observe"


def after_observe(state: AgentState) -> Literal["observe", "act", "plan", "check", "__end__"]:
    """The next pending action, the next decision, a re-plan after an action failed twice,
    the check of what was found before the brain got stuck, or the end (stuck, nothing
    found)."""
    if state["status"] != "running":
        return END
    if state.get("final") is not None:
        return "check"
    if state.get("replan_requested"):
        return "plan"
    return "observe" if state.get("pending") else "act"


def after_check(state: AgentState) -> Literal["answer", "act", "__end__"]:
    """A failed check sends the brain back to act once (``final`` cleared)."""
    if state["status"] != "running":
        return END
    return "answer" if state.get("final") is not None else "act"


def after_answer(state: AgentState) -> Literal["remember", "__end__"]:
    return "remember" if state["status"] == "done" else END


def build_graph(checkpointer: Any = None) -> Any:
    """Compile the agent graph; ``checkpointer`` makes sessions resumable."""
    g = StateGraph(AgentState, context_schema=Services)
    for name in ("guard", "recall", "plan", "act", "observe", "check", "answer", "remember"):
        g.add_node(name, getattr(nodes, name))
    g.add_edge(START, "guard")
    g.add_conditional_edges("guard", after_guard)
    g.add_edge("recall", "plan")
    g.add_conditional_edges("plan", after_plan)
    g.add_conditional_edges("act", after_act)
    g.add_conditional_edges("observe", after_observe)
    g.add_conditional_edges("check", after_check)
    g.add_conditional_edges("answer", after_answer)
    g.add_edge("remember", END)
    return g.compile(checkpointer=checkpointer)
