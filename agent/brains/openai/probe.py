"""Can this endpoint drive the loop? One small tool-calling request, as ``climcopilot doctor``
makes it: the model must answer with a call of the function it is given, within the timeout,
as the settings stream it."""

from __future__ import annotations

import time
from dataclasses import replace

from climcopilot.agent.brains.openai.client import ChatClient
from climcopilot.agent.config import Settings
from climcopilot.agent.errors import BrainError
from climcopilot.tools.schemas import tool_name

PROBE_TIMEOUT_S = 30.0
PING = {"type": "function", "function": {
    "name": "ping", "description": "Answer the health check.",
    "parameters": {"type": "object", "properties": {"ok": {"type": "boolean"}},
                   "required": ["ok"], "additionalProperties": False}}}


def probe(settings: Settings) -> str:
    """One line saying the endpoint's model calls tools (and how fast); BrainError saying
    what to change when it cannot be used."""
    quick = replace(settings, llm_retries=0,
                    llm_timeout_s=min(settings.llm_timeout_s, PROBE_TIMEOUT_S))
    client = ChatClient(quick)
    started = time.perf_counter()
    reply = client.complete([{"role": "user", "content": "Health check: call the function "
                                                         "ping with ok = true."}], [PING])
    if "ping" not in {tool_name(c.name) for c in reply.calls}:
        raise BrainError(f"{settings.model} at {client.where} answered without calling the "
                         "function it was given: enable tool calling on the server (vLLM "
                         "--enable-auto-tool-choice --tool-call-parser ..., llama-server "
                         "--jinja; docs/llm.md) or use a model with tool support")
    mode = "streamed" if settings.llm_stream == "on" else "not streamed"
    return (f"{client.where}: {settings.model} calls tools ({time.perf_counter() - started:.1f}"
            f" s, {mode})")
