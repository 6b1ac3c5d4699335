"""Settings from the environment: where ClimCopilot keeps its files and which LLM it talks to.

| variable | meaning | default |
| --- | --- | --- |
| ``CLIMCOPILOT_HOME`` | memory store, sessions, checkpoints | ``~/.climcopilot`` |
| ``OPENAI_BASE_URL`` | any OpenAI-compatible endpoint | unset: the offline brain |
| ``OPENAI_API_KEY`` | key for that endpoint | ``not-needed`` for local servers |
| ``CLIMCOPILOT_MODEL`` | model name sent to the endpoint | ``gpt-4o-mini`` |
| ``CLIMCOPILOT_BRAIN`` | ``offline``, ``openai``, ``scripted`` | ``openai`` if endpoint set |
| ``CLIMCOPILOT_STEP_BUDGET`` | most actions per question | ``12`` |
| ``CLIMCOPILOT_LLM_RETRIES`` | retries (with backoff) of a failed LLM request | ``2`` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    brain: str
    base_url: str | None
    api_key: str
    model: str
    step_budget: int
    llm_retries: int

    @property
    def checkpoints(self) -> Path:
        return self.home / "checkpoints.sqlite"

    def workspace(self, session_id: str) -> Path:
        return self.home / "sessions" / session_id


def load_settings(brain: str | None = None) -> Settings:
    """Settings from the environment; ``brain`` overrides ``CLIMCOPILOT_BRAIN``."""
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    default_brain = "openai" if base_url else "offline"
    return Settings(
        home=Path(os.environ.get("CLIMCOPILOT_HOME", Path.home() / ".climcopilot")).expanduser(),
        brain=brain or os.environ.get("CLIMCOPILOT_BRAIN") or default_brain,
        base_url=base_url,
        api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",
        model=os.environ.get("CLIMCOPILOT_MODEL", "gpt-4o-mini"),
        step_budget=int(os.environ.get("CLIMCOPILOT_STEP_BUDGET", "12")),
        llm_retries=int(os.environ.get("CLIMCOPILOT_LLM_RETRIES", "2")),
    )
