"""The server wiring: an MCP low-level ``Server`` whose handlers serve the tools, resources and
prompts over the MCP sessions and the memory, and the stdio transport.

Blocking work (a kernel cell, a reproduction, a memory search, a catalog read) runs in worker
threads, so one session's long cell does not hold up another session or the protocol; a tool
call reports progress while it runs and is interrupted when the client cancels it.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from climcopilot.agent.config import Settings
from climcopilot.agent.errors import BrainError
from climcopilot.agent.mcp import memory_tools, prompts, resources
from climcopilot.agent.mcp.calls import (
    FIND_TOOLS,
    action_of,
    cell_result,
    error_result,
    found_tools,
    kernel_tools,
)
from climcopilot.agent.mcp.memory_tools import RECALL, REMEMBER, SharedMemory
from climcopilot.agent.mcp.running import run_reporting
from climcopilot.agent.mcp.sessions import McpSession, Sessions
from climcopilot.knowledge.errors import MemoryStoreError
from climcopilot.sandbox.errors import SandboxError
from climcopilot.sandbox.isolation import SandboxPolicy
from climcopilot.tools.errors import ToolError
from climcopilot.tools.schemas import tool_name

CALL_ERRORS = (ToolError, SandboxError, MemoryStoreError, BrainError)
"""Failures a call reports as an MCP tool error with their one-line message."""
INSTRUCTIONS = (
    "ClimCopilot: typed climate-science tools (bundled real data, diagnostics, emulators, data "
    "assimilation, causal discovery) that run in this session's sandboxed Jupyter kernel. Open "
    "data first (data__open_series, data__list_series); later tools take the handles earlier "
    "ones return. Each result carries values with units, handles, figure resource URIs and "
    "whether it is trusted. run_python runs free code in the same kernel (its numbers are "
    "never verified); remember stores a value a tool produced, only if it verifies; recall "
    "finds what was verified before. The prompts are questions the offline brain answers, "
    "with its plan.")


@dataclass
class ServerState:
    """What every handler reaches: the settings, the MCP sessions and the shared memory."""

    settings: Settings
    sessions: Sessions
    memory: SharedMemory

    @classmethod
    def of(cls, settings: Settings, policy: SandboxPolicy) -> ServerState:
        return cls(settings, Sessions(settings, policy), SharedMemory(settings.home))


def session_of(ctx: Any) -> McpSession:
    """The MCP session of request ``ctx``: its HTTP ``Mcp-Session-Id``, else the default."""
    headers = getattr(ctx.request, "headers", None)
    key = headers.get("mcp-session-id") if headers is not None else None
    return ctx.lifespan_context.sessions.get(key)


def _nothing_to_stop(_cancelled: object) -> None:
    """Host-side work (memory, reproduction) is not interrupted: it ends on its own."""


def all_tools() -> list[types.Tool]:
    """Every tool the server lists: the registered ones, run_python, find_tools, memory."""
    return [*kernel_tools(), *memory_tools.TOOLS]


def input_schema(name: str) -> dict[str, Any] | None:
    """Tool ``name``'s input schema, for the SDK's check of a call's ``Mcp-Param`` headers
    (without running the whole listing)."""
    return next((t.input_schema for t in all_tools() if t.name == name), None)


async def _list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=all_tools())


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    """Every tool call: ``find_tools``, ``recall`` and ``remember`` on the host, the typed
    tools and ``run_python`` in the session's kernel."""
    state: ServerState = ctx.lifespan_context
    name, arguments = tool_name(params.name), params.arguments or {}
    try:
        if name == FIND_TOOLS:
            return found_tools(arguments)
        session = session_of(ctx)
        if name == RECALL:
            return await run_reporting(
                lambda _c: memory_tools.recall(state.memory(), arguments), ctx, name,
                _nothing_to_stop)
        if name == REMEMBER:
            return await run_reporting(
                lambda _c: memory_tools.remember(session, state.memory(), arguments), ctx, name,
                _nothing_to_stop)
        action = action_of(name, arguments)
        step = await run_reporting(partial(session.run, action), ctx, name, session.stop)
    except CALL_ERRORS as exc:
        return error_result(str(exc))
    return cell_result(step) if step is not None else error_result("the call was cancelled")


async def _list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
    listed = await anyio.to_thread.run_sync(resources.listed, session_of(ctx))
    return types.ListResourcesResult(resources=listed)


async def _list_templates(ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=resources.TEMPLATES)


async def _read_resource(ctx: Any, params: types.ReadResourceRequestParams
                         ) -> types.ReadResourceResult:
    try:
        content = await anyio.to_thread.run_sync(resources.read, params.uri, session_of(ctx))
    except CALL_ERRORS as exc:
        raise MCPError(code=types.INVALID_PARAMS, message=str(exc)) from None
    return types.ReadResourceResult(contents=[content])


async def _list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
    return types.ListPromptsResult(prompts=prompts.listed())


async def _get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    try:
        return await anyio.to_thread.run_sync(prompts.message, params.name,
                                              params.arguments or {})
    except CALL_ERRORS as exc:
        raise MCPError(code=types.INVALID_PARAMS, message=str(exc)) from None


def build_server(state: ServerState) -> Server[ServerState]:
    """The MCP server over ``state``; its lifespan ends every session's kernel on the way out."""

    @asynccontextmanager
    async def lifespan(_server: Server[ServerState]) -> AsyncIterator[ServerState]:
        try:
            yield state
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(state.sessions.end_all)

    return Server("climcopilot", version=version("climcopilot"), title="ClimCopilot",
                  instructions=INSTRUCTIONS, lifespan=lifespan,
                  get_tool_input_schema=input_schema, on_list_tools=_list_tools,
                  on_call_tool=_call_tool, on_list_resources=_list_resources,
                  on_list_resource_templates=_list_templates, on_read_resource=_read_resource,
                  on_list_prompts=_list_prompts, on_get_prompt=_get_prompt)


async def _stop_on_sigterm(scope: anyio.CancelScope) -> None:
    """Cancel ``scope`` on SIGTERM (what a client sends when the server does not exit after it
    closed stdin), so the lifespan still shuts the kernels down."""
    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            scope.cancel()
            return


def serve_stdio(server: Server[ServerState]) -> None:
    """Serve one client over stdin/stdout until it closes them (the process is the session)."""

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(_stop_on_sigterm, group.cancel_scope)
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())
            group.cancel_scope.cancel()

    anyio.run(main)
