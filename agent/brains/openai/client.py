"""One chat-completion request to an OpenAI-compatible endpoint, through the ``openai``
package: retries with backoff and a request timeout from the settings, the answer streamed
token by token (or read whole), reasoning split off, and every failure as one
:class:`BrainError` line that says what happened and what to do.

The reply is read from the raw body, so what servers send that the OpenAI schema does not
foresee (``arguments`` as a JSON object, ``reasoning_content``, a 200 with an HTML page) is
handled here, not as a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from climcopilot.agent.brains.openai.reasoning import ThinkSplitter, split_think
from climcopilot.agent.config import Settings
from climcopilot.agent.errors import BrainError

REASONING_FIELDS = ("reasoning_content", "reasoning")  # vLLM/DeepSeek, Ollama/OpenRouter
CONTEXT_WORDS = ("context length", "context window", "maximum context", "max_model_len",
                 "too many tokens", "exceeds the", "n_ctx", "prompt is too long")


@dataclass
class RawCall:
    """One tool call as the server sent it: ``arguments`` a JSON text, or an object."""

    id: str | None
    name: str
    arguments: Any


@dataclass
class Reply:
    """What the model answered: ``content`` without reasoning, the ``reasoning`` (think
    blocks and ``reasoning_content``), the tool calls, why it stopped, and the tokens the
    server counted (None when it reports none)."""

    content: str = ""
    reasoning: str = ""
    calls: list[RawCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: tuple[int, int] | None = None


def _usage(data: Any) -> tuple[int, int] | None:
    if not data:
        return None
    get = data.get if isinstance(data, dict) else lambda k: getattr(data, k, None)
    return int(get("prompt_tokens") or 0), int(get("completion_tokens") or 0)


def _reply(message: dict[str, Any], finish: str | None, usage: Any) -> Reply:
    """The reply from a message object (whole or assembled from a stream)."""
    visible, thought = split_think(message.get("content") or "")
    reasoning = "\n".join(str(message[k]) for k in REASONING_FIELDS if message.get(k))
    calls = [RawCall(id=c.get("id"), name=(c.get("function") or {}).get("name") or "",
                     arguments=(c.get("function") or {}).get("arguments"))
             for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    return Reply(content=visible, reasoning="\n".join(r for r in (reasoning, thought) if r),
                 calls=calls, finish_reason=finish, usage=_usage(usage))


def read_body(text: str, where: str) -> Reply:
    """A whole (not streamed) response body as a reply; BrainError when it is not a chat
    completion in JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        start = " ".join(text.split())[:60]
        raise BrainError(f"{where} answered with something that is not JSON ({start!r}); "
                         "check that OPENAI_BASE_URL is the API root, e.g. "
                         "http://host:8000/v1") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise BrainError(f"{where} returned no choices (not a chat completion: "
                         f"{json.dumps(data)[:80]})")
    first = choices[0]
    return _reply(first.get("message") or {}, first.get("finish_reason"), data.get("usage"))


class Assembly:
    """A streamed reply put together chunk by chunk; visible text goes to ``on_token`` as it
    comes."""

    def __init__(self, on_token: Callable[[str], None] | None) -> None:
        self.on_token = on_token
        self.splitter = ThinkSplitter()
        self.message: dict[str, Any] = {"content": "", "tool_calls": []}
        self.finish: str | None = None
        self.usage: Any = None

    def add(self, chunk: dict[str, Any]) -> None:
        self.usage = chunk.get("usage") or self.usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                self.message["content"] += text
                shown = self.splitter.feed(text)
                if shown and self.on_token:
                    self.on_token(shown)
            for key in REASONING_FIELDS:
                if delta.get(key):
                    self.message[key] = self.message.get(key, "") + str(delta[key])
            for call in delta.get("tool_calls") or []:
                self._call(call)
            self.finish = choice.get("finish_reason") or self.finish

    def _call(self, call: dict[str, Any]) -> None:
        calls = self.message["tool_calls"]
        index = call.get("index")
        known = {c["id"]: i for i, c in enumerate(calls) if c["id"]}
        if index is None:  # servers that send no index: a new id is a new call
            index = known.get(call.get("id"), len(calls) if call.get("id") or not calls
                              else len(calls) - 1)
        while len(calls) <= index:
            calls.append({"id": None, "function": {"name": "", "arguments": ""}})
        slot, function = calls[index], call.get("function") or {}
        slot["id"] = call.get("id") or slot["id"]
        name = function.get("name") or ""
        if name and name != slot["function"]["name"]:
            slot["function"]["name"] += name
        arguments = function.get("arguments")
        if isinstance(arguments, dict | list):
            slot["function"]["arguments"] = arguments
        elif arguments:
            slot["function"]["arguments"] = f"{slot['function']['arguments']}{arguments}"

    def reply(self) -> Reply:
        tail = self.splitter.close()
        if tail and self.on_token:
            self.on_token(tail)
        return _reply(self.message, self.finish, self.usage)


class ChatClient:
    """Requests to one endpoint; ``usage`` sums the tokens it reported (None until it
    reports any), ``requests`` counts the requests made."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.where = settings.base_url or "the default OpenAI endpoint"
        self.client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key,
                                    max_retries=settings.llm_retries,
                                    timeout=settings.llm_timeout_s)
        self.usage: dict[str, int] | None = None
        self.requests = 0

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                 on_token: Callable[[str], None] | None = None) -> Reply:
        """One request; streamed when the settings say so (tokens to ``on_token``)."""
        kwargs: dict[str, Any] = {"model": self.settings.model, "messages": messages}
        if tools:
            kwargs["tools"] = tools
        self.requests += 1
        try:
            reply = self._stream(kwargs, on_token) if self.settings.llm_stream == "on" \
                else read_body(self._raw(kwargs).text, self.where)
        except openai.APITimeoutError:
            raise self._timeout() from None
        except httpx.TimeoutException:
            raise self._timeout() from None
        except openai.APIConnectionError as exc:
            raise BrainError(f"cannot reach the LLM endpoint at {self.where} "
                             f"({type(exc).__name__}); check OPENAI_BASE_URL or use "
                             "--brain offline") from None
        except httpx.HTTPError as exc:
            raise BrainError(f"the connection to {self.where} broke while the model answered "
                             f"({type(exc).__name__}); try again") from None
        except openai.AuthenticationError:
            raise BrainError(f"{self.where} rejected the API key; check OPENAI_API_KEY") \
                from None
        except openai.NotFoundError:
            raise BrainError(f"{self.where} has no model {self.settings.model!r}; "
                             "set CLIMCOPILOT_MODEL") from None
        except openai.APIStatusError as exc:
            raise self._status(exc) from None
        if reply.usage is not None:
            self.usage = self.usage or {"prompt_tokens": 0, "completion_tokens": 0}
            self.usage["prompt_tokens"] += reply.usage[0]
            self.usage["completion_tokens"] += reply.usage[1]
        return reply

    def _raw(self, kwargs: dict[str, Any]) -> Any:
        return self.client.chat.completions.with_raw_response.create(**kwargs)

    def _stream(self, kwargs: dict[str, Any], on_token: Callable[[str], None] | None) -> Reply:
        with self.client.chat.completions.with_streaming_response.create(
                **kwargs, stream=True, stream_options={"include_usage": True}) as response:
            if "event-stream" not in response.headers.get("content-type", ""):
                return read_body(response.read().decode("utf-8", "replace"), self.where)
            assembly = Assembly(on_token)
            for line in response.iter_lines():
                payload = line.removeprefix("data:").strip()
                if not line.startswith("data:") or not payload or payload == "[DONE]":
                    continue
                try:
                    assembly.add(json.loads(payload))
                except ValueError:
                    raise BrainError(f"{self.where} streamed a chunk that is not JSON "
                                     f"({payload[:60]!r}); set llm_stream off") from None
            return assembly.reply()

    def _timeout(self) -> BrainError:
        tries = self.settings.llm_retries + 1
        return BrainError(f"the model did not answer within {self.settings.llm_timeout_s:g} s "
                          f"({tries} {'try' if tries == 1 else 'tries'}); raise llm_timeout_s "
                          "(CLIMCOPILOT_LLM_TIMEOUT_S) or use a faster model")

    def _status(self, exc: openai.APIStatusError) -> BrainError:
        body = exc.body
        error = body.get("error", body) if isinstance(body, dict) else body
        message = str(error.get("message", error) if isinstance(error, dict) else
                      error or exc.message)
        if exc.status_code in (400, 413) and any(w in message.lower() for w in CONTEXT_WORDS):
            return BrainError(f"{self.where}: the request is longer than the model's context "
                              f"({' '.join(message.split())[:120]}); start the server with a "
                              "longer context (docs/llm.md) or set tools_offered core")
        return BrainError(f"{self.where} answered HTTP {exc.status_code}: "
                          f"{' '.join(message.split())[:200]}")
