"""``climcopilot memory list|search|show|forget|export|import|feedback``."""

from __future__ import annotations

import argparse
import json
import sys

from climcopilot.agent.config import load_settings


def run(args: argparse.Namespace) -> int:
    from climcopilot.knowledge.memory import Memory

    settings = load_settings()
    command = args.memory_command
    if command == "feedback":
        from climcopilot.agent.feedback import rate_session

        print(rate_session(settings, args.session_id, args.verdict))
        return 0
    memory = Memory(settings.home)
    problem = memory.integrity_summary()
    if problem is not None:  # bad journal lines, restored records: say so, then go on
        print(f"climcopilot: {problem}", file=sys.stderr)
    if command in ("list", "search"):
        if command == "list":
            rows = [(r, None) for r in memory.records.values()
                    if args.kind in (None, r.kind)]
        else:
            rows = memory.search(args.query, k=10, kind=args.kind)
        if args.json:
            print(json.dumps([{**r.model_dump(), "score": s} for r, s in rows], indent=2))
        else:
            for record, score in rows:
                print(record.summary() + ("" if score is None else f"  (score {score:.2f})"))
    elif command == "show":
        print(memory.get(args.record_id).model_dump_json(indent=2))
    elif command == "forget":
        memory.forget(args.record_id)
        print(f"forgot {args.record_id}")
    elif command == "export":
        print(f"exported {memory.export(args.file)} records to {args.file}")
    else:
        print(f"imported {memory.import_(args.file)} records from {args.file}")
    return 0
