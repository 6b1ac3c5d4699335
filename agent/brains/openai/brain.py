"""The openai brain: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp
server) drives the loop.

- plan: a verified finding about the same quantity (the offline brain's key for the question
  spec) answers with no request at all; otherwise the model writes a short plan, and on a
  re-plan it sees the failed steps and why they failed.
- decide: one request with the tools offered for this question (:mod:`.offering`); every
  call of the reply becomes an action (parallel calls run in order); ``find_tools`` calls are
  answered here and the request is made again with the tools they loaded; a reply without a
  call is the answer, unless it writes a call as text (refused), is empty or was cut off at
  the model's token limit (a failure, not an answer). The answer streams to the renderer as
  :class:`~climcopilot.agent.events.TokenEvent` s.
- compose: the model's answer; when the step budget ran out, one more request without tools
  asks for an answer from what was found (or, if that fails, the steps' summaries).

Reasoning (``<think>`` blocks, ``reasoning_content``) never reaches the answer, the plan or
memory: it is appended to ``reasoning.jsonl`` in the session's workspace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from climcopilot.agent.brains.base import Brain
from climcopilot.agent.brains.offline.composer import compose
from climcopilot.agent.brains.openai.calls import Lookup, to_action, written_call
from climcopilot.agent.brains.openai.client import ChatClient, Reply
from climcopilot.agent.brains.openai.examples import (
    planned,
    skill_key,
    skill_tools,
    template,
    worked_examples,
)
from climcopilot.agent.brains.openai.offering import (
    FIND_TOOLS,
    RUN_PYTHON,
    entry,
    find,
    offered,
    spec_tools,
)
from climcopilot.agent.brains.openai.prompts import PLAN_REQUEST, REPLAN_REQUEST, system_prompt
from climcopilot.agent.brains.openai.transcript import history, result_text
from climcopilot.agent.config import Settings
from climcopilot.agent.errors import BrainError
from climcopilot.agent.events import TokenEvent
from climcopilot.agent.state import AgentState, Recall
from climcopilot.agent.steps import Action, Decision, Finish
from climcopilot.tools.schemas import Mode, wire_name

LOOKUPS = 2  # find_tools rounds within one decision
NUMBERING = re.compile(r"^\s*(\d+[.)]|[-*])\s*")
BUDGET_SPENT = ("The step budget is spent. Answer the question now from the results above "
                "only: state each number you found with its unit, and say plainly what could "
                "not be done. Do not call tools.")


def token_writer() -> Callable[[str], None]:
    """A callback that streams reply text as TokenEvents to the graph's renderer (a no-op
    outside a running graph); its first call marks the start of a reply."""
    try:
        from langgraph.config import get_stream_writer

        write = get_stream_writer()
    except RuntimeError:
        return lambda text: None
    started = [False]

    def emit(text: str) -> None:
        write(TokenEvent(text=text, start=not started[0]))
        started[0] = True

    return emit


class OpenAIBrain(Brain):
    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = ChatClient(settings)
        self.mode: Mode = "strict" if settings.tool_schema == "strict" else "portable"
        self.loaded: dict[str, list[str]] = {}  # question thread -> tools find_tools loaded

    @property
    def usage(self) -> dict[str, int] | None:
        """Tokens the endpoint reported so far (None until it reports any)."""
        return self.client.usage

    # -- plan --------------------------------------------------------------------------------
    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        spec = state["spec"]
        recall = state.get("recall") or Recall()
        composed = compose(spec)
        memo: dict[str, Any] = {"key": composed.key} if composed is not None else {}
        reused = next((f for f in recall.findings if memo.get("key") == f.key), None)
        if reused is not None and not state.get("steps"):
            memo["from_finding"] = reused.model_dump()
            return [f"Reuse verified finding {reused.id} (the same quantity, data and "
                    "conditions)."], memo
        messages = [{"role": "system", "content": self.system(state, plan=False)},
                    {"role": "user", "content": f"{state['question']}\n\n{PLAN_REQUEST}"}]
        if state.get("replan_requested"):
            steps = state.get("steps", [])
            messages += history(steps, self.settings.step_budget)
            messages.append({"role": "user", "content": REPLAN_REQUEST.format(
                feedback=state.get("feedback") or "see above",
                left=self.settings.step_budget - len(steps))})
        reply = self.complete(state, messages, None)
        lines = [NUMBERING.sub("", ln).strip() for ln in reply.content.splitlines()]
        lines = [ln for ln in lines if ln][:8]
        key = skill_key(spec)
        if key is not None:
            memo.update(skill_key=key, skill_plan=planned(lines, spec))
        return lines, memo

    def learned(self, state: AgentState) -> dict[str, Any]:
        """The skill plan this run teaches (its successful steps as a template)."""
        return template(state.get("steps", []), state["spec"])

    # -- decide ------------------------------------------------------------------------------
    def decide(self, state: AgentState) -> Decision:
        memo = state.get("memo") or {}
        if "from_finding" in memo:
            finding = memo["from_finding"]
            return Finish(answer=finding["claim"], values=finding["values"],
                          units=finding["units"])
        steps = state.get("steps", [])
        turn = 1 + max((s.action.turn or 0 for s in steps), default=0)
        loaded = self.loaded.setdefault(f"{state.get('session_id')}|{state['question']}", [])
        lookups: list[dict[str, Any]] = []
        for rounds in range(LOOKUPS + 1):
            names, tools = self.offer(state, loaded)
            reply = self.complete(state, self.messages(state) + lookups, tools, token_writer())
            decisions = [to_action(c, turn=turn, position=i, mode=self.mode,
                                   content=reply.content or None if i == 0 else None)
                         for i, c in enumerate(reply.calls)]
            actions = [d for d in decisions if isinstance(d, Action)]
            asked = [d for d in decisions if isinstance(d, Lookup)]
            if actions or not asked:
                return actions or self.final(reply, names, turn)
            if rounds < LOOKUPS:
                lookups += self.answer_lookups(reply, asked, names, loaded)
        return [Action(kind="invalid", tool=FIND_TOOLS, call_id=a.call_id, turn=turn,
                       error=f"find_tools was called {LOOKUPS + 1} times in a row; call one "
                             "of the offered functions") for a in asked]

    def offer(self, state: AgentState, loaded: list[str]) -> tuple[list[str], list[dict]]:
        """The tool names and entries offered now (see :mod:`.offering`)."""
        recall = state.get("recall") or Recall()
        used = [s.action.tool for s in state.get("steps", []) if s.action.kind == "tool"]
        wanted = [*spec_tools(state["spec"]), *skill_tools(recall.skills), *used, *loaded]
        return offered([w for w in wanted if w], self.mode, self.settings.tools_offered)

    def answer_lookups(self, reply: Reply, asked: list[Lookup], names: list[str],
                       loaded: list[str]) -> list[dict[str, Any]]:
        """The find_tools exchange (assistant call, tool answers); the tools found are
        offered from then on."""
        answers = []
        for lookup in asked:
            found = find(lookup.query, exclude=[*names, *loaded])
            loaded += found
            described = "; ".join(f"{wire_name(n)}: "
                                  f"{entry(n, self.mode)['function']['description'][:160]}"
                                  for n in found)
            answers.append({"role": "tool", "tool_call_id": lookup.call_id,
                            "content": f"Offered now: {described}." if found else
                            f"No tool matches {lookup.query!r}; the names not offered are "
                            "listed in find_tools' description."})
        calls = [{"id": a.call_id, "type": "function", "function": {
            "name": FIND_TOOLS, "arguments": json.dumps({"query": a.query})}} for a in asked]
        return [{"role": "assistant", "content": reply.content or None, "tool_calls": calls},
                *answers]

    def final(self, reply: Reply, names: list[str], turn: int) -> Decision:
        """A reply without tool calls: the answer, or a refused text call, or a failure."""
        text = reply.content.strip()
        offered_names = {wire_name(n) for n in names} | {RUN_PYTHON, FIND_TOOLS}
        written = written_call(text, offered_names)
        if written is not None:
            return Action(kind="invalid", turn=turn, content=text,
                          error=f"not an answer: your reply wrote a function call as text "
                                f"({written}) instead of calling it; make the call as a tool "
                                "call, or answer in prose")
        if reply.finish_reason == "length":
            raise BrainError("the model's answer was cut off at its token limit "
                             "(finish_reason: length); raise the server's output or context "
                             "limit (docs/llm.md)")
        if not text:
            only = " (it only reasoned)" if reply.reasoning else ""
            raise BrainError(f"the model returned an empty answer{only}; try again or use "
                             "another model")
        return Finish(answer=text)

    # -- compose -----------------------------------------------------------------------------
    def compose(self, state: AgentState) -> str:
        memo = state.get("memo") or {}
        if "from_finding" in memo:
            finding = memo["from_finding"]
            return (f"{finding['claim']}\n\n(Answered from memory: verified finding "
                    f"{finding['id']}, first found on {finding['created'][:10]}.)")
        final = state.get("final") or Finish()
        if final.answer or not final.cut_short:
            return final.answer
        messages = self.messages(state) + [{"role": "user", "content": BUDGET_SPENT}]
        try:
            text = self.complete(state, messages, None, token_writer()).content.strip()
        except BrainError:
            text = ""
        return text or self.found_so_far(state)

    @staticmethod
    def found_so_far(state: AgentState) -> str:
        """What the successful steps found, one line each (the answer of last resort)."""
        lines = [f"- step {s.number} ({s.action.label()[:80]}): "
                 f"{result_text(s.result).splitlines()[0]}"
                 for s in state.get("steps", []) if s.result is not None]
        return "The step budget ran out before a final answer. What was found:\n" + \
            "\n".join(lines)

    # -- requests ----------------------------------------------------------------------------
    def system(self, state: AgentState, plan: bool = True) -> str:
        recall = state.get("recall") or Recall()
        return system_prompt(self.settings.step_budget,
                             [f.summary() for f in recall.findings],
                             worked_examples(recall.skills, state["spec"]),
                             state.get("plan", []) if plan else [],
                             lookup=self.settings.tools_offered != "all")

    def messages(self, state: AgentState) -> list[dict[str, Any]]:
        """The chat so far (see :mod:`.transcript`), with any feedback to address."""
        messages = [{"role": "system", "content": self.system(state)},
                    {"role": "user", "content": state["question"]},
                    *history(state.get("steps", []), self.settings.step_budget)]
        if state.get("feedback"):
            messages.append({"role": "user",
                             "content": f"Fix this before answering: {state['feedback']}"})
        return messages

    def complete(self, state: AgentState, messages: list[dict[str, Any]],
                 tools: list[dict[str, Any]] | None,
                 on_token: Callable[[str], None] | None = None) -> Reply:
        """One request; its reasoning goes to the session's ``reasoning.jsonl``."""
        reply = self.client.complete(messages, tools, on_token)
        if reply.reasoning:
            folder = self.settings.workspace(state.get("session_id", "unknown"))
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "reasoning.jsonl", "a") as out:
                out.write(json.dumps({"request": self.client.requests,
                                      "question": state.get("question", ""),
                                      "reasoning": reply.reasoning}) + "\n")
        return reply
