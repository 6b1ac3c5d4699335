"""Streamable HTTP: ``climcopilot mcp --http HOST:PORT`` serves ``http://HOST:PORT/mcp``.

Loopback addresses need no token (DNS-rebinding protection is on there); any other address
refuses to start without a bearer token (``--token`` or ``CLIMCOPILOT_MCP_TOKEN``, at least
:data:`MIN_TOKEN_CHARS` characters). With a token, every request must carry
``Authorization: Bearer TOKEN`` (compared in constant time), else it is answered 401. A client's
DELETE of its ``Mcp-Session-Id`` ends that MCP session and its kernel.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
import sys
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import uvicorn
from starlette.responses import JSONResponse

from climcopilot.agent.errors import UsageError

TOKEN_ENV = "CLIMCOPILOT_MCP_TOKEN"
MIN_TOKEN_CHARS = 16
PATH = "/mcp"
MAKE_TOKEN = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` as (host, port): ``127.0.0.1:8765``, ``[::1]:8765``, ``localhost:0``
    (port 0: any free port, printed at start). UsageError otherwise."""
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--http {text!r} must be HOST:PORT, e.g. 127.0.0.1:8765 or "
                         "[::1]:8765")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_exposure(host: str, token: str | None) -> None:
    """UsageError if ``host`` is reachable from other machines and no token guards it, or if
    the token is too short to guard anything."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise UsageError(f"the bearer token has {len(token)} characters, fewer than "
                         f"{MIN_TOKEN_CHARS}; make one with: {MAKE_TOKEN}")
    if token is None and not is_loopback(host):
        raise UsageError(f"--http on {host} is reachable from other machines, so it needs a "
                         f"bearer token: --token TOKEN or {TOKEN_ENV} (make one with: "
                         f"{MAKE_TOKEN}), or listen on 127.0.0.1")


class Guard:
    """ASGI in front of the MCP app: without the bearer token a request is answered 401;
    after a client's DELETE of its session, ``end_session(session_id)`` runs."""

    def __init__(self, app: Any, token: str | None, end_session: Callable[[str], None]) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token is not None else None
        self.end_session = end_session

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.expected is not None and not hmac.compare_digest(
                headers.get(b"authorization", b""), self.expected):
            refusal = JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                   headers={"WWW-Authenticate": 'Bearer realm="climcopilot"'})
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)
        session_id = headers.get(b"mcp-session-id")
        if scope["method"] == "DELETE" and session_id:
            await anyio.to_thread.run_sync(self.end_session, session_id.decode())


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, so that a client connecting as soon
    as the address is printed waits in the backlog until the server accepts (UsageError if
    it cannot be bound)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


def serve_http(server: Any, end_session: Callable[[str], None], host: str, port: int,
               token: str | None, idle_s: float, max_sessions: int) -> None:
    """Serve ``server`` over streamable HTTP until interrupted; the address it listens on is
    printed on stderr first."""
    app = server.streamable_http_app(host=host, streamable_http_path=PATH,
                                     session_idle_timeout=idle_s, max_sessions=max_sessions)
    sock = listening_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    guard = "bearer token required" if token is not None else "loopback, no token"
    print(f"climcopilot mcp: serving http://{shown}:{sock.getsockname()[1]}{PATH} ({guard})",
          file=sys.stderr, flush=True)
    config = uvicorn.Config(Guard(app, token, end_session), log_level="warning",
                            lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
