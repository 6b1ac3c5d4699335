"""``climcopilot mcp [--http HOST:PORT] [--token TOKEN]``: ClimCopilot as an MCP server
(docs/mcp.md), over stdio by default."""

from __future__ import annotations

import argparse
import os

from climcopilot.agent.commands.options import sandbox_policy
from climcopilot.agent.config import load_settings
from climcopilot.agent.errors import UsageError


def run(args: argparse.Namespace) -> int:
    from climcopilot.agent.mcp.http import TOKEN_ENV, check_exposure, parse_address

    token = args.token or os.environ.get(TOKEN_ENV) or None
    address = parse_address(args.http) if args.http is not None else None
    if address is None and args.token:
        raise UsageError("--token guards --http; over stdio the client that starts the "
                         "server is its only user")
    if address is not None:
        check_exposure(address[0], token)
    from climcopilot.agent.mcp.server import ServerState, build_server, serve_stdio
    from climcopilot.agent.mcp.sessions import IDLE_S, MAX_SESSIONS

    state = ServerState.of(load_settings(), sandbox_policy(args))
    server = build_server(state)
    if address is None:
        serve_stdio(server)
    else:
        from climcopilot.agent.mcp.http import serve_http

        serve_http(server, state.sessions.end, *address, token, IDLE_S, MAX_SESSIONS)
    return 0
