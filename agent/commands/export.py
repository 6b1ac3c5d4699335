"""``climcopilot export SESSION --to FILE.ipynb``: a session as a notebook that re-runs."""

from __future__ import annotations

import argparse

from climcopilot.agent.config import load_settings
from climcopilot.agent.errors import UsageError


def run(args: argparse.Namespace) -> int:
    from climcopilot.agent.export import export_session

    if args.to.suffix != ".ipynb":
        raise UsageError(f"--to {args.to} must end in .ipynb")
    settings = load_settings()
    path, cells = export_session(settings.checkpoints, args.session_id, args.to,
                                 settings.workspace(args.session_id))
    print(f"wrote {path} ({cells} code cells)")
    return 0
