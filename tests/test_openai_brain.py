"""The openai brain over real HTTP: the real ``openai`` client talks to a fake server."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SOI_NINO3, findings_in, run_cli
from fake_openai import FakeOpenAI

from climcopilot.agent.brains.openai.probe import probe
from climcopilot.agent.config import load_settings
from climcopilot.agent.errors import BrainError


def test_openai_brain_tool_calls_and_malformed_arguments_over_http(home: Path) -> None:
    replies = [
        {"content": "1. open SOI and Nino-3\n2. correlate"},               # the plan
        {"tool": "data__open_series", "arguments": '{"name": "soi"}'},
        {"tool": "data__open_series", "arguments": '{"name": "nino3"'},      # malformed JSON
        {"tool": "data__open_series", "arguments": '{"name": "nino3"}'},
        {"tool": "analysis__lag_correlation",
         "arguments": '{"a": "soi", "b": "nino3", "max_lag": 6}'},
        {"content": "SOI and Nino-3 are anti-correlated."},                  # the answer
    ]
    with FakeOpenAI(replies) as server:
        proc = run_cli("ask", "--json", "--brain", "openai", SOI_NINO3,
                       env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test",
                            "CLIMCOPILOT_MODEL": "fake-model"})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # The malformed call went back to the model as an error instead of crashing.
    assert [s["ok"] for s in out["steps"]] == [True, False, True, True]
    fourth = server.requests[3]["messages"]
    assert "not valid JSON" in fourth[-1]["content"] and fourth[-1]["role"] == "tool"
    # Tools were offered with schemas built from the pydantic models.
    offered = {t["function"]["name"]: t for t in server.requests[1]["tools"]}
    assert offered["analysis__lag_correlation"]["function"]["parameters"]["properties"][
        "max_lag"]["maximum"] == 240
    assert server.requests[1]["model"] == "fake-model"
    # Numbers come from the tool, computed in the kernel: independent of the fake's text.
    assert abs(out["values"]["r"] + 0.67) <= 0.03
    assert out["answer"].startswith("SOI and Nino-3 are anti-correlated.")
    assert findings_in(home) == 1


def test_server_error_is_retried_then_reported(home: Path) -> None:
    replies = [{"status": 500}, {"status": 500}, {"status": 500}]
    with FakeOpenAI(replies) as server:
        proc = run_cli("ask", "--brain", "openai", SOI_NINO3,
                       env={"OPENAI_BASE_URL": server.base_url, "CLIMCOPILOT_LLM_RETRIES": "2"})
    assert proc.returncode == 1
    assert len(server.requests) == 3  # one try and two retries with backoff
    assert "answered HTTP 500" in proc.stderr and proc.stderr.count("\n") == 1
    assert findings_in(home) == 0


def test_probe_says_whether_the_endpoint_calls_tools(home: Path) -> None:
    with FakeOpenAI([{"tool": "ping", "arguments": '{"ok": true}'},
                     {"content": "pong"}]) as server:
        settings = replace(load_settings("openai"), base_url=server.base_url, model="m")
        assert probe(settings).startswith(f"{server.base_url}: m calls tools (")
        with pytest.raises(BrainError, match="without calling the function") as refused:
            probe(settings)
    assert "\n" not in str(refused.value)
    assert [t["function"]["name"] for t in server.requests[0]["tools"]] == ["ping"]


def test_doctor_fails_the_endpoint_of_a_model_that_does_not_call_tools(home: Path) -> None:
    from climcopilot.agent.doctor import _endpoint

    with FakeOpenAI([{"tool": "ping", "arguments": '{"ok": true}'},
                     {"content": "I would call ping now."}]) as server:
        check = _endpoint(replace(load_settings("openai"), base_url=server.base_url, model="m"))
        assert check().startswith(f"{server.base_url} serves 1 models; ")
        with pytest.raises(BrainError, match="without calling the function"):
            check()  # the model listed, but it answers in text: not usable for the loop
