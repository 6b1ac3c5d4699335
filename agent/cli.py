"""The ``climcopilot`` command.

Exit codes: 0 done, 1 failure (one-line reason on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any, NoReturn

from climcopilot.agent.brains.base import BrainError
from climcopilot.agent.config import (
    KEYS,
    SECRET,
    ConfigError,
    config_file,
    load_settings,
    resolved,
    set_value,
)
from climcopilot.agent.state import Action, AgentState
from climcopilot.evals.command import add_eval_arguments
from climcopilot.knowledge.memory import MemoryStoreError
from climcopilot.sandbox.isolation import SandboxPolicy, describe
from climcopilot.sandbox.observation import Observation
from climcopilot.tools.base import ToolError


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> Parser:
    p = Parser(prog="climcopilot", description="An agent copilot for climate science.")
    p.add_argument("--version", action="version", version=f"climcopilot {version('climcopilot')}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def sandbox_option(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--no-sandbox", action="store_true",
                         help="run the kernel without bubblewrap (limits and a scrubbed "
                              "environment only)")

    def brain_options(cmd: argparse.ArgumentParser) -> None:
        sandbox_option(cmd)
        cmd.add_argument("--brain", choices=["offline", "openai", "scripted"],
                         help="who decides the steps (default: openai if OPENAI_BASE_URL is "
                              "set, else offline)")
        cmd.add_argument("--script", type=Path, help="JSON list of decisions for --brain "
                                                     "scripted")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", nargs="?", help="the research question")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--resume", metavar="SESSION_ID", help="continue a stopped session")
    ask.add_argument("--feedback", choices=["good", "bad"],
                     help="with --resume: rate that session's answer (scores its skill)")
    brain_options(ask)

    chat = sub.add_parser("chat", help="a conversation in the terminal: questions share one "
                                       "session; /help inside lists the commands")
    chat.add_argument("--yes", action="store_true",
                      help="run every step without asking (no /approve for code that writes "
                           "files or runs long)")
    brain_options(chat)

    config = sub.add_parser("config", help="show or set the settings (config.toml under "
                                           "CLIMCOPILOT_HOME; environment variables win)")
    csub = config.add_subparsers(dest="config_command", required=True, parser_class=Parser)
    cshow = csub.add_parser("show", help="every key, its value and where it comes from")
    cshow.add_argument("--json", action="store_true")
    cset = csub.add_parser("set", help="write one key to the config file")
    cset.add_argument("key", choices=list(KEYS))
    cset.add_argument("value")

    tools = sub.add_parser("tools", help="list or run tools")
    tsub = tools.add_subparsers(dest="tools_command", required=True, parser_class=Parser)
    tlist = tsub.add_parser("list", help="list the tools")
    tlist.add_argument("--json", action="store_true")
    trun = tsub.add_parser("run", help="run one tool in a fresh sandboxed kernel")
    trun.add_argument("name")
    trun.add_argument("--args", default="{}", help="arguments as a JSON object")
    trun.add_argument("--json", action="store_true")
    sandbox_option(trun)
    tnew = tsub.add_parser("new", help="scaffold a plugin package with a tool and a test")
    tnew.add_argument("name", help="plugin name: lower case, becomes the tools' family")
    tnew.add_argument("--dir", type=Path, default=Path("."), help="where to create it")
    tcheck = tsub.add_parser("check", help="check a plugin against the contract")
    tcheck.add_argument("plugin", help="an installed plugin's name or a plugin folder")
    sandbox_option(tcheck)

    sandbox = sub.add_parser("sandbox", help="run code in a fresh sandboxed kernel")
    ssub = sandbox.add_subparsers(dest="sandbox_command", required=True, parser_class=Parser)
    sexec = ssub.add_parser("exec", help="run code cells one after another in one kernel")
    sexec.add_argument("file", nargs="?", type=Path, help="a Python file to run as one cell")
    sexec.add_argument("-c", "--code", action="append", default=[],
                       help="a cell of code (repeat for several cells)")
    sexec.add_argument("--timeout", type=float, default=600.0, help="seconds per cell")
    sexec.add_argument("--json", action="store_true", help="print the observations as JSON")
    sandbox_option(sexec)

    memory = sub.add_parser("memory", help="look into and manage what ClimCopilot remembers")
    msub = memory.add_subparsers(dest="memory_command", required=True, parser_class=Parser)
    mlist = msub.add_parser("list", help="list findings and skills")
    mlist.add_argument("--kind", choices=["finding", "skill"])
    msearch = msub.add_parser("search", help="records nearest a query (meaning + keywords)")
    msearch.add_argument("query")
    msearch.add_argument("--kind", choices=["finding", "skill"], default="finding")
    for name, what in [("show", "print one record as JSON"), ("forget", "remove one record")]:
        msub.add_parser(name, help=what).add_argument("record_id")
    msub.add_parser("export", help="write every record to a JSON file").add_argument(
        "file", type=Path)
    msub.add_parser("import", help="add the records of an export").add_argument(
        "file", type=Path)
    feedback = msub.add_parser("feedback", help="count a session's answer as good or bad for "
                                                "the skill it used")
    feedback.add_argument("session_id")
    feedback.add_argument("verdict", choices=["good", "bad"])
    for cmd in (mlist, msearch):
        cmd.add_argument("--json", action="store_true")

    evaluate = sub.add_parser("eval", help="run an evaluation suite and report pass rates")
    add_eval_arguments(evaluate)
    brain_options(evaluate)

    sub.add_parser("doctor", help="check the install: kernel, sandbox, memory, embedder, "
                                  "endpoint, GPU")

    export = sub.add_parser("export", help="write a session as a notebook")
    export.add_argument("session_id")
    export.add_argument("--to", type=Path, required=True, help="the .ipynb file to write")
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore")
    try:
        args = build_parser().parse_args(argv)
        handler = {"ask": cmd_ask, "chat": cmd_chat, "tools": cmd_tools, "sandbox": cmd_sandbox,
                   "doctor": cmd_doctor, "export": cmd_export, "config": cmd_config,
                   "memory": cmd_memory, "eval": cmd_eval}[args.command]
        return handler(args)
    except (UsageError, ConfigError) as exc:
        print(f"climcopilot: usage error: {exc}", file=sys.stderr)
        return 2
    except (BrainError, ToolError, MemoryStoreError) as exc:
        print(f"climcopilot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("climcopilot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        sys.stderr.close()
        return 0


def _session(args: argparse.Namespace, session_id: str | None = None,
             approve: str = "never") -> Any:
    from climcopilot.agent.session import Session, make_brain

    if args.script is not None and not args.script.is_file():
        raise UsageError(f"script file {args.script} does not exist")
    settings = load_settings(args.brain)
    return Session(settings, make_brain(settings, args.script), session_id, _policy(args),
                   approve)


def _policy(args: argparse.Namespace) -> SandboxPolicy:
    return SandboxPolicy.from_env(isolate=not args.no_sandbox)


def print_event(node: str, delta: dict[str, Any]) -> None:
    """Stream one graph update as a line or two of text."""
    if node == "plan" and delta.get("plan"):
        print("Plan:")
        for i, line in enumerate(delta["plan"], start=1):
            print(f"  {i}. {line}")
    elif node == "observe":
        for step in delta.get("steps", []):
            action = Action.model_validate(step["action"])
            obs = Observation.model_validate(step["observation"])
            mark = "FAILED" if not obs.ok else "CHECK FAILED" if obs.failed_checks() else "ok"
            print(f"[{mark}] {action.label()[:100]}\n       {obs.brief(300)}")
    elif node == "answer":
        print("\n" + delta["answer"])
    sys.stdout.flush()


def _report(state: AgentState, session_id: str, as_json: bool) -> int:
    status = state.get("status")
    if as_json:
        steps = [{"action": Action.model_validate(s["action"]).label(),
                  "ok": s["observation"]["ok"],
                  "summary": Observation.model_validate(s["observation"]).brief(300)}
                 for s in state.get("steps", [])]
        print(json.dumps({"status": status, "answer": state.get("answer", ""),
                          "reason": state.get("reason"), "values": state.get("values", {}),
                          "units": state.get("units", {}), "figures": state.get("figures", []),
                          "steps": steps, "session_id": session_id,
                          "finding_id": state.get("finding_id")}, indent=2))
    if status != "done":
        print(f"climcopilot: {status or 'failed'}: {state.get('reason', 'no answer')}",
              file=sys.stderr)
        return 1
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    if args.feedback is not None:
        if args.resume is None:
            raise UsageError("--feedback rates a finished session: add --resume SESSION_ID")
        print(rate_session(args.resume, args.feedback))
        return 0
    if args.resume is None and not (args.question or "").strip():
        raise UsageError("the question is empty; ask e.g. climcopilot ask \"What is the "
                         "correlation between SOI and Nino-3?\"")
    with _session(args, args.resume) as session:
        stream = None if args.json else print_event
        if stream is not None:
            print(describe(session.policy))
        if args.resume:
            state = session.resume(stream)
        else:
            state = session.ask(args.question, stream)
        return _report(state, session.id, args.json)


def cmd_chat(args: argparse.Namespace) -> int:
    from climcopilot.agent.chat import Chat

    approve = "never" if args.yes else load_settings().approve
    chat = Chat(lambda session_id: _session(args, session_id, approve),
                lambda session_id, verdict, state: rate_session(session_id, verdict, state))
    try:
        return chat.run()
    finally:
        chat.close()


def cmd_config(args: argparse.Namespace) -> int:
    if args.config_command == "set":
        print(f"{args.key} = {args.value!r} written to {set_value(args.key, args.value)}")
        return 0
    shown = {k: ("***" if k in SECRET and origin != "default" else v, origin)
             for k, (v, origin) in resolved().items()}
    if args.json:
        print(json.dumps({k: {"value": v, "from": o, "env": KEYS[k].env}
                          for k, (v, o) in shown.items()}, indent=2))
        return 0
    print(f"# {config_file()} (environment variables override it)")
    for key, (value, origin) in shown.items():
        print(f"{key:13s} = {json.dumps(value):28s} # {origin}; env {KEYS[key].env}")
    return 0


def cmd_tools(args: argparse.Namespace) -> int:
    from climcopilot.tools.registry import get_tool, registry

    if args.tools_command == "new":
        from climcopilot.tools.scaffold import new_plugin

        root = new_plugin(args.name, args.dir)
        print(f"created {root}\nnext: pip install -e {root} && climcopilot tools check "
              f"{args.name}")
        return 0
    if args.tools_command == "check":
        return check_plugin(args)
    if args.tools_command == "list":
        tools = registry().values()
        if args.json:
            print(json.dumps([{"name": t.name, "family": t.family, "description": t.description,
                               "parameters": t.input_model.model_json_schema(),
                               "card": t.card.model_dump() if t.card else None}
                              for t in tools], indent=2))
        else:
            for t in tools:
                print(f"{t.name:28s} {t.description.splitlines()[0] if t.description else ''}")
        return 0
    try:
        arguments = json.loads(args.args)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--args is not valid JSON: {exc}") from None
    if not isinstance(arguments, dict):
        raise UsageError("--args must be a JSON object, e.g. '{\"name\": \"soi\"}'")
    try:
        tool = get_tool(args.name)
        tool.validate(arguments)
    except ToolError as exc:
        raise UsageError(str(exc)) from None
    from climcopilot.agent.session import new_session_id
    from climcopilot.sandbox.kernel import KernelSession

    settings = load_settings()
    with KernelSession(settings.workspace(new_session_id()), policy=_policy(args)) as kernel:
        obs = kernel.call_tool(tool.name, arguments)
    if obs.error:
        raise ToolError(obs.error.removeprefix("ToolError: "))
    result = obs.result or {}
    if args.json:
        print(json.dumps({**result, "ok": obs.ok, "device": obs.device}, indent=2))
    else:
        print(result.get("summary", ""))
        table = result.get("table")
        if isinstance(table, str) and table.startswith("|"):  # a markdown table says it all
            print(table)
        else:
            for name, value in result.get("values", {}).items():
                print(f"  {name} = {value:.6g} {result.get('units', {}).get(name, '')}")
        for figure in result.get("figures", []):
            print(f"  figure: {figure}")
    return 0 if obs.ok else 1


def check_plugin(args: argparse.Namespace) -> int:
    """`tools check`: import, schemas, contract, and an example call of every tool in the
    sandbox; prints each problem and exits 1 if there is any."""
    from climcopilot.agent.session import new_session_id
    from climcopilot.sandbox.kernel import KernelSession
    from climcopilot.tools.contract import contract_problems, example_arguments
    from climcopilot.tools.contract import load as load_plugins
    from climcopilot.tools.plugins import installed_points

    points = installed_points(args.plugin)
    if not points:
        raise UsageError(f"no installed package or plugin folder {args.plugin!r} declares "
                         "climcopilot.tools or climcopilot.models entry points; pip install "
                         "it or give its folder")
    loaded = load_plugins(points)
    problems = list(loaded.problems)
    for tool in loaded.tools:
        problems += contract_problems(tool)
    runnable = [(t, example_arguments(t)) for t in loaded.tools]
    runnable = [(t, a) for t, a in runnable if a is not None]
    if runnable:
        with KernelSession(load_settings().workspace(new_session_id()),
                           policy=_policy(args)) as kernel:
            for tool, arguments in runnable:
                obs = kernel.call_tool(tool.name, arguments)
                if obs.error:
                    problems.append(f"{tool.name}: example call failed: {obs.error}")
                problems += [f"{tool.name}: example result fails its check {c}"
                             for c in obs.failed_checks()]
    for tool in loaded.tools:
        bad = any(p.startswith(tool.name) for p in problems)
        print(f"tool {tool.name}: {'see problems below' if bad else 'ok'}")
    for name in loaded.models:
        print(f"model {name}: ok")
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{len(loaded.tools)} tools, {len(problems)} problems")
    return 1 if problems else 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from climcopilot.agent.session import new_session_id
    from climcopilot.sandbox.kernel import KernelSession

    cells = list(args.code)
    if args.file is not None:
        try:
            cells.append(args.file.read_text())
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    if not cells:
        raise UsageError("give code with -c CODE (repeatable) or a file")
    workspace = load_settings().workspace(new_session_id())
    with KernelSession(workspace, timeout=args.timeout, policy=_policy(args)) as kernel:
        if not args.json:
            print(kernel.status, file=sys.stderr)
        observations = [kernel.execute(code) for code in cells]
    if args.json:
        print(json.dumps({"sandbox": kernel.status, "workspace": str(workspace),
                          "cells": [o.model_dump() for o in observations]}, indent=2))
    else:
        for obs in observations:
            sys.stdout.write(obs.stdout)
    for obs in observations:
        if obs.error:
            print(f"climcopilot: cell {obs.cell}: {obs.error}", file=sys.stderr)
    return 0 if all(o.ok for o in observations) else 1


def cmd_doctor(args: argparse.Namespace) -> int:
    from climcopilot.agent.doctor import run_checks

    essential_ok = True
    for check in run_checks(load_settings()):
        essential_ok &= check.ok or not check.essential
        print(f"{'ok  ' if check.ok else 'FAIL' if check.essential else 'warn'}  "
              f"{check.name:9s} {check.detail}")
    return 0 if essential_ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    from climcopilot.agent.session import export_session

    if args.to.suffix != ".ipynb":
        raise UsageError(f"--to {args.to} must end in .ipynb")
    path, cells = export_session(load_settings(), args.session_id, args.to)
    print(f"wrote {path} ({cells} code cells)")
    return 0


def cmd_memory(args: argparse.Namespace) -> int:
    from climcopilot.knowledge.memory import Memory

    settings = load_settings()
    memory = Memory(settings.home)
    command = args.memory_command
    if command in ("list", "search"):
        if command == "list":
            records = [r for r in memory.records.values() if args.kind in (None, r.kind)]
            rows = [(r, None) for r in records]
        else:
            rows = memory.search(args.query, k=10, kind=args.kind)
        if args.json:
            print(json.dumps([{**r.model_dump(), "score": s} for r, s in rows], indent=2))
        for r, score in [] if args.json else rows:
            print(r.summary() + ("" if score is None else f"  (score {score:.2f})"))
    elif command == "show":
        print(memory.get(args.record_id).model_dump_json(indent=2))
    elif command == "forget":
        memory.forget(args.record_id)
        print(f"forgot {args.record_id}")
    elif command == "export":
        print(f"exported {memory.export(args.file)} records to {args.file}")
    elif command == "import":
        print(f"imported {memory.import_(args.file)} records from {args.file}")
    else:
        print(rate_session(args.session_id, args.verdict, memory=memory))
    return 0


def rate_session(session_id: str, verdict: str, state: AgentState | None = None,
                 memory: Any = None) -> str:
    """Count a session's answer as good or bad for the skill it used; says what was done."""
    from climcopilot.agent.graph import reinforce_skill
    from climcopilot.agent.session import load_state
    from climcopilot.knowledge.memory import Memory

    settings = load_settings()
    state = state if state is not None else load_state(settings, session_id)
    key = (state.get("memo") or {}).get("skill_key")
    if not key:
        raise MemoryStoreError(f"session {session_id} used no skill to score")
    reinforce_skill(memory or Memory(settings.home), state, "feedback", success=verdict == "good")
    return f"counted a {verdict} answer for skill {key}"


def cmd_eval(args: argparse.Namespace) -> int:
    from climcopilot.evals.command import run_eval

    return run_eval(args, _policy(args))


if __name__ == "__main__":
    # Through the package's module, so that errors raised elsewhere as
    # climcopilot.agent.cli.UsageError are this run's UsageError too.
    from climcopilot.agent.cli import main as package_main

    sys.exit(package_main())
