"""The openai brain: any OpenAI-compatible chat endpoint, through the ``openai`` package.

Typed tools are offered as functions (``family__verb``) plus ``run_python`` for free code.
The transcript is rebuilt from the graph state on every call, so a resumed session continues
where it stopped. Arguments that are not valid JSON go back to the model as an error.
``usage`` sums the tokens the endpoint reports in its responses (None until one reports them).
"""

from __future__ import annotations

import json
from typing import Any

import openai

from climcopilot.agent.brains.base import Brain
from climcopilot.agent.config import Settings
from climcopilot.agent.errors import BrainError
from climcopilot.agent.state import AgentState
from climcopilot.agent.steps import Action, Decision, Finish
from climcopilot.tools.registry import registry

SYSTEM = (
    "You are ClimCopilot, a careful climate-science research assistant. Work by calling "
    "tools; every number in your answer must come from a tool result. Tools run in one "
    "persistent Jupyter kernel: objects they create are available to later calls by their "
    "handle names. Use run_python only for what no tool does. When you are done, reply "
    "without a tool call: the answer in markdown, each number with its units."
)
RUN_PYTHON = {
    "type": "function",
    "function": {
        "name": "run_python",
        "description": "Run Python code in the session's Jupyter kernel; returns stdout, "
                       "errors and saved figures.",
        "parameters": {"type": "object", "properties": {"code": {"type": "string"}},
                       "required": ["code"]},
    },
}


class OpenAIBrain(Brain):
    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key,
                                    max_retries=settings.llm_retries, timeout=120.0)
        self.tools = [t.openai_schema() for t in registry().values()] + [RUN_PYTHON]
        self.usage: dict[str, int] | None = None

    def _chat(self, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        where = self.settings.base_url or "the default OpenAI endpoint"
        try:
            response = self.client.chat.completions.create(
                model=self.settings.model, messages=messages, **kwargs)
        except openai.APIConnectionError as exc:
            raise BrainError(f"cannot reach the LLM endpoint at {where} ({type(exc).__name__});"
                             " check OPENAI_BASE_URL or use --brain offline") from None
        except openai.AuthenticationError:
            raise BrainError(f"{where} rejected the API key; check OPENAI_API_KEY") from None
        except openai.NotFoundError:
            raise BrainError(f"{where} has no model {self.settings.model!r}; "
                             "set CLIMCOPILOT_MODEL") from None
        except openai.APIStatusError as exc:
            raise BrainError(f"{where} answered HTTP {exc.status_code}: "
                             f"{str(exc.message)[:200]}") from None
        if response.usage is not None:
            self.usage = self.usage or {"prompt_tokens": 0, "completion_tokens": 0}
            for key in self.usage:
                self.usage[key] += getattr(response.usage, key, 0) or 0
        if not response.choices:
            raise BrainError(f"{where} returned no choices")
        return response.choices[0].message

    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        message = self._chat([
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{state['question']}\n\nBefore any tool call, reply "
                                        "with a short numbered plan (at most 5 lines)."},
        ])
        lines = [ln.strip() for ln in (message.content or "").splitlines() if ln.strip()]
        return lines[:8], {}

    def decide(self, state: AgentState) -> Decision:
        message = self._chat(self.transcript(state), tools=self.tools)
        if not message.tool_calls:
            return Finish(answer=message.content or "")
        call = message.tool_calls[0]
        name, raw = call.function.name, call.function.arguments or "{}"
        try:
            arguments = json.loads(raw)
            if not isinstance(arguments, dict):
                raise ValueError("arguments must be a JSON object")
        except ValueError as exc:
            return Action(kind="invalid", tool=name, raw=raw, call_id=call.id,
                          error=f"arguments for {name} are not valid JSON: {exc}")
        if name == "run_python":
            return Action(kind="code", code=str(arguments.get("code", "")), call_id=call.id)
        return Action(kind="tool", tool=name.replace("__", "."), arguments=arguments,
                      call_id=call.id)

    def transcript(self, state: AgentState) -> list[dict[str, Any]]:
        """The chat so far: question, memory, plan, each tool call and its observation."""
        context = SYSTEM
        recall = state.get("recall")
        if recall is not None and recall.summaries():
            context += "\n\nRelated findings from memory:\n" + "\n".join(recall.summaries())
        if state.get("plan"):
            context += "\n\nYour plan:\n" + "\n".join(state["plan"])
        messages: list[dict[str, Any]] = [{"role": "system", "content": context},
                                          {"role": "user", "content": state["question"]}]
        for step in state.get("steps", []):
            action = step.action
            call_id = action.call_id or f"call_{step.number}"
            if action.kind == "code":
                name, args = "run_python", json.dumps({"code": action.code})
            elif action.kind == "tool":
                name, args = (action.tool or "").replace(".", "__"), json.dumps(action.arguments)
            else:
                name, args = action.tool or "unknown", action.raw or ""
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": call_id, "type": "function",
                 "function": {"name": name, "arguments": args}}]})
            messages.append({"role": "tool", "tool_call_id": call_id, "content": step.brief()})
        if state.get("feedback"):
            messages.append({"role": "user", "content": f"Fix this before answering: "
                                                        f"{state['feedback']}"})
        return messages
