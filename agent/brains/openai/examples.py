"""Learned skills as worked examples, and the skill a run teaches.

A skill of this brain is keyed by the kind of question (``llm:<quantity>:<subject kinds>``)
and its plan is a tool sequence with argument templates: the series, fields, system and
methods of the question it was learned on replaced by placeholders (``<series A>``), so it
fits the next question of that kind. Recalled, it is shown to the model as a worked example
with the placeholders filled in for the new question, and its tools are offered up front.
"""

from __future__ import annotations

import json
import re
from typing import Any

from climcopilot.agent.spec import QuestionSpec
from climcopilot.agent.state import RecalledSkill
from climcopilot.agent.steps import Step
from climcopilot.tools.schemas import tool_name, wire_name

PLAN_LINE = re.compile(r"\b([a-z][a-z0-9_]*__[a-z0-9_]+|run_python)\b[\s:(]*(\{.*\})?")
PLACEHOLDER = re.compile(r"<(?:series|field|method) [A-H]>|<system>|<causal system>")
EXAMPLES = 2  # worked examples shown at most


def slots(spec: QuestionSpec) -> dict[str, str]:
    """Placeholder -> key for what ``spec`` names: ``<series A>``, ``<field A>``,
    ``<system>``, ``<method A>``, ``<causal system>``."""
    letters = "ABCDEFGH"
    found = {f"<series {letters[i]}>": k for i, k in enumerate(spec.series[:8])}
    found |= {f"<field {letters[i]}>": k for i, k in enumerate(spec.fields[:8])}
    found |= {f"<method {letters[i]}>": k for i, k in enumerate(spec.methods[:8])}
    if spec.system:
        found["<system>"] = spec.system
    if spec.causal_system:
        found["<causal system>"] = spec.causal_system
    return found


def skill_key(spec: QuestionSpec) -> str | None:
    """The kind of question, for this brain's skills (None when the spec names no
    quantity: nothing general to learn)."""
    if not spec.quantity:
        return None
    kinds = [p.split(" ")[0].strip("<") for p in slots(spec)]
    return f"llm:{spec.quantity}:{','.join(kinds)}"


def _generalize(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, key in sorted(names.items(), key=lambda n: -len(n[1])):
            value = re.sub(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", placeholder, value)
        return value
    if isinstance(value, dict):
        return {k: _generalize(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_generalize(v, names) for v in value]
    return value


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, key in names.items():
            value = value.replace(placeholder, key)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return value


def template(steps: list[Step], spec: QuestionSpec) -> dict[str, Any]:
    """The skill plan a run teaches: its successful tool and code steps, in order, with
    the question's subjects as placeholders."""
    names = slots(spec)
    sequence = []
    for step in steps:
        action = step.action
        if not step.ok or action.kind == "invalid":
            continue
        if action.kind == "tool":
            sequence.append({"tool": action.tool,
                             "arguments": _generalize(action.arguments, names)})
        else:
            sequence.append({"code": _generalize(action.code or "", names)})
    return {"steps": sequence, "from": "trace"}


def planned(lines: list[str], spec: QuestionSpec) -> dict[str, Any]:
    """The skill plan of a plan's lines that name functions (with their arguments where the
    line gives them as JSON)."""
    names, sequence = slots(spec), []
    for line in lines:
        match = PLAN_LINE.search(line)
        if match is None:
            continue
        try:
            arguments = json.loads(match.group(2)) if match.group(2) else {}
        except ValueError:
            arguments = {}
        if match.group(1) == "run_python":
            sequence.append({"code": str(arguments.get("code", ""))})
        else:
            sequence.append({"tool": tool_name(match.group(1)),
                             "arguments": _generalize(arguments, names)})
    return {"steps": sequence, "from": "plan"}


def skill_tools(recalled: list[RecalledSkill]) -> list[str]:
    """The tools of the recalled skills' plans, in order."""
    return [s["tool"] for r in recalled for s in r.skill.plan.get("steps", []) if "tool" in s]


def worked_example(recalled: RecalledSkill, spec: QuestionSpec) -> str | None:
    """A recalled skill as a worked example for ``spec`` (None if its plan has no steps, or
    names a subject this question does not have)."""
    skill, names = recalled.skill, slots(spec)
    sequence = skill.plan.get("steps") or []
    if not sequence:
        return None
    lines = []
    for i, item in enumerate(sequence, start=1):
        if "tool" in item:
            lines.append(f"{i}. {wire_name(item['tool'])} "
                         f"{json.dumps(_fill(item['arguments'], names))}")
        else:
            lines.append(f"{i}. run_python: {_fill(item['code'], names)[:200]}")
    if any(PLACEHOLDER.search(line) for line in lines):
        return None
    return (f"Worked example (skill {skill.id}, {skill.successes} verified answers to "
            f"questions like {skill.pattern!r}), for this question:\n" + "\n".join(lines))


def worked_examples(recalled: list[RecalledSkill], spec: QuestionSpec) -> list[str]:
    """Up to :data:`EXAMPLES` worked examples from the recalled skills, best first."""
    shown = [worked_example(r, spec) for r in sorted(recalled, key=lambda r: -r.similarity)
             if r.skill.score >= 0]
    return [s for s in shown if s][:EXAMPLES]
