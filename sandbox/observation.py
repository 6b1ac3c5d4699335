"""The compact record of one executed cell that goes back to the brain."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

MIME = "application/vnd.climcopilot.result+json"
"""MIME type under which the in-kernel runtime publishes a tool's result."""


class PublishedResult(BaseModel):
    """One tool result a cell published: the tool, its arguments, the result model as JSON
    and the device it ran on (``tool``/``arguments`` are absent in records from before they
    were published)."""

    tool: str | None = None
    arguments: dict[str, Any] | None = None
    result: dict[str, Any]
    device: str = "cpu"


class Observation(BaseModel):
    """What one cell did: its outputs, kept small, with handles to anything large.

    ``ok`` means the cell ran without error; whether a tool's result passed its own checks is
    in ``result["checks"]`` (see :meth:`failed_checks`).

    ``source`` is ``"tool"`` for a cell the host rendered from a tool call (then ``tool`` and
    ``arguments`` say which), ``"code"`` for free code. ``trusted`` is True only for a tool
    cell that ran in a kernel where no free code had run since it (re)started: only then can
    its result not have been tampered with. ``results`` are all tool results the cell
    published, in order; ``result`` is the last one's result model (for tool cells, the
    tool's). ``error`` is one line (``ToolError: ...`` or ``ZeroDivisionError: ...``);
    ``figures`` are PNG paths in the workspace (regular files there, nothing else);
    ``full_output`` points to the untruncated stdout when ``stdout`` was cut. ``exhausted``
    says the cell used up the kernel's ``processes`` or ``memory``; such a cell is never
    replayed to rebuild a restarted kernel.
    """

    cell: int
    code: str
    ok: bool
    stdout: str = ""
    error: str | None = None
    traceback: str | None = None
    source: Literal["tool", "code"] = "code"
    tool: str | None = None
    arguments: dict[str, Any] | None = None
    trusted: bool = False
    results: list[PublishedResult] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    figures: list[str] = Field(default_factory=list)
    full_output: str | None = None
    wall_s: float = 0.0
    device: str = "cpu"
    kernel_restarted: bool = False
    exhausted: Literal["processes", "memory"] | None = None

    @model_validator(mode="after")
    def _results_hold_result(self) -> Observation:
        """Records from before ``results`` existed carry their one result there too."""
        if self.result is not None and not self.results:
            self.results = [PublishedResult(result=self.result, device=self.device)]
        return self

    def failed_checks(self) -> list[str]:
        """Names and details of the result's checks that failed."""
        checks = (self.result or {}).get("checks", [])
        return [f"{c['name']} ({c.get('detail', '')})" for c in checks if not c["passed"]]

    def brief(self, limit: int = 600) -> str:
        """A short text for a language model's context: the error, else summary and values
        (and a note when the cell used up the kernel's processes or memory)."""
        if self.error:
            return f"error: {self.error}"
        if self.exhausted:
            note = f" | used up the kernel's {self.exhausted}: not replayed after a restart"
            return self.model_copy(update={"exhausted": None}).brief(limit - len(note)) + note
        if self.result is not None:
            parts = [self.result.get("summary", "")]
            if self.result.get("values"):
                parts.append(f"values: {self.result['values']}")
            if self.result.get("handles"):
                parts.append(f"handles: {self.result['handles']}")
            if self.figures:
                parts.append(f"figures: {self.figures}")
            if self.failed_checks():
                parts.append(f"FAILED CHECKS: {self.failed_checks()}")
            return " | ".join(p for p in parts if p)[:limit]
        text = self.stdout.strip() or "(no output)"
        if self.figures:
            text += f" | figures: {self.figures}"
        return text[:limit]
