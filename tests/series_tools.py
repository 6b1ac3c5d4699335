"""Calling the data, analysis and viz tools in-process (without loading the whole registry,
which imports every family), for the tests of those families."""

from __future__ import annotations

from climcopilot.tools.analysis import (
    area,
    climatology,
    eof,
    series,
    smoothing,
    spectrum,
    trend,
)
from climcopilot.tools.base import ToolContext, ToolResult
from climcopilot.tools.data import access, bundled
from climcopilot.tools.registry import tools_in
from climcopilot.tools.viz import maps, plots

TOOLS = {t.name: t for m in (access, bundled, area, climatology, eof, series, smoothing,
                             spectrum, trend, maps, plots) for t in tools_in(m)}


def run(ctx: ToolContext, tool_name: str, /, **args) -> ToolResult:
    """Run one tool; every value it reports must carry a non-empty unit."""
    result = TOOLS[tool_name].run(args, ctx)
    missing = [k for k in result.values if not result.units.get(k)]
    assert not missing, f"{tool_name}: values without units: {missing}"
    return result
