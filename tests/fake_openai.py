"""A fake OpenAI-compatible chat endpoint on loopback, for driving the real ``openai`` client
with scripted replies or a policy that plays a model, well-behaved or not.

A reply is a dict; each key is one thing the fake model does:

- ``content``: text (``<think>...</think>`` in it stays: the client must strip it);
  ``reasoning``: a ``reasoning_content`` beside it;
- ``tool`` + ``arguments`` (text, or an object as some servers send): one tool call;
  ``calls``: several, each ``{"name", "arguments", "id"?}`` (``"id": None``: no id sent);
- ``finish_reason``: overrides ``stop``/``tool_calls``; ``usage``: ``{"prompt_tokens": P,
  "completion_tokens": C}`` (default 10 and 5);
- ``status``: that HTTP status with an error ``message``; ``body``: this raw text with
  ``content_type`` instead of JSON; ``delay``: seconds to wait before answering.

``FakeOpenAI(replies)`` answers them in order (then ``{"content": "done"}``);
``FakeOpenAI(policy=f)`` answers ``f(request_body)``. Requests asking ``stream`` get
server-sent events: text in small pieces (so tags are cut across chunks), each call's
arguments in pieces, then the usage. Every request body is kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any]
Policy = Callable[[dict[str, Any]], Reply]
PIECE = 7  # characters per streamed piece


def usage(given: dict[str, int]) -> dict[str, int]:
    tokens = {"prompt_tokens": 10, "completion_tokens": 5, **given}
    return {**tokens, "total_tokens": tokens["prompt_tokens"] + tokens["completion_tokens"]}


def calls_of(reply: Reply, number: int) -> list[dict[str, Any]]:
    """The reply's tool calls in the wire format (``id`` left out where it is None)."""
    listed = reply.get("calls") or ([{"name": reply["tool"], "arguments": reply["arguments"]}]
                                    if "tool" in reply else [])
    out = []
    for i, call in enumerate(listed):
        wire: dict[str, Any] = {"type": "function", "function": {
            "name": call["name"], "arguments": call.get("arguments", "{}")}}
        ident = call.get("id", f"call_{number}_{i}")
        if ident is not None:
            wire["id"] = ident
        out.append(wire)
    return out


def message_of(reply: Reply, number: int) -> tuple[dict[str, Any], str]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
    calls = calls_of(reply, number)
    if calls:
        message["tool_calls"] = calls
    if "reasoning" in reply:
        message["reasoning_content"] = reply["reasoning"]
    return message, reply.get("finish_reason", "tool_calls" if calls else "stop")


def pieces(text: str) -> Iterator[str]:
    for start in range(0, len(text), PIECE):
        yield text[start:start + PIECE]


def chunks(reply: Reply, number: int, model: str, with_usage: bool) -> Iterator[dict]:
    """The streamed form of a reply, chunk by chunk."""
    message, finish = message_of(reply, number)
    base = {"id": f"chatcmpl-{number}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}

    def delta(d: dict[str, Any], reason: str | None = None) -> dict:
        return {**base, "choices": [{"index": 0, "delta": d, "finish_reason": reason}]}

    yield delta({"role": "assistant", "content": ""})
    if message.get("reasoning_content"):
        yield delta({"reasoning_content": message["reasoning_content"]})
    for piece in pieces(message.get("content") or ""):
        yield delta({"content": piece})
    for index, call in enumerate(message.get("tool_calls", [])):
        head = {"index": index, "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""}}
        if "id" in call:
            head["id"] = call["id"]
        yield delta({"tool_calls": [head]})
        arguments = call["function"]["arguments"]
        parts = [arguments] if not isinstance(arguments, str) else list(pieces(arguments))
        for part in parts:
            yield delta({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    yield delta({}, finish)
    if with_usage:
        yield {**base, "choices": [], "usage": usage(reply.get("usage", {}))}


class FakeOpenAI:
    def __init__(self, replies: list[Reply] | None = None, policy: Policy | None = None) -> None:
        self.replies = list(replies or [])
        self.policy = policy
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.requests.append(body)
                    number = len(fake.requests)
                    reply = fake.next_reply(body)
                time.sleep(reply.get("delay", 0))
                if "status" in reply:
                    self._send(reply["status"], json.dumps({"error": {
                        "message": reply.get("message", "scripted failure")}}).encode())
                elif "body" in reply:
                    self._send(200, reply["body"].encode(), reply.get("content_type",
                                                                       "text/html"))
                elif body.get("stream"):
                    self._stream(reply, number, body)
                else:
                    message, finish = message_of(reply, number)
                    self._send(200, json.dumps({
                        "id": f"chatcmpl-{number}", "object": "chat.completion",
                        "created": int(time.time()), "model": body["model"],
                        "choices": [{"index": 0, "message": message,
                                     "finish_reason": finish}],
                        "usage": usage(reply.get("usage", {}))}).encode())

            def _stream(self, reply: Reply, number: int, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                for chunk in chunks(reply, number, body["model"], with_usage):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

            def _send(self, code: int, data: bytes, kind: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        if self.replies:
            return self.replies.pop(0)
        return self.policy(body) if self.policy is not None else {"content": "done"}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
