"""Typed scientific tools, by family: data, analysis, viz, emulators, da, causal."""

from climcopilot.tools.base import Check, Tool, ToolContext, ToolError, ToolResult, tool

__all__ = ["Check", "Tool", "ToolContext", "ToolError", "ToolResult", "tool"]
