"""What a tool is: a pydantic input model, a function, and a pydantic result model with checks.

A tool is declared with the :func:`tool` decorator on a plain function whose first parameter is
annotated with the input model and whose return annotation is the result model::

    class LagInput(BaseModel):
        a: str = Field(description="handle of the first series")

    class LagResult(ToolResult):
        r: float

    @tool("analysis.lag_correlation", family="analysis")
    def lag_correlation(args: LagInput, ctx: ToolContext) -> LagResult:
        ...

The JSON schema an LLM sees is built from the same input model (:meth:`Tool.openai_schema`,
:mod:`climcopilot.tools.schemas`).
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from climcopilot.tools.errors import ToolError as ToolError
from climcopilot.tools.schemas import Mode, function

TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class Check(BaseModel):
    """One self-check of a result (units, ranges, conservation, reference skill)."""

    name: str
    passed: bool
    detail: str = ""


class ValidRange(BaseModel):
    """Where a quantity is trusted: ``low`` <= value <= ``high``, in ``units``."""

    model_config = ConfigDict(extra="forbid")

    low: float
    high: float
    units: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> ValidRange:
        if not self.low < self.high:
            raise ValueError(f"a valid range needs low < high, got {self.low} .. {self.high}")
        return self


class KnowledgeCard(BaseModel):
    """What a plugin tool or model is, for the brains (in its description) and the memory.

    ``valid_ranges`` name a tool's inputs (or a model's parameters, ``dt``, ``state``) with the
    range where its results are trusted, often narrower than what the schema accepts.
    """

    model_config = ConfigDict(extra="forbid")

    what: str = Field(min_length=10, description="what it is, in a sentence or two")
    when_to_use: str = Field(min_length=10, description="the questions it answers, and when "
                             "not to use it")
    references: list[str] = Field(default_factory=list, description="papers, DOIs or URLs")
    valid_ranges: dict[str, ValidRange] = Field(default_factory=dict)

    def text(self) -> str:
        """The card as plain text (what the LLM reads and the memory indexes)."""
        lines = [f"What: {self.what}", f"When to use: {self.when_to_use}"]
        if self.valid_ranges:
            lines.append("Valid ranges: " + "; ".join(
                f"{name} {r.low:g}..{r.high:g}{' ' + r.units if r.units else ''}"
                for name, r in self.valid_ranges.items()))
        if self.references:
            lines.append("References: " + "; ".join(self.references))
        return "\n".join(lines)


class ToolResult(BaseModel):
    """Base of every tool's result.

    ``values`` holds the headline numbers the agent may quote ({name: number}), ``units`` their
    units, ``handles`` the names of objects the tool left in the session (datasets, models),
    ``figures`` paths of saved figures, ``checks`` the result's own checks, and ``summary`` one
    sentence for the transcript.
    """

    model_config = ConfigDict(extra="forbid")

    summary: str = ""
    values: dict[str, float] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    handles: list[str] = Field(default_factory=list)
    figures: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed and every value is finite."""
        finite = all(math.isfinite(v) for v in self.values.values())
        return finite and all(c.passed for c in self.checks)


@dataclass
class ToolContext:
    """What a running tool may touch: the session's workspace, its objects, and the device.

    ``store`` maps handle names to live objects (xarray objects, trained models) kept in the
    session's kernel between calls; ``workspace`` is the only directory a tool writes to.
    """

    workspace: Path
    store: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"

    def new_path(self, folder: str, stem: str, suffix: str) -> Path:
        """A path not yet taken under ``workspace/folder``: ``stem``, ``stem-2``, ..."""
        where = self.workspace / folder
        where.mkdir(parents=True, exist_ok=True)
        path, k = where / f"{stem}{suffix}", 1
        while path.exists():
            k += 1
            path = where / f"{stem}-{k}{suffix}"
        return path

    def figure_path(self, stem: str) -> Path:
        """A fresh PNG path under ``workspace/figures``."""
        return self.new_path("figures", stem, ".png")

    def get(self, handle: str) -> Any:
        """The object named ``handle``, or a ToolError listing the handles there are."""
        if handle not in self.store:
            known = ", ".join(sorted(self.store)) or "none yet"
            raise ToolError(f"no object named {handle!r} in this session (known: {known})")
        return self.store[handle]


@dataclass(frozen=True)
class Tool:
    """A typed tool: ``func(args: input_model, ctx) -> result_model``; ``card`` is optional.

    What running it costs, declared by the tool itself: ``long_running`` (minutes: training,
    sweeps, benchmarks), ``writes_files`` (beyond figures in the workspace), ``downloads``
    (reaches the network). Front ends ask before such a step (:meth:`approval_reason`).
    """

    name: str
    family: str
    description: str
    input_model: type[BaseModel]
    result_model: type[ToolResult]
    func: Callable[[Any, ToolContext], ToolResult]
    card: KnowledgeCard | None = None
    long_running: bool = False
    writes_files: bool = False
    downloads: bool = False

    def approval_reason(self) -> str | None:
        """Why a person may want to approve a call first (None: nothing to approve)."""
        if self.downloads:
            return f"{self.name} downloads files"
        if self.long_running:
            return f"{self.name} runs for minutes"
        if self.writes_files:
            return f"{self.name} writes files"
        return None

    def validate(self, arguments: dict[str, Any]) -> BaseModel:
        """Parse arguments into the input model; a ToolError says which field is wrong, or
        names the arguments the tool does not have and lists those it has."""
        check_argument_names(self.name, arguments, list(self.input_model.model_fields))
        try:
            return self.input_model.model_validate(arguments)
        except ValidationError as exc:
            raise ToolError(f"invalid arguments for {self.name}: {_first_error(exc)}") from None

    def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Validate, call, and check that the function returned its declared result model."""
        result = self.func(self.validate(arguments), ctx)
        if not isinstance(result, self.result_model):
            raise TypeError(f"{self.name} returned {type(result).__name__}, "
                            f"not {self.result_model.__name__}")
        return result

    def openai_schema(self, mode: Mode = "portable") -> dict[str, Any]:
        """The function-calling entry an OpenAI-compatible model sees (``mode``: portable or
        strict, see :mod:`climcopilot.tools.schemas`)."""
        card = f"\n\n{self.card.text()}" if self.card is not None else ""
        return function(self.name, self.description + card,
                        self.input_model.model_json_schema(), mode)


def check_argument_names(tool: str, arguments: dict[str, Any], names: list[str]) -> None:
    """A ToolError naming the arguments ``tool`` does not have, with those it has."""
    unknown = sorted(set(arguments) - set(names))
    if unknown:
        raise ToolError(f"{tool} has no argument {', '.join(map(repr, unknown))}; "
                        f"its arguments: {', '.join(names) or 'none'}")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "arguments"
    return f"{where}: {err['msg']}"


def tool(name: str, family: str, card: KnowledgeCard | None = None, *,
         long_running: bool = False, writes_files: bool = False,
         downloads: bool = False) -> Callable[[Callable], Tool]:
    """Turn ``func(args: InputModel, ctx: ToolContext) -> ResultModel`` into a :class:`Tool`.

    The description is the function's docstring; the models come from its annotations;
    ``card`` is an optional knowledge card (plugins: what it is, when to use it, references);
    the flags say what a call costs (see :class:`Tool`).
    """
    if not TOOL_NAME.match(name):
        raise ValueError(f"tool name {name!r} must look like 'family.verb' (lower case)")

    def wrap(func: Callable) -> Tool:
        hints = get_type_hints(func)
        first = next(iter(inspect.signature(func).parameters))
        input_model, result_model = hints[first], hints["return"]
        if not (issubclass(input_model, BaseModel) and issubclass(result_model, ToolResult)):
            raise TypeError(f"{name}: annotate args with a BaseModel and return a ToolResult")
        return Tool(name=name, family=family, description=inspect.cleandoc(func.__doc__ or ""),
                    input_model=input_model, result_model=result_model, func=func, card=card,
                    long_running=long_running, writes_files=writes_files, downloads=downloads)

    return wrap
