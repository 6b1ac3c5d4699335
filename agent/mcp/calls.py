"""The tool adapter: every registered tool (plugins included) as an MCP tool with its portable
input schema, ``run_python`` and ``find_tools`` beside them, and what a call gives back.

A tool is listed under its wire name (``data__open_series``, since some clients refuse dots in
tool names) with its own name as the title; a call may use either. Every kernel call returns a
:class:`CellReport` as structured content (values with units, handles, figure resource URIs,
checks, and whether the result is trusted) and a text summary with a link to each figure. A
call that fails is an MCP tool error whose text is the one-line error.
"""

from __future__ import annotations

from typing import Any, TypeVar

import mcp_types as types
from pydantic import BaseModel, Field, ValidationError

from climcopilot.agent.brains.openai.offering import FIND_TOOLS, RUN_PYTHON, RUN_PYTHON_ENTRY
from climcopilot.agent.brains.openai.offering import find as find_names
from climcopilot.agent.executor import checked_name
from climcopilot.agent.mcp.resources import figure_uri
from climcopilot.agent.provenance import with_unit
from climcopilot.agent.steps import Action, Step
from climcopilot.tools.base import Check, KnowledgeCard, ToolResult, check_argument_names
from climcopilot.tools.errors import ToolError
from climcopilot.tools.manifest import ToolEntry
from climcopilot.tools.registry import listing
from climcopilot.tools.schemas import portable, wire_name

M = TypeVar("M", bound=BaseModel)
STANDARD_FIELDS = set(ToolResult.model_fields)


class CellReport(BaseModel):
    """What one call that ran in the session's kernel gave back."""

    step: int = Field(description="the call's step in this MCP session (remember takes it)")
    call: str = Field(description="the tool, or run_python")
    summary: str = ""
    values: dict[str, float | None] = Field(
        default_factory=dict, description="headline numbers (null: not finite)")
    units: dict[str, str] = Field(default_factory=dict, description="unit of each value")
    handles: list[str] = Field(default_factory=list,
                               description="objects left in the session, for later calls")
    figures: list[str] = Field(default_factory=list, description="figure resource URIs (PNG)")
    checks: list[Check] = Field(default_factory=list)
    trusted: bool = Field(description="a typed tool ran in a kernel where no free code had "
                                      "run: its result cannot have been tampered with")
    device: str = "cpu"
    wall_s: float = 0.0
    stdout: str = ""
    details: dict[str, Any] = Field(default_factory=dict,
                                    description="the rest of the tool's result")


CELL_SCHEMA = CellReport.model_json_schema()


class RunPythonInput(BaseModel):
    code: str = Field(description="Python code, run as one cell of the session's kernel")


class FindToolsInput(BaseModel):
    query: str = Field(description="what you need, e.g. 'twin experiment ensemble kalman "
                                   "filter', or a tool name")


class FoundTool(BaseModel):
    name: str = Field(description="the MCP tool name to call")
    tool: str
    description: str
    input_schema: dict[str, Any]


class FoundTools(BaseModel):
    tools: list[FoundTool]


def own_tool(name: str, description: str, input_model: type[BaseModel],
             output_model: type[BaseModel]) -> types.Tool:
    """An MCP tool the server answers itself (not a registered tool)."""
    return types.Tool(name=name, description=description,
                      input_schema=portable(input_model.model_json_schema()),
                      output_schema=output_model.model_json_schema())


def kernel_tool(tool: ToolEntry) -> types.Tool:
    """A registered tool as an MCP tool: its description (with its knowledge card and what a
    call costs), the portable schema of its input model."""
    description = tool.description
    if tool.card is not None:
        description += "\n\n" + KnowledgeCard.model_validate(tool.card).text()
    if tool.approval is not None:
        description += f"\n\nNote: {tool.approval}; progress is reported while it runs."
    return types.Tool(name=wire_name(tool.name), title=tool.name, description=description,
                      input_schema=portable(tool.parameters), output_schema=CELL_SCHEMA)


RUN_PYTHON_TOOL = own_tool(
    RUN_PYTHON, RUN_PYTHON_ENTRY["function"]["description"] + " The kernel is sandboxed "
    "(bubblewrap: no network, no home directories, only this session's workspace); numbers "
    "printed here are never verified.", RunPythonInput, CellReport)
FIND_TOOLS_TOOL = own_tool(FIND_TOOLS, "The tools that best match what you need (by name, "
                           "family and description), with their input schemas.",
                           FindToolsInput, FoundTools)


def kernel_tools() -> list[types.Tool]:
    """Every registered tool, then run_python and find_tools."""
    return [*(kernel_tool(t) for t in listing()), RUN_PYTHON_TOOL, FIND_TOOLS_TOOL]


def parsed(model: type[M], name: str, arguments: dict[str, Any]) -> M:
    """``arguments`` as ``model`` (the input of tool ``name``); a ToolError in one line."""
    check_argument_names(name, arguments, list(model.model_fields))
    try:
        return model.model_validate(arguments)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "arguments"
        raise ToolError(f"invalid arguments for {name}: {field}: {first['msg']}") from None


def action_of(name: str, arguments: dict[str, Any]) -> Action:
    """The kernel action of a call: ``run_python``'s code, or a registered tool whose name and
    argument names are checked first (ToolError; the kernel checks the values)."""
    if name == RUN_PYTHON:
        return Action(kind="code", code=parsed(RunPythonInput, RUN_PYTHON, arguments).code)
    return Action(kind="tool", tool=checked_name(name, arguments), arguments=arguments)


def error_result(message: str, detail: str = "") -> types.CallToolResult:
    """An MCP tool error: the one-line ``message``, then ``detail`` (e.g. a cell's output)."""
    blocks = [types.TextContent(text=message)]
    if detail.strip():
        blocks.append(types.TextContent(text=detail))
    return types.CallToolResult(content=blocks, is_error=True)


def structured(model: BaseModel, text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)],
                                structured_content=model.model_dump(mode="json"))


def _text(report: CellReport, step: Step) -> str:
    lines = [f"step {report.step}: {step.action.label()}"]
    if report.summary:
        lines.append(report.summary)
    if report.values:
        lines.append("values: " + ", ".join(
            f"{k} = " + ("not finite" if v is None else f"{v:.6g}")
            + with_unit(report.units.get(k, "")) for k, v in report.values.items()))
    if report.handles:
        lines.append("handles: " + ", ".join(report.handles))
    failed = step.failed_checks()
    if failed:
        lines.append("FAILED CHECKS: " + "; ".join(failed))
    if step.action.kind == "tool":
        lines.append("trusted: no free code had run in this kernel" if report.trusted else
                     "not trusted: free code ran in this kernel first (remember reproduces "
                     "the tool steps in a fresh kernel before storing a value)")
    if report.stdout:
        lines.append(report.stdout.rstrip())
    return "\n".join(lines)


def cell_result(step: Step) -> types.CallToolResult:
    """What a call that ran in the kernel gives back: an MCP tool error with the one-line
    error if it failed, else the :class:`CellReport` and its text, a link per figure."""
    obs = step.observation
    if not obs.ok:
        return error_result(obs.error or "the cell failed", obs.stdout)
    result = obs.result or {}
    report = CellReport(
        step=step.number, call=step.action.tool or RUN_PYTHON,
        summary=result.get("summary", ""), values=step.values, units=step.units,
        handles=result.get("handles", []), figures=[figure_uri(f) for f in obs.figures],
        checks=result.get("checks", []), trusted=obs.trusted, device=obs.device,
        wall_s=obs.wall_s, stdout=obs.stdout,
        details={k: v for k, v in result.items() if k not in STANDARD_FIELDS})
    answer = structured(report, _text(report, step))
    answer.content += [types.ResourceLink(uri=uri, name=uri.rsplit("/", 1)[-1],
                                          mime_type="image/png") for uri in report.figures]
    return answer


def found_tools(arguments: dict[str, Any]) -> types.CallToolResult:
    """``find_tools``: the tools nearest the query, with their schemas."""
    query = parsed(FindToolsInput, FIND_TOOLS, arguments).query
    known = {t.name: t for t in listing()}
    tools = [FoundTool(name=wire_name(n), tool=n, description=known[n].description,
                       input_schema=portable(known[n].parameters)) for n in find_names(query)]
    text = "\n".join(f"{t.name}: {t.description.splitlines()[0]}" for t in tools)
    return structured(FoundTools(tools=tools), text or f"no tool matches {query!r}")
