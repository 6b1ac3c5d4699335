"""``climcopilot sandbox exec``: cells run one after another in a fresh sandboxed kernel."""

from __future__ import annotations

import argparse
import json
import sys

from climcopilot.agent.commands.options import sandbox_policy
from climcopilot.agent.config import load_settings, new_session_id
from climcopilot.agent.errors import UsageError


def run(args: argparse.Namespace) -> int:
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
    with KernelSession(workspace, timeout=args.timeout, policy=sandbox_policy(args)) as kernel:
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
