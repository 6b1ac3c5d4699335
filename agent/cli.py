"""The ``climcopilot`` command: the parser and the dispatch to :mod:`climcopilot.agent.commands`.

Exit codes: 0 done, 1 failure (one-line reason on stderr), 2 usage error. Only this module and
the light exception modules load at start, so ``--version`` and ``--help`` answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from climcopilot.agent.config import KEYS, ConfigError
from climcopilot.agent.errors import BrainError, UsageError
from climcopilot.evals.errors import EvalError
from climcopilot.knowledge.errors import MemoryStoreError
from climcopilot.sandbox.errors import SandboxError
from climcopilot.tools.errors import ToolError

ONE_LINE_ERRORS = (BrainError, ToolError, MemoryStoreError, SandboxError, EvalError)
"""Failures whose message is the whole story: printed as one line, exit code 1."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def at_least(kind: type, least: float, what: str) -> Callable[[str], float]:
    """An argparse type: ``kind(text)`` that is at least ``least`` (else a one-line error)."""
    def convert(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}") from None
        if not value >= least:
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}")
        return value
    return convert


def eval_suite(text: str) -> Path:
    """An argparse type: the suite folder ``--suite`` names."""
    from climcopilot.evals.evaluation import suite_folder

    try:
        return suite_folder(text)
    except EvalError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def saved_report(text: str) -> dict[str, Any]:
    """An argparse type: a saved eval report, read."""
    from climcopilot.evals.evaluation import read_report

    try:
        return read_report(Path(text))
    except EvalError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


SECONDS = at_least(float, 1e-3, "must be a positive number of seconds")
COUNT = at_least(int, 1, "must be a whole number >= 1")
PRICE = at_least(float, 0.0, "must be a price >= 0 (USD per 1000 tokens)")


def _sandbox_option(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--no-sandbox", action="store_true",
                     help="run the kernel without bubblewrap (limits and a scrubbed "
                          "environment only)")


def _brain_options(cmd: argparse.ArgumentParser) -> None:
    _sandbox_option(cmd)
    cmd.add_argument("--brain", choices=["offline", "openai", "scripted"],
                     help="who decides the steps (default: openai if OPENAI_BASE_URL is set, "
                          "else offline)")
    cmd.add_argument("--script", type=Path, help="JSON list of decisions for --brain scripted")


def _eval_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--suite", default="core", type=eval_suite,
                     help="a bundled suite (core, dev, dev_refusals, atmossci) or a folder "
                          "of task files")
    cmd.add_argument("--task", action="append", default=[], help="only this task id")
    cmd.add_argument("--smoke", action="store_true",
                     help="only the CI-sized subset: tasks with smoke = true")
    cmd.add_argument("--memory", choices=["fresh", "keep", "off"], default="fresh")
    cmd.add_argument("--repeat", type=COUNT, default=1, help="passes over the suite")
    cmd.add_argument("--timeout", type=SECONDS, default=300.0, metavar="SECONDS",
                     help="per-task limit; a task file's timeout_s replaces it (default 300)")
    cmd.add_argument("--parallel", type=COUNT, default=1, metavar="N",
                     help="run N tasks at a time on a local Dask cluster (default 1)")
    cmd.add_argument("--scheduler", metavar="ADDRESS",
                     help="run the tasks on the Dask cluster at this scheduler address")
    cmd.add_argument("--model", help="model name sent to the endpoint (overrides the config)")
    cmd.add_argument("--price-in", type=PRICE, metavar="USD",
                     help="price per 1000 prompt tokens, for the cost")
    cmd.add_argument("--price-out", type=PRICE, metavar="USD",
                     help="price per 1000 completion tokens, for the cost")
    cmd.add_argument("--out", type=Path,
                     help="folder for report.md, report.json and the plots (PNG)")
    cmd.add_argument("--json", action="store_true", help="print the JSON report")
    cmd.add_argument("--compare", nargs=2, type=saved_report, metavar=("A.json", "B.json"),
                     help="compare two saved reports instead of running")


def build_parser() -> Parser:
    p = Parser(prog="climcopilot", description="An agent copilot for climate science.")
    p.add_argument("--version", action="version", version=f"climcopilot {version('climcopilot')}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", nargs="?", help="the research question")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--resume", metavar="SESSION_ID", help="continue a stopped session")
    ask.add_argument("--feedback", choices=["good", "bad"],
                     help="with --resume: rate that session's answer (scores its skill)")
    _brain_options(ask)

    chat = sub.add_parser("chat", help="a conversation in the terminal: questions share one "
                                       "session; /help inside lists the commands")
    chat.add_argument("--yes", action="store_true",
                      help="run every step without asking (no /approve for code that writes "
                           "files or runs long)")
    _brain_options(chat)

    config = sub.add_parser("config", help="show or set the settings (config.toml under "
                                           "CLIMCOPILOT_HOME; environment variables win)")
    csub = config.add_subparsers(dest="config_command", required=True, parser_class=Parser)
    csub.add_parser("show", help="every key, its value and where it comes from").add_argument(
        "--json", action="store_true")
    cset = csub.add_parser("set", help="write one key to the config file")
    cset.add_argument("key", choices=list(KEYS))
    cset.add_argument("value")

    tools = sub.add_parser("tools", help="list or run tools")
    tsub = tools.add_subparsers(dest="tools_command", required=True, parser_class=Parser)
    tsub.add_parser("list", help="list the tools").add_argument("--json", action="store_true")
    trun = tsub.add_parser("run", help="run one tool in a fresh sandboxed kernel")
    trun.add_argument("name")
    trun.add_argument("--args", default="{}", help="arguments as a JSON object")
    trun.add_argument("--timeout", type=SECONDS, default=600.0, metavar="SECONDS",
                      help="stop the tool after this many seconds (default 600)")
    trun.add_argument("--json", action="store_true")
    _sandbox_option(trun)
    tnew = tsub.add_parser("new", help="scaffold a plugin package with a tool and a test")
    tnew.add_argument("name", help="plugin name: lower case, becomes the tools' family")
    tnew.add_argument("--dir", type=Path, default=Path("."), help="where to create it")
    tcheck = tsub.add_parser("check", help="check a plugin against the contract")
    tcheck.add_argument("plugin", help="an installed plugin's name or a plugin folder")
    _sandbox_option(tcheck)

    sandbox = sub.add_parser("sandbox", help="run code in a fresh sandboxed kernel")
    ssub = sandbox.add_subparsers(dest="sandbox_command", required=True, parser_class=Parser)
    sexec = ssub.add_parser("exec", help="run code cells one after another in one kernel")
    sexec.add_argument("file", nargs="?", type=Path, help="a Python file to run as one cell")
    sexec.add_argument("-c", "--code", action="append", default=[],
                       help="a cell of code (repeat for several cells)")
    sexec.add_argument("--timeout", type=SECONDS, default=600.0, help="seconds per cell")
    sexec.add_argument("--json", action="store_true", help="print the observations as JSON")
    _sandbox_option(sexec)

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
    _eval_options(evaluate)
    _brain_options(evaluate)

    sub.add_parser("doctor", help="check the install: kernel, sandbox, memory, embedder, "
                                  "endpoint, GPU")

    mcp = sub.add_parser("mcp", help="serve the tools, a sandboxed kernel per session and the "
                                     "memory to MCP clients (stdio; see docs/mcp.md)")
    mcp.add_argument("--http", metavar="HOST:PORT",
                     help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio (a "
                          "non-loopback HOST needs a token)")
    mcp.add_argument("--token", help="bearer token every HTTP request must carry (better: "
                                     "CLIMCOPILOT_MCP_TOKEN, which ps does not show)")
    _sandbox_option(mcp)

    export = sub.add_parser("export", help="write a session as a notebook")
    export.add_argument("session_id")
    export.add_argument("--to", type=Path, required=True, help="the .ipynb file to write")
    return p


def command_module(name: str) -> ModuleType:
    """The module of :mod:`climcopilot.agent.commands` that runs command ``name``
    (``run(args) -> exit code``), imported only when that command runs."""
    if name in ("ask", "chat"):
        from climcopilot.agent.commands import questions as module
    elif name == "config":
        from climcopilot.agent.commands import settings as module
    elif name == "tools":
        from climcopilot.agent.commands import tools as module
    elif name == "sandbox":
        from climcopilot.agent.commands import sandbox as module
    elif name == "memory":
        from climcopilot.agent.commands import memory as module
    elif name == "eval":
        from climcopilot.agent.commands import evaluation as module
    elif name == "doctor":
        from climcopilot.agent.commands import doctor as module
    elif name == "mcp":
        from climcopilot.agent.commands import mcp as module
    else:
        from climcopilot.agent.commands import export as module
    return module


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore")
    try:
        args = build_parser().parse_args(argv)
        return command_module(args.command).run(args)
    except (UsageError, ConfigError) as exc:
        print(f"climcopilot: usage error: {exc}", file=sys.stderr)
        return 2
    except ONE_LINE_ERRORS as exc:
        print(f"climcopilot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("climcopilot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
