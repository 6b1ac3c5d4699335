"""``climcopilot ask`` (one question, streamed or as JSON) and ``climcopilot chat``."""

from __future__ import annotations

import argparse
import json
import sys

from climcopilot.agent.approval import ApprovalPolicy
from climcopilot.agent.commands.options import open_session
from climcopilot.agent.config import load_settings
from climcopilot.agent.errors import UsageError
from climcopilot.agent.events import ignore
from climcopilot.agent.feedback import rate_session
from climcopilot.agent.outcome import Outcome, outcome_of
from climcopilot.agent.render import TextRenderer
from climcopilot.sandbox.isolation import describe


def report(outcome: Outcome, as_json: bool) -> int:
    """Print the outcome (JSON with ``as_json``), its reason on stderr unless done; the exit
    code."""
    if as_json:
        shown = outcome.model_dump(include={"status", "reason", "values", "units", "figures",
                                            "session_id", "finding_id", "verified", "spec",
                                            "not_applied"})
        shown["answer"] = outcome.text
        shown["steps"] = [{"action": s.action, "ok": s.ok, "summary": s.summary}
                          for s in outcome.steps]
        print(json.dumps(shown, indent=2))
    if outcome.status != "done":
        print(f"climcopilot: {outcome.status}: {outcome.reason or 'no answer'}",
              file=sys.stderr)
        return 1
    return 0


def ask(args: argparse.Namespace) -> int:
    if args.feedback is not None:
        if args.resume is None:
            raise UsageError("--feedback rates a finished session: add --resume SESSION_ID")
        print(rate_session(load_settings(), args.resume, args.feedback))
        return 0
    if args.resume is None and not (args.question or "").strip():
        raise UsageError("the question is empty; ask e.g. climcopilot ask \"What is the "
                         "correlation between SOI and Nino-3?\"")
    with open_session(args, args.resume) as session:
        render = ignore if args.json else TextRenderer()
        if not args.json:
            print(describe(session.policy))
        state = session.resume(render) if args.resume else session.ask(args.question, render)
        return report(outcome_of(state), args.json)


def chat(args: argparse.Namespace) -> int:
    from climcopilot.agent.chat import Chat

    settings = load_settings(args.brain)
    approval = ApprovalPolicy("never" if args.yes else settings.approve)
    conversation = Chat(lambda session_id: open_session(args, session_id, approval),
                        lambda session_id, verdict, state: rate_session(
                            settings, session_id, verdict, state))
    try:
        return conversation.run()
    finally:
        conversation.close()


def run(args: argparse.Namespace) -> int:
    return chat(args) if args.command == "chat" else ask(args)
