"""The model's reply as actions: every tool call of one message, in order, each with its id,
the turn it belongs to and the text sent beside it.

Forgiven, as real servers send them: ``arguments`` as a JSON object instead of a string (or
a string holding JSON twice), a ``functions.`` prefix on the name, a missing call id.
Refused with a one-line error the model reads: arguments that are not one JSON object, an
unknown tool, and a tool call written as plain text instead of through the tool-calling
interface (never taken for the answer).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from climcopilot.agent.brains.openai.client import RawCall
from climcopilot.agent.brains.openai.offering import FIND_TOOLS, RUN_PYTHON, known
from climcopilot.agent.steps import Action
from climcopilot.tools.schemas import Mode, from_strict, tool_name, wire_name

CODE_NAMES = {"run_python", "python", "execute_python", "code_interpreter", "ipython"}
TEXT_CALL_MARKERS = ("<tool_call>", "<function=", "[TOOL_CALLS]", "<|python_tag|>",
                     "<|tool_call_begin|>", "<tool▁call▁begin>", "<|tool_call|>")
JSON_OBJECT = re.compile(r"\{.*\}", re.S)


@dataclass(frozen=True)
class Lookup:
    """A ``find_tools`` call: the brain answers it from the registry, no step is run."""

    call_id: str
    query: str


def parse_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(arguments, None) or (None, what is wrong with them)."""
    if raw is None or raw == "":
        return {}, None
    value = raw
    for _ in range(2):  # a string that holds JSON, once or twice encoded
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError as exc:
            return None, f"not valid JSON ({getattr(exc, 'msg', exc)})"
    if isinstance(value, dict):
        return value, None
    return None, f"a JSON {type(value).__name__}, not an object"


def to_action(call: RawCall, *, turn: int, position: int, content: str | None,
              mode: Mode) -> Action | Lookup:
    """One tool call as an action (``invalid`` when it cannot run) or a lookup."""
    name = tool_name(call.name)
    call_id = call.id or f"call_{turn}_{position}"
    arguments, problem = parse_arguments(call.arguments)
    where = {"call_id": call_id, "turn": turn, "content": content}
    if name == FIND_TOOLS:
        words = " ".join(str(v) for v in (arguments or {}).values()) if arguments else ""
        return Lookup(call_id=call_id, query=words or str(call.arguments or ""))
    shown = wire_name(name) if name not in CODE_NAMES else RUN_PYTHON
    if arguments is None:
        return Action(kind="invalid", tool=shown, error=f"the arguments of {shown} were "
                      f"{problem}; send one JSON object, e.g. {{\"name\": \"soi\"}}", **where)
    if name in CODE_NAMES:
        code = arguments.get("code")
        if not isinstance(code, str) or not code.strip():
            return Action(kind="invalid", tool=RUN_PYTHON, error="run_python needs "
                          "{\"code\": \"...\"} with the Python code to run", **where)
        return Action(kind="code", code=code, **where)
    tool = known().get(name)
    if tool is None:
        return Action(kind="invalid", tool=shown, error=f"there is no tool {call.name!r}; "
                      f"call find_tools to look one up, or use an offered function", **where)
    if mode == "strict":
        arguments = from_strict(arguments, tool.parameters)
    return Action(kind="tool", tool=tool.name, arguments=arguments, **where)


def written_call(text: str, names: set[str]) -> str | None:
    """The function a reply writes out as a call in plain text (instead of calling it),
    or None. ``names``: function names as offered (``family__verb``, ``run_python``)."""
    for marker in TEXT_CALL_MARKERS:
        if marker in text:
            return marker
    known = names | {n.replace("__", ".") for n in names}
    for name in sorted(known, key=len, reverse=True):
        if re.search(rf"(?<![\w.]){re.escape(name)}\s*\(\s*(\{{|\w+\s*=)", text):
            return name
    for match in JSON_OBJECT.finditer(text):
        try:
            value = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(value, dict) and str(value.get("name", "")) in known and (
                {"arguments", "parameters"} & value.keys()):
            return str(value["name"])
    return None
