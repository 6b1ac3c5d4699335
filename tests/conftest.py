"""Shared fixtures: a private CLIMCOPILOT_HOME per test, and the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOI_NINO3 = ("What is the correlation between the Southern Oscillation Index and the "
             "Niño-3 SST anomaly?")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ClimCopilot home; no LLM endpoint configured."""
    path = tmp_path / "home"
    monkeypatch.setenv("CLIMCOPILOT_HOME", str(path))
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "CLIMCOPILOT_BRAIN"):
        monkeypatch.delenv(var, raising=False)
    return path


def run_cli(*args: str, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``climcopilot ARGS`` in a subprocess with the current environment plus ``env``."""
    return subprocess.run([sys.executable, "-m", "climcopilot.agent.cli", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def findings_in(home: Path) -> int:
    """Findings stored under ``home`` (0 when no store was ever created)."""
    if not (home / "memory").exists():
        return 0
    from climcopilot.knowledge.memory import Memory

    return Memory(home).count()


def parse_json(out: str) -> dict:
    return json.loads(out)
