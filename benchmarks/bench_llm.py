"""The LLM loop's figures: tokens of tools per request (old full list vs the default offering,
portable and strict), the prompt tokens of a 3-step question for the old brain and the new one
side by side (the old brain is run from git, commit 10acc68, with its own tool list), and the
model calls of two passes over the same questions on a fresh memory.

Everything runs against the fake OpenAI-compatible server of the tests (``tests/
fake_openai.py``) through the real ``openai`` client, graph and sandboxed kernel; tokens are
counted with the o200k tokenizer of ``bpe-openai`` on the request bodies as sent.

    .venv/bin/python benchmarks/bench_llm.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import types
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("CLIMCOPILOT_HOME", tempfile.mkdtemp(prefix="bench-llm-"))

import bpe_openai  # noqa: E402
from fake_openai import Competent, FakeOpenAI  # noqa: E402

from climcopilot.agent.brains.factory import make_brain  # noqa: E402
from climcopilot.agent.brains.openai.offering import offered, spec_tools  # noqa: E402
from climcopilot.agent.config import load_settings  # noqa: E402
from climcopilot.agent.session import Session  # noqa: E402
from climcopilot.agent.spec import read_question  # noqa: E402
from climcopilot.tools.registry import registry  # noqa: E402

ENCODING = bpe_openai.get_encoding("o200k_base")
OLD = "10acc68"  # the last commit with the old openai brain
SOI_NINO3 = ("What is the correlation between the Southern Oscillation Index and the "
             "Niño-3 SST anomaly?")
THREE_STEPS = [{"content": "1. open SOI\n2. open Nino-3\n3. correlate"},
               {"tool": "data__open_series", "arguments": '{"name": "soi"}'},
               {"tool": "data__open_series", "arguments": '{"name": "nino3"}'},
               {"tool": "analysis__lag_correlation",
                "arguments": '{"a": "soi", "b": "nino3", "max_lag": 6}'},
               {"content": "SOI and Nino-3 are anti-correlated: r = -0.666."}]
QUESTIONS = [
    SOI_NINO3,
    "How strongly is the Niño-3.4 SST anomaly correlated with the Oceanic Niño Index?",
    "What is the linear trend of HadCRUT5 global temperature since 1970?",
    "What is the seasonal cycle of Mauna Loa CO2?",
    "What is the analysis RMSE of the ETKF with 24 members, inflation 1.013 and random "
    "rotations on Lorenz-96?",
    "Which of 3D-Var, EnKF and LETKF gives the lowest analysis error on Lorenz-96?",
    "Does PCMCI recover the true links of the tigramite tutorial example?",
    "What is the leading Lyapunov exponent of Lorenz-63?",
    "Train a CNN emulator of Lorenz-96 and evaluate its forecast skill",
    "What fraction of the variance of Pacific winter SST anomalies does the first EOF "
    "explain?",
]


def tokens(value: Any) -> int:
    return len(ENCODING.encode(value if isinstance(value, str) else json.dumps(value)))


def old_tool(tool: Any) -> dict[str, Any]:
    """A tool as the old brain offered it: the raw pydantic schema, the whole description
    and card."""
    params = tool.input_model.model_json_schema()
    params.pop("title", None)
    card = f"\n\n{tool.card.text()}" if tool.card is not None else ""
    return {"type": "function", "function": {"name": tool.name.replace(".", "__"),
                                             "description": tool.description + card,
                                             "parameters": params}}


def old_brain_class() -> type:
    """The old OpenAIBrain, loaded from git, offering its own full tool list."""
    source = subprocess.run(["git", "-C", str(ROOT), "show",
                             f"{OLD}:agent/brains/openai_brain.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType("old_openai_brain")
    exec(compile(source, "old_openai_brain.py", "exec"), module.__dict__)
    cls = module.OpenAIBrain
    init = cls.__init__

    def __init__(self: Any, settings: Any) -> None:  # noqa: N807
        init(self, settings)
        self.tools = [old_tool(t) for t in registry().values()] + [module.RUN_PYTHON]

    cls.__init__ = __init__
    return cls


def request_tokens(requests: list[dict[str, Any]]) -> list[int]:
    return [tokens(r["messages"]) + (tokens(r["tools"]) if r.get("tools") else 0)
            for r in requests]


def three_step_question(brain_of: Any) -> tuple[int, list[int]]:
    """(prompt tokens in all, per request) of the scripted 3-step question."""
    with FakeOpenAI(list(THREE_STEPS)) as server:
        settings = replace(load_settings("openai"), base_url=server.base_url)
        with Session(settings, brain_of(settings)) as session:
            state = session.ask(SOI_NINO3)
        assert state["status"] == "done", state.get("reason")
        per = request_tokens(server.requests)
    return sum(per), per


def two_passes() -> tuple[list[int], str]:
    """Model calls per pass over QUESTIONS[:4] on one fresh memory."""
    calls, home = [], Path(tempfile.mkdtemp(prefix="bench-llm-passes-"))
    with FakeOpenAI(policy=Competent()) as server:
        settings = replace(load_settings("openai"), base_url=server.base_url, home=home)
        for _ in range(2):
            before = len(server.requests)
            for question in QUESTIONS[:4]:
                with Session(settings, make_brain(settings)) as session:
                    session.ask(question)
            calls.append(len(server.requests) - before)
    return calls, str(home)


def main() -> None:
    old_list = [old_tool(t) for t in registry().values()]
    print(f"old tool list: {len(old_list)} functions, {tokens(old_list)} tokens, "
          f"{len(json.dumps(old_list))} characters")
    for mode in ("portable", "strict"):
        sizes = [tokens(offered(spec_tools(read_question(q)), mode, "core")[1])
                 for q in QUESTIONS]
        capped = tokens(offered(list(registry()), mode, "core")[1])
        every = tokens(offered([], mode, "all")[1])
        print(f"{mode}: default offering per request over {len(QUESTIONS)} questions: "
              f"median {statistics.median(sizes):.0f}, max {max(sizes)} tokens; wanting every "
              f"tool (the cap binds) {capped}; tools_offered=all {every}")
    old_total, old_per = three_step_question(old_brain_class())
    new_total, new_per = three_step_question(make_brain)
    print(f"3-step question, prompt tokens: old brain {old_total} {old_per}; new brain "
          f"{new_total} {new_per}; ratio {old_total / new_total:.1f}x")
    calls, home = two_passes()
    print(f"model calls over {len(QUESTIONS[:4])} questions, pass 1 vs pass 2 on one memory: "
          f"{calls[0]} -> {calls[1]} ({home})")


if __name__ == "__main__":
    main()
