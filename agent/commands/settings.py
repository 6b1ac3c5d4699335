"""``climcopilot config show|set``: every setting, its value and where it comes from."""

from __future__ import annotations

import argparse
import json

from climcopilot.agent.config import KEYS, SECRET, config_file, resolved, set_value


def run(args: argparse.Namespace) -> int:
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
