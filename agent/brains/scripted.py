"""The scripted brain: replays a fixed list of decisions, for tests and demos.

A script is a JSON list; each item is ``{"tool": NAME, "arguments": {...}}``,
``{"code": "..."}`` or ``{"answer": "..."}`` (the last one ends the run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from climcopilot.agent.brains.base import Brain
from climcopilot.agent.errors import BrainError
from climcopilot.agent.state import AgentState
from climcopilot.agent.steps import Action, Decision, Finish


class ScriptedBrain(Brain):
    name = "scripted"

    def __init__(self, script: list[dict[str, Any]]) -> None:
        for item in script:
            if not {"tool", "code", "answer"} & item.keys():
                raise BrainError(f"script item {item} has none of 'tool', 'code', 'answer'")
        self.script = script

    @classmethod
    def from_file(cls, path: Path) -> ScriptedBrain:
        try:
            script = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise BrainError(f"cannot read script {path}: {exc}") from None
        if not isinstance(script, list):
            raise BrainError(f"script {path} must be a JSON list of decisions")
        return cls(script)

    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        lines = [item.get("tool") or ("code" if "code" in item else "answer")
                 for item in self.script]
        return [f"scripted step: {line}" for line in lines], {}

    def decide(self, state: AgentState) -> Decision:
        position = len(state.get("steps", []))
        if position >= len(self.script):
            return Finish()
        item = self.script[position]
        if "answer" in item:
            return Finish(answer=item["answer"])
        if "code" in item:
            return Action(kind="code", code=item["code"])
        return Action(kind="tool", tool=item["tool"], arguments=item.get("arguments", {}))
