"""A fake OpenAI-compatible chat endpoint on loopback, for driving the real ``openai`` client.

Replies are scripted: each item is ``{"content": TEXT}``, ``{"tool": NAME, "arguments": TEXT}``
or ``{"status": CODE}``; a reply may add ``"usage": {"prompt_tokens": P, "completion_tokens":
C}`` (default 10 and 5). Every request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def usage(given: dict[str, int]) -> dict[str, int]:
    tokens = {"prompt_tokens": 10, "completion_tokens": 5, **given}
    return {**tokens, "total_tokens": tokens["prompt_tokens"] + tokens["completion_tokens"]}


class FakeOpenAI:
    def __init__(self, replies: list[dict[str, Any]]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                reply = fake.replies.pop(0) if fake.replies else {"content": "done"}
                if "status" in reply:
                    self._send(reply["status"], {"error": {"message": "scripted failure"}})
                    return
                message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
                if "tool" in reply:
                    message["tool_calls"] = [{
                        "id": f"call_{len(fake.requests)}", "type": "function",
                        "function": {"name": reply["tool"], "arguments": reply["arguments"]}}]
                self._send(200, {
                    "id": f"chatcmpl-{len(fake.requests)}", "object": "chat.completion",
                    "created": int(time.time()), "model": body["model"],
                    "choices": [{"index": 0, "message": message,
                                 "finish_reason": "tool_calls" if "tool" in reply else "stop"}],
                    "usage": usage(reply.get("usage", {}))})

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
