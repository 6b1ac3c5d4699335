"""The compact record of one executed cell that goes back to the brain."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

MIME = "application/vnd.climcopilot.result+json"
"""MIME type under which the in-kernel runtime publishes a tool's result."""


class Observation(BaseModel):
    """What one cell did: its outputs, kept small, with handles to anything large.

    ``ok`` means the cell ran without error; whether a tool's result passed its own checks is
    in ``result["checks"]`` (see :meth:`failed_checks`).

    ``result`` is the tool's result model as JSON (for tool cells); ``error`` is one line
    (``ToolError: ...`` or ``ZeroDivisionError: ...``); ``figures`` are PNG paths in the
    workspace; ``full_output`` points to the untruncated stdout when ``stdout`` was cut.
    """

    cell: int
    code: str
    ok: bool
    stdout: str = ""
    error: str | None = None
    traceback: str | None = None
    result: dict[str, Any] | None = None
    figures: list[str] = Field(default_factory=list)
    full_output: str | None = None
    wall_s: float = 0.0
    device: str = "cpu"
    kernel_restarted: bool = False

    def failed_checks(self) -> list[str]:
        """Names and details of the result's checks that failed."""
        checks = (self.result or {}).get("checks", [])
        return [f"{c['name']} ({c.get('detail', '')})" for c in checks if not c["passed"]]

    def brief(self, limit: int = 600) -> str:
        """A short text for a language model's context: the error, else summary and values."""
        if self.error:
            return f"error: {self.error}"
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
