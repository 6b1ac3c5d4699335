"""``climcopilot tools list|run|new|check``: the tool library from the command line."""

from __future__ import annotations

import argparse
import json

from climcopilot.agent.commands.options import sandbox_policy
from climcopilot.agent.config import load_settings, new_session_id
from climcopilot.agent.errors import UsageError
from climcopilot.tools.errors import ToolError


def list_tools(as_json: bool) -> int:
    """The built-in tools from the manifest (none of them imported), then the plugins'."""
    from climcopilot.tools.registry import listing

    listed = listing()
    if as_json:
        print(json.dumps([{"name": t.name, "family": t.family, "description": t.description,
                           "parameters": t.parameters, "card": t.card, "approval": t.approval}
                          for t in listed], indent=2))
    else:
        for t in listed:
            print(f"{t.name:28s} {t.first_line()}")
    return 0


def _print_result(result: dict) -> None:
    print(result.get("summary", ""))
    table = result.get("table")
    if isinstance(table, str) and table.startswith("|"):  # a markdown table says it all
        print(table)
    else:
        for name, value in result.get("values", {}).items():
            print(f"  {name} = {value:.6g} {result.get('units', {}).get(name, '')}")
    for figure in result.get("figures", []):
        print(f"  figure: {figure}")


def run_tool(args: argparse.Namespace) -> int:
    """Check the name and the argument names here (no tool imported), then run the tool in a
    fresh sandboxed kernel, where its input model checks the values."""
    from climcopilot.agent.executor import checked_name
    from climcopilot.sandbox.kernel import KernelSession

    try:
        arguments = json.loads(args.args)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--args is not valid JSON: {exc}") from None
    if not isinstance(arguments, dict):
        raise UsageError("--args must be a JSON object, e.g. '{\"name\": \"soi\"}'")
    try:
        name = checked_name(args.name, arguments)
    except ToolError as exc:
        raise UsageError(str(exc)) from None
    workspace = load_settings().workspace(new_session_id())
    with KernelSession(workspace, timeout=args.timeout, policy=sandbox_policy(args)) as kernel:
        obs = kernel.call_tool(name, arguments)
    if obs.error:
        message = obs.error.removeprefix("ToolError: ")
        if message.startswith("invalid arguments for"):
            raise UsageError(message)
        raise ToolError(message)
    result = obs.result or {}
    if args.json:
        print(json.dumps({**result, "ok": obs.ok, "device": obs.device}, indent=2))
    else:
        _print_result(result)
    return 0 if obs.ok else 1


def check_plugin(args: argparse.Namespace) -> int:
    """Import, schemas, contract, and an example call of every tool in the sandbox; prints
    each problem and exits 1 if there is any."""
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
                           policy=sandbox_policy(args)) as kernel:
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


def new_plugin(args: argparse.Namespace) -> int:
    from climcopilot.tools.scaffold import new_plugin as scaffold

    root = scaffold(args.name, args.dir)
    print(f"created {root}\nnext: pip install -e {root} && climcopilot tools check {args.name}")
    return 0


def run(args: argparse.Namespace) -> int:
    command = args.tools_command
    if command == "list":
        return list_tools(args.json)
    if command == "new":
        return new_plugin(args)
    if command == "check":
        return check_plugin(args)
    return run_tool(args)
