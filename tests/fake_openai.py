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

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [
                        {"id": "m", "object": "model", "owned_by": "fake"}]}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

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


# -- a model that plays well --------------------------------------------------------------
HANDLES = "handles (objects in the kernel): "


def question_of(body: dict[str, Any]) -> str:
    """The user's question (the first user message, without the plan request)."""
    first = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return first.split("\n\nBefore any tool call")[0]


def executed(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(function name, what it observed) of each call so far, find_tools left out."""
    seen = {m["tool_call_id"]: m["content"] for m in body["messages"] if m["role"] == "tool"}
    return [(c["function"]["name"], seen.get(c["id"], ""))
            for m in body["messages"] if m["role"] == "assistant"
            for c in m.get("tool_calls") or [] if c["function"]["name"] != "find_tools"]


def values_line(observed: str) -> str:
    return next((ln for ln in observed.splitlines() if ln.startswith("values: ")), "")


class Competent:
    """Plays a competent model: plans and calls what the offline composer plans for the
    question (independent steps in one message, as parallel calls), looks up a tool that is
    not offered with find_tools, and answers with the numbers of the statistic's result.
    ``answer`` overrides the final text (e.g. to state a number no step produced)."""

    def __init__(self, answer: str | None = None) -> None:
        self.answer = answer

    def __call__(self, body: dict[str, Any]) -> Reply:
        from climcopilot.agent.brains.offline.composer import compose
        from climcopilot.agent.brains.offline.plans import resolve
        from climcopilot.agent.spec import read_question
        from climcopilot.tools.schemas import wire_name

        plan = compose(read_question(question_of(body)))
        if plan is None:
            return {"content": "No tool answers this question."}
        last = body["messages"][-1]["content"] or ""
        if not body.get("tools"):
            if "plan" in last:  # each line names the function and its arguments
                return {"content": "\n".join(
                    f"{i}. {wire_name(s.tool)} {json.dumps(written(s.arguments))}: {line}"
                    for i, (s, line) in enumerate(zip(plan.steps, plan.lines), start=1))}
            return {"content": self.final(body, plan)}
        done = executed(body)
        if len(done) >= len(plan.steps):
            return {"content": self.final(body, plan)}
        results = {step.name: {"handles": next(
            (ln[len(HANDLES):].split(", ") for ln in observed.splitlines()
             if ln.startswith(HANDLES)), [])} for step, (_, observed) in zip(plan.steps, done)}
        offered = {t["function"]["name"] for t in body["tools"]}
        calls = []
        for step in plan.steps[len(done):]:
            if not ready(step.arguments, results):
                break
            if wire_name(step.tool) not in offered:
                if calls:
                    break
                return {"calls": [{"name": "find_tools", "arguments": json.dumps(
                    {"query": step.tool})}]}
            calls.append({"name": wire_name(step.tool),
                          "arguments": json.dumps(resolve(step.arguments, results))})
            results[step.name] = {"handles": []}  # not ready for steps that need it
        return {"calls": calls}

    def final(self, body: dict[str, Any], plan: Any) -> str:
        if self.answer is not None:
            return self.answer
        done = executed(body)
        named = dict(zip((s.name for s in plan.steps), (o for _, o in done)))
        found = values_line(named.get("stat", done[-1][1] if done else ""))
        return f"The result is {found.removeprefix('values: ') or 'not available'}."


def ready(arguments: Any, results: dict[str, dict[str, Any]]) -> bool:
    """Every handle ``arguments`` refers to is known (its step ran before this turn)."""
    if isinstance(arguments, dict) and set(arguments) == {"$from", "at"}:
        handles = results.get(arguments["$from"], {}).get("handles", [])
        return arguments["at"] < len(handles)
    if isinstance(arguments, dict):
        return all(ready(v, results) for v in arguments.values())
    if isinstance(arguments, list):
        return all(ready(v, results) for v in arguments)
    return True


def written(arguments: Any) -> Any:
    """Planned arguments as a plan line writes them: a handle from an earlier step by that
    step's name."""
    if isinstance(arguments, dict) and set(arguments) == {"$from", "at"}:
        return f"<{arguments['$from']} handle {arguments['at']}>"
    if isinstance(arguments, dict):
        return {k: written(v) for k, v in arguments.items()}
    if isinstance(arguments, list):
        return [written(v) for v in arguments]
    return arguments
