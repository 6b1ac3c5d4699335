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

from climcopilot.agent.brains.openai.offering import RUN_PYTHON
from climcopilot.agent.steps import Action, Step
from climcopilot.sandbox.observation import Observation
from climcopilot.tools.schemas import wire_name

OBSERVATION_CHARS = 3000  # longest observation text a model reads per step
TEXT_CHARS = 40  # longest text inside a result's tables (sources, licenses) shown
STANDARD = {"summary", "values", "units", "handles", "figures", "checks"}


def compact(value: Any) -> Any:
    """``value`` as a model reads it: floats at 6 significant digits, long texts inside
    tables cut with an ellipsis (the full result stays in the step)."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, str) and len(value) > TEXT_CHARS:
        return value[:TEXT_CHARS] + "…"
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def table(value: Any) -> str:
    """A result field as text: a list of records as a table (a header line, then one line
    per record, cells separated by ``|``), anything else as compact JSON."""
    if not (isinstance(value, list) and len(value) > 1 and all(isinstance(v, dict)
                                                                for v in value)):
        return json.dumps(compact(value), ensure_ascii=False)
    columns = list(dict.fromkeys(k for row in value for k in row))

    def cell(item: Any) -> str:
        item = compact(item)
        return item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)

    return "\n".join([" | ".join(columns),
                      *(" | ".join(cell(row.get(c, "")) for c in columns) for row in value)])


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
            lines.append(f"{key}: {table(value)}")
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
