"""Misbehaving models, scripted on a fake OpenAI-compatible server and driven through the real
``openai`` client, the real graph and the real sandboxed kernel: each case is a defect that
was measured on the openai brain, and each test fails if it comes back."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import SOI_NINO3, findings_in, soi_nino3_from_package_files
from fake_openai import Competent, FakeOpenAI, Reply, executed, values_line

from climcopilot.agent.brains.factory import make_brain
from climcopilot.agent.brains.offline.composer import plan_key
from climcopilot.agent.brains.openai.client import ChatClient
from climcopilot.agent.config import load_settings
from climcopilot.agent.errors import BrainError
from climcopilot.agent.events import TokenEvent
from climcopilot.agent.render import TextRenderer
from climcopilot.agent.session import Session
from climcopilot.agent.spec import read_question
from climcopilot.knowledge.memory import Memory
from climcopilot.knowledge.records import Finding

OPEN = "data__open_series"
LAG = "analysis__lag_correlation"
PLAN = {"content": f'1. {OPEN} {{"name": "soi"}}\n2. {OPEN} {{"name": "nino3"}}\n'
                   f'3. {LAG} {{"a": "soi", "b": "nino3"}}'}


def ask(server: FakeOpenAI, question: str, render: Any = None,
        **settings: Any) -> tuple[dict, list]:
    """One question through a session on the fake endpoint; (final state, events), the
    events also going to ``render``."""
    chosen = replace(load_settings("openai"), base_url=server.base_url, **settings)
    events: list = []

    def show(event: Any) -> None:
        events.append(event)
        if render is not None:
            render(event)

    with Session(chosen, make_brain(chosen)) as session:
        state = session.ask(question, show)
    return state, events


def tool_messages(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_every_call_is_honoured_and_reasoning_stays_out(home: Path) -> None:
    replies: list[Reply] = [
        {**PLAN, "content": "<think>Which series? secret-plan</think>" + PLAN["content"],
         "reasoning": "reasoning-of-the-plan"},
        # A call written as text is not the answer.
        {"content": f'<tool_call>{{"name": "{OPEN}", "arguments": {{"name": "soi"}}}}'
                    "</tool_call>"},
        # Two parallel calls with text beside them; an object as arguments, a functions.
        # prefix, and no call id on the second.
        {"content": "Opening both series.",
         "calls": [{"name": f"functions.{OPEN}", "arguments": {"name": "soi"}},
                   {"name": OPEN, "arguments": '{"name": "nino3"}', "id": None}]},
        {"tool": LAG, "arguments": '{"a": "soi", "b": '},  # malformed: not replayed
        {"tool": LAG, "arguments": '{"a": "soi", "b": "nino3", "max_lag": 6}'},
        {"content": "<think>the sign: secret-answer</think>SOI and Niño-3 are "
                    "anti-correlated: r = -0.666 at lag 0.", "reasoning": "more-reasoning"},
    ]
    with FakeOpenAI(replies) as server:
        state, events = ask(server, SOI_NINO3)
    requests = server.requests
    assert state["status"] == "done", state.get("reason")
    steps = state["steps"]
    assert [s.ok for s in steps] == [False, True, True, False, True]
    assert "not an answer" in steps[0].observation.error
    assert any("not an answer" in (m["content"] or "") for m in requests[2]["messages"]
               if m["role"] == "user")
    # Both parallel calls ran, each answered by its own tool message, the text kept.
    turn = next(m for m in requests[3]["messages"] if m.get("content") == "Opening both "
                                                                           "series.")
    ids = [c["id"] for c in turn["tool_calls"]]
    assert len(ids) == 2 and len(set(ids)) == 2
    answered = [m["tool_call_id"] for m in requests[3]["messages"] if m["role"] == "tool"]
    assert answered[-2:] == ids and "1596 monthly values" in tool_messages(requests[3])[-1]
    # Malformed arguments: told why, never replayed verbatim (every request parses).
    assert "not valid JSON" in tool_messages(requests[4])[-1]
    for request in requests:
        for message in request["messages"]:
            for call in message.get("tool_calls") or []:
                assert isinstance(json.loads(call["function"]["arguments"]), dict)
    # The number is the kernel's, independent of the fake's text.
    _, expected = soi_nino3_from_package_files()
    assert abs(state["evidence"].values["r"] - expected) < 1e-6
    # Reasoning is in the session's trace, never in the plan, the answer or memory.
    assert not any("secret" in line or "think" in line for line in state["plan"])
    assert "secret" not in state["answer"] and "<think>" not in state["answer"]
    memory = Memory(home)
    (finding,) = [r for r in memory.records.values() if isinstance(r, Finding)
                  and r.question == SOI_NINO3]
    assert "secret" not in finding.claim
    trace = (home / "sessions" / state["session_id"] / "reasoning.jsonl").read_text()
    assert all(word in trace for word in ("secret-plan", "reasoning-of-the-plan",
                                          "secret-answer", "more-reasoning"))
    # The answer streamed in pieces, without its think block.
    streamed = [e for e in events if isinstance(e, TokenEvent)]
    last = max(i for i, e in enumerate(streamed) if e.start)
    text = "".join(e.text for e in streamed[last:])
    assert len(streamed[last:]) > 3 and "secret" not in text
    assert state["answer"].startswith(text.strip())


def test_made_up_numbers_are_unverified_and_never_remembered(home: Path) -> None:
    fails = [{"tool": OPEN, "arguments": json.dumps({"name": f"nope_{i}"})} for i in range(6)]
    replies = [PLAN, *fails, {"tool": "data__list_series", "arguments": "{}"},
               {"content": "r about -0.67"}]
    with FakeOpenAI(replies) as server:
        state, _ = ask(server, SOI_NINO3)
    assert state["evidence"].verified is False and state["evidence"].invented == ["-0.67"]
    assert "**unverified**" in state["answer"] and state.get("finding_id") is None
    assert findings_in(home) == 0
    # The model saw the series keys with units (and their periods in the catalog).
    listed = tool_messages(server.requests[-1])[-1]
    rows = {line.split(" | ")[0]: line.split(" | ")
            for line in listed.split("series: ", 1)[1].splitlines()}
    assert rows["key"][:3] == ["key", "long_name", "units"] and "[... cut" not in listed
    assert rows["nino3"][2] == "degC" and {"soi", "sunspots", "gisp2_d18o"} <= set(rows)
    catalog = server.requests[0]["messages"][0]["content"]
    assert "soi (Southern Oscillation Index; 1; monthly 1951-2019)" in catalog
    # An answer with no step at all is not verified either; nothing is recalled from before.
    with FakeOpenAI([PLAN, {"content": "The correlation is r = -0.67."}]) as server:
        state, _ = ask(server, SOI_NINO3)
    assert state["steps"] == [] and state["evidence"].verified is False
    assert state["evidence"].invented == ["-0.67"] and findings_in(home) == 0
    assert "-0.67" not in server.requests[1]["messages"][0]["content"]


def test_repeated_calls_are_refused_and_the_budget_ends_with_what_was_found(home: Path
                                                                            ) -> None:
    def repeater(body: dict) -> Reply:
        if body.get("tools"):
            return {"tool": OPEN, "arguments": '{"name": "soi"}'}
        if "step budget is spent" in body["messages"][-1]["content"]:
            return {"content": "Only the SOI was opened: 828 monthly values."}
        return {"content": "1. open the SOI"}

    with FakeOpenAI(policy=repeater) as server:
        state, _ = ask(server, "How many monthly values does the SOI have?", step_budget=3)
    assert state["status"] == "partial" and "step budget of 3" in state["reason"]
    assert all(s.observation.error.startswith("repeated:") for s in state["steps"][1:])
    last = server.requests[-1]
    assert "tools" not in last and "3 of 3 steps used" in tool_messages(last)[-1]
    assert state["answer"].startswith("Only the SOI was opened: 828 monthly values.")


def test_a_replan_shows_the_model_what_failed(home: Path) -> None:
    nope = {"tool": OPEN, "arguments": '{"name": "nope"}'}
    replies = [{"content": f'1. {OPEN} {{"name": "nope"}}'}, nope, nope,
               {"content": f'1. {OPEN} {{"name": "soi"}}'},
               {"tool": OPEN, "arguments": '{"name": "soi"}'},
               {"content": "The SOI has 828 monthly values."}]
    with FakeOpenAI(replies) as server:
        state, _ = ask(server, "How many monthly values does the SOI have?")
    assert state["status"] == "done" and state["replans"] == 1
    first, again = server.requests[0], server.requests[3]
    assert "tools" not in again and again["messages"] != first["messages"]
    shown = json.dumps(again["messages"])
    assert "failed twice" in shown and "nope" in shown and "new plan" in shown


@pytest.mark.parametrize("reply, why", [
    ({"content": "", "finish_reason": "length"}, "cut off at its token limit"),
    ({"content": "<think>only thinking, no answer</think>"}, "empty answer (it only reasoned)"),
])
def test_a_cut_off_or_empty_answer_is_a_failure(home: Path, reply: Reply, why: str) -> None:
    with FakeOpenAI([PLAN, reply]) as server:
        state, _ = ask(server, SOI_NINO3)
    assert state["status"] == "failed" and why in state["reason"]
    assert findings_in(home) == 0


def test_timeouts_and_bodies_that_are_not_json_are_one_line(home: Path) -> None:
    question = [{"role": "user", "content": "hi"}]
    with FakeOpenAI([{"delay": 2.5, "content": "late"}]) as server:
        settings = replace(load_settings("openai"), base_url=server.base_url,
                           llm_timeout_s=1.0, llm_retries=0)
        with pytest.raises(BrainError) as slow:
            ChatClient(settings).complete(question)
    assert str(slow.value).startswith("the model did not answer within 1 s (1 try)")
    assert "cannot reach" not in str(slow.value)
    page = {"body": "<html><body>Welcome to nginx!</body></html>"}
    for stream in ("on", "off"):
        with FakeOpenAI([page]) as server:
            settings = replace(load_settings("openai"), base_url=server.base_url,
                               llm_stream=stream)
            with pytest.raises(BrainError, match="not JSON .'<html><body>Welcome") as page_:
                ChatClient(settings).complete(question)
            assert "\n" not in str(page_.value)
    with FakeOpenAI([page]) as server:  # through the graph: a failure with that one line
        state, _ = ask(server, SOI_NINO3)
    assert state["status"] == "failed" and "not JSON" in state["reason"]


def test_strict_schemas_end_to_end(home: Path) -> None:
    def strict_model(body: dict) -> Reply:
        if not body.get("tools"):
            return {"content": '1. da__twin_experiment {"method": "etkf"}'}
        if executed(body):
            return {"content": f"The ETKF gives {values_line(executed(body)[0][1])}."}
        (twin,) = [t["function"] for t in body["tools"]
                   if t["function"]["name"] == "da__twin_experiment"]
        assert twin["strict"] is True
        sent = {name: None for name in twin["parameters"]["properties"]}
        sent.update(system="lorenz96", method="etkf", N=20, Ko=200, infl=1.02,
                    system_params=[{"name": "F", "value": 8.0}])
        return {"tool": "da__twin_experiment", "arguments": json.dumps(sent)}

    with FakeOpenAI(policy=strict_model) as server:
        state, _ = ask(server, "What is the analysis RMSE of the ETKF with 20 members and "
                               "inflation 1.02 on Lorenz-96?", tool_schema="strict")
    assert state["status"] == "done", state.get("reason")
    (step,) = state["steps"]
    assert step.ok and step.action.arguments["system_params"] == {"F": 8.0}
    assert "dko" not in step.action.arguments  # null: the tool's default applies
    assert 0 < state["evidence"].values["rmse_a"] < 1


def test_observations_carry_every_result_tables_and_a_cut_marker(home: Path) -> None:
    two = ("a = tools.data.open_series(name='soi')\nb = tools.data.open_series(name='nino3')\n"
           "print(a.values['n'] + b.values['n'])")
    replies = [{"content": "1. run_python"},
               {"tool": "run_python", "arguments": json.dumps({"code": two})},
               {"tool": "run_python", "arguments": json.dumps({"code": "print('x' * 30000)"})},
               {"tool": "causal__benchmark", "arguments": json.dumps(
                   {"systems": ["linear_var"], "methods": ["granger_var"], "T": 300,
                    "n_realizations": 1})},
               {"content": "The SOI has 828 monthly values and Niño-3 1596."}]
    with FakeOpenAI(replies) as server:
        state, _ = ask(server, "How many monthly values do the SOI and Niño-3 have?")
    both, cut, table = tool_messages(server.requests[-1])
    assert "2424" in both and "as 'soi'" in both and "as 'nino3'" in both
    assert "[... cut:" in cut and "full output is in" in cut and len(cut) < 3500
    assert "rows:" in table and "linear_var" in table and "granger_var" in table
    assert state["steps"][2].ok


def test_memory_answers_again_and_skills_come_back_as_worked_examples(home: Path) -> None:
    similar = "What is the correlation between the Niño-3.4 SST anomaly and All-India rainfall?"
    with FakeOpenAI(policy=Competent()) as server:
        first, _ = ask(server, SOI_NINO3)
        calls_first = len(server.requests)
        again, _ = ask(server, SOI_NINO3)
        calls_again = len(server.requests) - calls_first
        other, _ = ask(server, similar)
    assert first["status"] == again["status"] == other["status"] == "done"
    assert calls_first == 5 and calls_again == 0  # the verified finding answers again
    assert again["answer"].startswith(first["answer"].split("\n\n")[0])
    (skill,) = [r for r in Memory(home).records.values() if r.kind == "skill"]
    assert skill.plan["steps"][0] == {"tool": "data.open_series",
                                      "arguments": {"name": "<series A>"}}
    system = server.requests[calls_first]["messages"][0]["content"]
    example = system[system.index("Worked example"):]
    assert f"skill {skill.id}" in example and '{"name": "nino34"}' in example
    assert '{"name": "air"}' in example
    # Its tools were offered up front: no find_tools round was needed.
    assert not any(m["role"] == "tool" and "Offered now" in m["content"]
                   for r in server.requests for m in r["messages"])


def test_a_contradiction_with_memory_is_named(home: Path) -> None:
    question = "What is the correlation between the SOI and the Niño-3.4 SST anomaly?"
    Memory(home).add(Finding(question="zq wx", claim="zq", values={"r": 0.5},
                             key=plan_key(read_question(question))))
    with FakeOpenAI(policy=Competent()) as server:
        state, _ = ask(server, question)
    assert state["status"] == "done"
    assert "**Check this**" in state["answer"] and "r: 0.5 before" in state["answer"]


def test_ask_streams_the_answer_once_and_shows_steps_as_they_start(home: Path) -> None:
    answer = "SOI and Niño-3 are anti-correlated: r = -0.666 at lag 0."
    replies = [PLAN, {"calls": [{"name": OPEN, "arguments": '{"name": "soi"}'},
                                {"name": OPEN, "arguments": '{"name": "nino3"}'}]},
               {"tool": LAG, "arguments": '{"a": "soi", "b": "nino3", "max_lag": 6}'},
               {"content": answer}]
    out = io.StringIO()
    with FakeOpenAI(replies) as server:
        state, events = ask(server, SOI_NINO3, TextRenderer(out))
    assert state["status"] == "done", state.get("reason")
    assert all(r.get("stream") for r in server.requests)
    shown = out.getvalue()
    assert shown.count(answer) == 1 and shown.count("**Provenance**") == 1
    assert "[step 2] data.open_series" in shown
    # The answer came as tokens before the end: pieces of it precede the AnswerEvent.
    tokens = [i for i, e in enumerate(events) if isinstance(e, TokenEvent)]
    assert len(tokens) > 3 and tokens[-1] < len(events) - 1


def test_a_three_step_question_costs_a_quarter_of_the_old_prompt_tokens(home: Path) -> None:
    bpe = pytest.importorskip("bpe_openai", reason="the tokenizer is a dev extra")
    encoding = bpe.get_encoding("o200k_base")
    replies = [PLAN, {"tool": OPEN, "arguments": '{"name": "soi"}'},
               {"tool": OPEN, "arguments": '{"name": "nino3"}'},
               {"tool": LAG, "arguments": '{"a": "soi", "b": "nino3", "max_lag": 6}'},
               {"content": "SOI and Niño-3 are anti-correlated: r = -0.666."}]
    with FakeOpenAI(replies) as server:
        state, _ = ask(server, SOI_NINO3)
    assert state["status"] == "done" and len(server.requests) == 5
    sent = sum(len(encoding.encode(json.dumps(r["messages"])))
               + len(encoding.encode(json.dumps(r.get("tools", [])))) for r in server.requests)
    assert sent <= 82_000 / 4  # the issue measured 82k prompt tokens for this question
