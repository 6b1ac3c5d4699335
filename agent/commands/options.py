"""What commands build from their shared options: the sandbox policy and a session."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from climcopilot.agent.config import load_settings
from climcopilot.agent.errors import UsageError
from climcopilot.sandbox.isolation import SandboxPolicy

if TYPE_CHECKING:
    from climcopilot.agent.approval import ApprovalPolicy
    from climcopilot.agent.session import Session


def sandbox_policy(args: argparse.Namespace) -> SandboxPolicy:
    """The sandbox from the environment, without bubblewrap when ``--no-sandbox`` is given."""
    return SandboxPolicy.from_env(isolate=not args.no_sandbox)


def open_session(args: argparse.Namespace, session_id: str | None = None,
                 approval: ApprovalPolicy | None = None) -> Session:
    """A session with the brain and sandbox the options ask for (a new one, or
    ``session_id``)."""
    from climcopilot.agent.brains.factory import make_brain
    from climcopilot.agent.session import Session

    if args.script is not None and not args.script.is_file():
        raise UsageError(f"script file {args.script} does not exist")
    settings = load_settings(args.brain)
    return Session(settings, make_brain(settings, args.script), session_id,
                   sandbox_policy(args), approval)
