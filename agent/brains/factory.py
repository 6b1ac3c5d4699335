"""The brain a setting names: offline, openai or scripted (imported only when chosen)."""

from __future__ import annotations

from pathlib import Path

from climcopilot.agent.brains.base import Brain
from climcopilot.agent.config import Settings
from climcopilot.agent.errors import BrainError


def make_brain(settings: Settings, script: Path | None = None) -> Brain:
    """The brain named in ``settings.brain`` (``script``: the scripted brain's decisions)."""
    if settings.brain == "offline":
        from climcopilot.agent.brains.offline import OfflineBrain

        return OfflineBrain()
    if settings.brain == "openai":
        from climcopilot.agent.brains.openai import OpenAIBrain

        return OpenAIBrain(settings)
    if settings.brain == "scripted":
        from climcopilot.agent.brains.scripted import ScriptedBrain

        if script is None:
            raise BrainError("the scripted brain needs --script FILE (a JSON list of steps)")
        return ScriptedBrain.from_file(script)
    raise BrainError(f"unknown brain {settings.brain!r}; use offline, openai or scripted")
