"""Settings in one place: ``$CLIMCOPILOT_HOME/config.toml``, with environment variables over it.

``climcopilot config show`` prints every key with its value and where the value came from;
``climcopilot config set KEY VALUE`` writes the file. ``CLIMCOPILOT_HOME`` itself is only an
environment variable (the file lives under it). See :data:`KEYS` for the keys.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    """A config key or value is wrong; the message says which and what to use."""


@dataclass(frozen=True)
class Key:
    """One setting: its environment variable, type, default and meaning."""

    env: str
    kind: type
    default: Any
    meaning: str
    choices: tuple[str, ...] = ()


KEYS: dict[str, Key] = {
    "brain": Key("CLIMCOPILOT_BRAIN", str, None, "who decides the steps: offline, openai or "
                 "scripted (unset: openai if base_url is set, else offline)",
                 ("offline", "openai", "scripted")),
    "base_url": Key("OPENAI_BASE_URL", str, None, "an OpenAI-compatible endpoint"),
    "api_key": Key("OPENAI_API_KEY", str, "not-needed", "key for that endpoint"),
    "model": Key("CLIMCOPILOT_MODEL", str, "gpt-4o-mini", "model name sent to the endpoint"),
    "step_budget": Key("CLIMCOPILOT_STEP_BUDGET", int, 12, "most actions per question"),
    "llm_retries": Key("CLIMCOPILOT_LLM_RETRIES", int, 2,
                       "retries (with backoff) of a failed LLM request"),
    "llm_timeout_s": Key("CLIMCOPILOT_LLM_TIMEOUT_S", float, 120.0,
                         "seconds one LLM request may take before it counts as failed"),
    "llm_stream": Key("CLIMCOPILOT_LLM_STREAM", str, "on", "stream the model's answer token "
                      "by token (off: for servers that cannot stream tool calls)",
                      ("on", "off")),
    "tool_schema": Key("CLIMCOPILOT_TOOL_SCHEMA", str, "portable", "the tool schemas sent to "
                       "the LLM: portable (any server, Ollama included) or strict (OpenAI "
                       "structured outputs)", ("portable", "strict")),
    "tools_offered": Key("CLIMCOPILOT_TOOLS_OFFERED", str, "core", "tools offered to the LLM "
                         "per request: core (a core set, the question's tools and find_tools; "
                         "at most 6,000 tokens) or all", ("core", "all")),
    "approve": Key("CLIMCOPILOT_APPROVE", str, "risky", "in chat, which steps wait for /approve: "
                   "risky (code that writes files, long tools) or never", ("risky", "never")),
    "plugin_paths": Key("CLIMCOPILOT_PLUGIN_PATHS", str, "",
                        "extra folders with tool plugins (`:`-separated)"),
}
SECRET = {"api_key"}  # shown masked by `config show`


@dataclass(frozen=True)
class Settings:
    home: Path
    brain: str
    base_url: str | None
    api_key: str
    model: str
    step_budget: int
    llm_retries: int
    approve: str = "risky"
    plugin_paths: str = ""
    llm_timeout_s: float = 120.0
    llm_stream: str = "on"
    tool_schema: str = "portable"
    tools_offered: str = "core"

    @property
    def checkpoints(self) -> Path:
        return self.home / "checkpoints.sqlite"

    def workspace(self, session_id: str) -> Path:
        return self.home / "sessions" / session_id


def new_session_id() -> str:
    """A new session's id: its UTC start time and six random hex digits."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def home_dir() -> Path:
    return Path(os.environ.get("CLIMCOPILOT_HOME", Path.home() / ".climcopilot")).expanduser()


def config_file() -> Path:
    return home_dir() / "config.toml"


def read_file() -> dict[str, Any]:
    """The keys set in the config file (ConfigError if it cannot be read)."""
    path = config_file()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; fix it or delete it") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}; keys: {', '.join(KEYS)}")
    return data


def parse(key: str, text: str) -> Any:
    """``text`` as the value of ``key`` (ConfigError naming the key if it does not fit)."""
    if key not in KEYS:
        raise ConfigError(f"unknown key {key!r}; keys: {', '.join(KEYS)}")
    spec = KEYS[key]
    try:
        value = spec.kind(text)
    except ValueError:
        raise ConfigError(f"{key} must be {spec.kind.__name__}, got {text!r}") from None
    if spec.choices and value not in spec.choices:
        raise ConfigError(f"{key} must be one of {', '.join(spec.choices)}, got {text!r}")
    if spec.kind in (int, float) and value < 0:
        raise ConfigError(f"{key} must be >= 0, got {value}")
    return value


def resolved() -> dict[str, tuple[Any, str]]:
    """Every key's value and where it came from: ``env``, ``file`` or ``default``."""
    stored = read_file()
    out: dict[str, tuple[Any, str]] = {}
    for key, spec in KEYS.items():
        origin = "env" if os.environ.get(spec.env) else "file" if key in stored else "default"
        text = os.environ.get(spec.env) if origin == "env" else stored.get(key)
        try:
            out[key] = (spec.default if text is None else parse(key, str(text)), origin)
        except ConfigError as exc:
            where = spec.env if origin == "env" else str(config_file())
            raise ConfigError(f"{exc} (from {where})") from None
    return out


def set_value(key: str, text: str) -> Path:
    """Write ``key = text`` (validated) to the config file; returns its path."""
    value = parse(key, text)
    stored = {**read_file(), key: value}
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in stored.items()))
    path.chmod(0o600)  # it may hold the API key
    return path


def load_settings(brain: str | None = None) -> Settings:
    """Settings from the environment over the config file; ``brain`` overrides both.

    ``plugin_paths`` from the file is exported to ``CLIMCOPILOT_PLUGIN_PATHS`` (where the tool
    registry reads it) when that variable is unset.
    """
    values = {k: v for k, (v, _) in resolved().items()}
    if values["plugin_paths"]:
        os.environ.setdefault(KEYS["plugin_paths"].env, values["plugin_paths"])
    default_brain = "openai" if values["base_url"] else "offline"
    return Settings(home=home_dir(), brain=brain or values["brain"] or default_brain,
                    base_url=values["base_url"] or None, api_key=values["api_key"],
                    model=values["model"], step_budget=values["step_budget"],
                    llm_retries=values["llm_retries"], approve=values["approve"],
                    plugin_paths=values["plugin_paths"],
                    llm_timeout_s=values["llm_timeout_s"], llm_stream=values["llm_stream"],
                    tool_schema=values["tool_schema"], tools_offered=values["tools_offered"])
