"""The chat so far, rebuilt from the graph state on every request (so a resumed session
continues where it stopped): the system prompt, the question, then each turn as the model
made it (one assistant message with all its parallel calls and the text beside them, one
tool message per call) and what each observed.

Observations carry what a model needs to go on: the summary, every value with its unit, the
handles, the result's tables (PCMCI links, benchmark rows, comparisons), failed checks, and
an explicit marker where the text is cut, naming where the rest is. Arguments that were not
JSON are never replayed verbatim (servers that parse the history reject them): the call is
shown with ``{}`` and the tool message says what was wrong. The last tool message tells the
model how many steps remain.
"""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from climcopilot.agent.brains.openai.calls import RUN_PYTHON
from climcopilot.agent.steps import Action, Step
from climcopilot.sandbox.observation import Observation
from climcopilot.tools.schemas import wire_name

OBSERVATION_CHARS = 2400  # longest observation text a model reads per step
STANDARD = {"summary", "values", "units", "handles", "figures", "checks"}


def compact(value: Any) -> Any:
    """``value`` with floats at 6 significant digits (what a model reads; the full
    precision stays in the step)."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def result_text(result: dict[str, Any]) -> str:
    """One tool result: summary, values with units, handles, tables, failed checks."""
    units = result.get("units", {})
    lines = [result.get("summary", "")]
    if result.get("values"):
        lines.append("values: " + "; ".join(
            f"{k} = {compact(v)}" + (f" [{units[k]}]" if units.get(k) else "")
            for k, v in result["values"].items()))
    if result.get("handles"):
        lines.append(f"handles (objects in the kernel): {', '.join(result['handles'])}")
    for key, value in result.items():
        if key not in STANDARD and value not in (None, "", [], {}):
            lines.append(f"{key}: {json.dumps(compact(value), ensure_ascii=False)}")
    failed = [f"{c['name']} ({c.get('detail', '')})" for c in result.get("checks", [])
              if not c.get("passed", True)]
    if failed:
        lines.append(f"FAILED CHECKS: {'; '.join(failed)}")
    return "\n".join(line for line in lines if line)


def observation_text(observation: Observation, limit: int = OBSERVATION_CHARS) -> str:
    """What the model reads of one step, cut at ``limit`` characters with a marker."""
    if observation.error:
        text = f"error: {observation.error}"
    else:
        parts = [result_text(r.result) for r in observation.results]
        if observation.source == "code" or not parts:
            parts.insert(0, observation.stdout.strip() or "(no output)")
        if observation.figures:
            parts.append(f"figures: {', '.join(observation.figures)}")
        if observation.kernel_restarted:
            parts.append("the kernel restarted: earlier successful cells were replayed")
        text = "\n".join(parts)
    where = (f"the full output is in {observation.full_output}"
             if observation.full_output else "the objects named above stay in the kernel")
    if observation.full_output and "full output" not in text:
        text += f"\n(output cut: {where})"
    if len(text) > limit:
        text = (text[:limit] + f"\n[... cut: {len(text) - limit} more characters not shown; "
                f"{where}: print what you need with run_python]")
    return text


def written_instead(action: Action) -> bool:
    """The action records a reply that wrote a call as text instead of making one."""
    return action.kind == "invalid" and action.call_id is None


def call_id(step: Step) -> str:
    return step.action.call_id or f"call_{step.number}"


def call_of(action: Action) -> dict[str, Any]:
    """The assistant's tool call for ``action`` (without its id), as the model sent it
    (malformed arguments as ``{}``)."""
    if action.kind == "code":
        name, arguments = RUN_PYTHON, json.dumps({"code": action.code})
    elif action.kind == "tool":
        name, arguments = wire_name(action.tool or ""), json.dumps(action.arguments)
    else:
        name, arguments = action.tool or "unknown", "{}"
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def turn_messages(steps: list[Step]) -> list[dict[str, Any]]:
    """One turn of the model: its assistant message and what each call observed. A reply
    that wrote a call as text (no call id) comes back as its text and the refusal."""
    first = steps[0].action
    if written_instead(first):
        return [{"role": "assistant", "content": (first.content or "")[:600]},
                {"role": "user", "content": observation_text(steps[0].observation)}]
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": first.content or None,
                                       "tool_calls": [{"id": call_id(s), **call_of(s.action)}
                                                      for s in steps]}]
    messages += [{"role": "tool", "tool_call_id": call_id(s),
                  "content": observation_text(s.observation)} for s in steps]
    return messages


def turn_of(step: Step) -> tuple[str, int]:
    """Steps of one assistant message share it (parallel calls); others stand alone."""
    action = step.action
    if action.turn is None or written_instead(action):
        return ("alone", step.number)
    return ("turn", action.turn)


def history(steps: list[Step], budget: int) -> list[dict[str, Any]]:
    """Every turn's messages, in order; the last one says how many steps remain."""
    messages: list[dict[str, Any]] = []
    for _, turn in groupby(steps, key=turn_of):
        messages += turn_messages(list(turn))
    if messages:
        left = budget - len(steps)
        messages[-1]["content"] += (f"\n[{len(steps)} of {budget} steps used; {left} left"
                                    + ("; answer now from what you found]" if left <= 1
                                       else "]"))
    return messages
