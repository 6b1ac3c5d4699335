"""``recall`` and ``remember``: the verified memory, for an MCP client.

``remember`` stores a finding only through the verification of our own loop
(:mod:`climcopilot.agent.verification`): the value must come from a typed tool's step of this
MCP session, its result's checks must have passed, and the step must be trusted (no free code
had run in the kernel) or its tool steps must give the same value again in a fresh kernel. The
claim, the number and its unit are the tool's, never the client's: a number the client sends is
only compared with the tool's, and refused unless it is the same to the digits written.
"""

from __future__ import annotations

import math
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import mcp_types as types
from pydantic import BaseModel, Field

from climcopilot.agent.mcp.calls import own_tool, parsed, structured
from climcopilot.agent.mcp.sessions import McpSession
from climcopilot.agent.provenance import data_sources, with_unit
from climcopilot.agent.state import Evidence
from climcopilot.agent.steps import Step, figures_of
from climcopilot.agent.verification import reproduce
from climcopilot.knowledge.memory import Memory
from climcopilot.knowledge.records import Finding
from climcopilot.tools.errors import ToolError

RECALL, REMEMBER = "recall", "remember"


class RecallInput(BaseModel):
    query: str = Field(description="what you look for, e.g. 'SOI Nino-3 correlation'")
    k: int = Field(3, ge=1, le=20, description="most findings returned")


class RememberInput(BaseModel):
    name: str = Field(description="the value's name in a tool result of this session, e.g. 'r'")
    step: int | None = Field(None, ge=1, description="the step that produced it (default: the "
                                                     "latest tool step with a value so named)")
    value: float | None = Field(None, description="the number as you read it: refused unless "
                                                  "it is the tool's to the digits written")


class RecalledFinding(BaseModel):
    id: str
    question: str
    claim: str
    values: dict[str, float]
    units: dict[str, str]
    provenance: dict[str, Any]
    seen: int = Field(description="how many answers confirmed it")
    similarity: float = Field(description="to the query: meaning plus acronyms and numbers")


class Recalled(BaseModel):
    findings: list[RecalledFinding]


class Remembered(BaseModel):
    id: str = Field(description="the finding's id in memory")
    claim: str
    name: str
    value: float
    unit: str
    step: int
    verified_by: Literal["trusted", "reproduced"] = Field(
        description="trusted: no free code had run in the kernel; reproduced: the tool steps "
                    "gave the same value in a fresh kernel")


TOOLS = [
    own_tool(RECALL, "Findings ClimCopilot verified before (in any session or front end), "
             "nearest a query by meaning and by its acronyms and numbers, with their "
             "provenance; also the knowledge cards of installed tools.", RecallInput, Recalled),
    own_tool(REMEMBER, "Store a value a typed tool produced in this session as a verified "
             "finding (its claim, unit and provenance come from the tool). Refused, with the "
             "reason, for a number no tool produced, a free-code step, failed checks, or a "
             "value that does not reproduce in a fresh kernel after free code ran.",
             RememberInput, Remembered),
]


class SharedMemory:
    """The memory under the ClimCopilot home, opened (and the knowledge cards indexed) on
    first use, one store for every session of the server."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._memory: Memory | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Memory:
        with self._lock:
            if self._memory is None:
                from climcopilot.knowledge.cards import index_cards

                self._memory = Memory(self.home)
                index_cards(self._memory)
            return self._memory


def recall(memory: Memory, arguments: dict[str, Any]) -> types.CallToolResult:
    """``recall``: the findings nearest the query."""
    asked = parsed(RecallInput, RECALL, arguments)
    found = [RecalledFinding(similarity=round(score, 4), **record.model_dump(
        include={"id", "question", "claim", "values", "units", "provenance", "seen"}))
        for record, score in memory.search(asked.query, k=asked.k, kind="finding")
        if isinstance(record, Finding)]
    text = "\n".join(f"{f.similarity:.2f} [finding {f.id}] {f.claim}" for f in found)
    return structured(Recalled(findings=found), text or "no finding in memory yet")


def agrees(typed: float, produced: float) -> bool:
    """Whether ``typed`` is ``produced`` rounded to the digits it is written with (-0.67 for
    -0.6712; 0.99 is not)."""
    exponent = Decimal(repr(typed)).as_tuple().exponent
    half_unit = 0.5 * 10.0 ** exponent if isinstance(exponent, int) else 0.0
    return abs(typed - produced) <= max(half_unit, 1e-9 * abs(produced))


def _refuse(why: str) -> ToolError:
    return ToolError(f"remember refused: {why}; nothing was stored")


def _producing_step(session: McpSession, asked: RememberInput) -> Step:
    """The tool step whose value ``asked.name`` is to be remembered."""
    if asked.step is not None:
        step = session.step(asked.step)
    else:
        step = next((s for s in reversed(session.steps)
                     if s.action.kind == "tool" and asked.name in s.values), None)
        if step is None:
            made = sorted({k for s in session.steps if s.action.kind == "tool" for k in s.values})
            raise _refuse(f"no typed tool in this session produced a value named "
                          f"{asked.name!r} (values so far: {', '.join(made) or 'none'}); only "
                          "numbers a tool produced are stored: call the tool, then remember "
                          "its value by name")
    if step.action.kind != "tool":
        raise _refuse(f"step {step.number} ran free code (run_python), not a typed tool: its "
                      "numbers are never stored")
    if asked.name not in step.values:
        raise _refuse(f"step {step.number} ({step.action.tool}) produced no value named "
                      f"{asked.name!r}; its values: {', '.join(step.values) or 'none'}")
    return step


def _named(arguments: object) -> set[str]:
    """Every string inside a call's arguments (the handles it may read)."""
    if isinstance(arguments, str):
        return {arguments}
    if isinstance(arguments, dict):
        return set().union(*(_named(v) for v in arguments.values()))
    if isinstance(arguments, list):
        return set().union(*(_named(v) for v in arguments))
    return set()


def lineage(steps: list[Step], step: Step) -> list[Step]:
    """``step`` and the earlier tool steps it depends on through the handles their arguments
    name, in order: what produced its value, not every call made before it."""
    needed, chain = _named(step.action.arguments), [step]
    for earlier in reversed(steps[:step.number - 1]):
        made = set((earlier.result or {}).get("handles", []))
        if earlier.action.kind == "tool" and earlier.ok and needed & made:
            chain.append(earlier)
            needed |= _named(earlier.action.arguments)
    return chain[::-1]


def verified_value(session: McpSession, asked: RememberInput
                   ) -> tuple[Step, float, Literal["trusted", "reproduced"]]:
    """The step, the value and how it verified; a ToolError saying why it is refused."""
    step = _producing_step(session, asked)
    produced = step.values[asked.name]
    if produced is None or not math.isfinite(produced):
        raise _refuse(f"{asked.name} of step {step.number} is not a finite number")
    if asked.value is not None and not agrees(asked.value, produced):
        raise _refuse(f"{asked.name} = {asked.value:g} is not what step {step.number} "
                      f"({step.action.tool}) produced ({asked.name} = {produced:.6g}); remember "
                      "stores the numbers tools produce, never one the client typed")
    failed = step.failed_checks()
    if failed:
        raise _refuse(f"the result of step {step.number} failed its checks: {'; '.join(failed)}")
    evidence = Evidence(values={asked.name: produced}, value_steps={asked.name: step.number},
                        units={asked.name: step.units.get(asked.name, "")}, verified=True)
    checked = reproduce(lineage(session.steps, step), evidence, session.replay)
    if not checked.verified:
        raise _refuse(f"step {step.number} is not trusted (free code ran in its kernel "
                      "before it, so its result may have been tampered with), and its tool "
                      f"steps in a fresh kernel did not confirm it: {'; '.join(checked.problems)}")
    return step, produced, "trusted" if step.observation.trusted else "reproduced"


def remember(session: McpSession, memory: Memory, arguments: dict[str, Any]
             ) -> types.CallToolResult:
    """``remember``: verify the value, then store its finding (merged with an agreeing
    finding of the same calls)."""
    asked = parsed(RememberInput, REMEMBER, arguments)
    step, value, how = verified_value(session, asked)
    behind = lineage(session.steps, step)
    calls = list(dict.fromkeys(s.action.label() for s in behind
                               if s.action.kind == "tool" and s.ok))
    sources = data_sources({"steps": behind})
    unit = step.units.get(asked.name, "")
    claim = (f"{asked.name} = {value:.6g}{with_unit(unit)} from {step.action.tool}: "
             f"{(step.result or {}).get('summary', '')}"
             + (f" Data: {'; '.join(sources)}." if sources else ""))
    finding = Finding(question=f"{asked.name} of {step.action.label()}", claim=claim,
                      key="mcp|" + "|".join(calls) + f"|{asked.name}",
                      values={asked.name: value}, units={asked.name: unit},
                      provenance={"session_id": session.id, "brain": "mcp", "steps": calls,
                                  "sources": sources, "figures": figures_of(behind),
                                  "verified_by": how})
    stored = memory.add(finding)
    return structured(Remembered(id=stored, claim=claim, name=asked.name, value=value,
                                 unit=unit, step=step.number, verified_by=how),
                      f"remembered [finding {stored}] ({how}): {claim}")
