"""``climcopilot doctor``: one line per check of the install; exit 1 if an essential fails."""

from __future__ import annotations

import argparse

from climcopilot.agent.config import load_settings


def run(args: argparse.Namespace) -> int:
    from climcopilot.agent.doctor import run_checks

    essential_ok = True
    for check in run_checks(load_settings()):
        essential_ok &= check.ok or not check.essential
        print(f"{'ok  ' if check.ok else 'FAIL' if check.essential else 'warn'}  "
              f"{check.name:9s} {check.detail}")
    return 0 if essential_ok else 1
