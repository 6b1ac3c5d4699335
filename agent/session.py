"""A session: one id, one workspace, one kernel, the memory, a brain, and the graph over them.

The kernel and the memory start lazily, so a refused question costs neither. Graph state is
checkpointed in sqlite under ``$CLIMCOPILOT_HOME``, so ``resume`` continues a session that
stopped midway: it replays the successful cells into a new kernel, then goes on.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver

from climcopilot.agent.brains.base import Brain, BrainError
from climcopilot.agent.config import Settings
from climcopilot.agent.graph import build_graph
from climcopilot.agent.state import Action, AgentState
from climcopilot.knowledge.memory import Memory
from climcopilot.sandbox.isolation import SandboxPolicy
from climcopilot.sandbox.kernel import KernelSession
from climcopilot.sandbox.observation import Observation
from climcopilot.sandbox.runtime import render_tool_cell
from climcopilot.tools.base import ToolError
from climcopilot.tools.registry import get_tool, registry

EventHandler = Callable[[str, dict[str, Any]], None]


def _preload() -> None:
    from climcopilot.knowledge.embedder import embed

    embed(["warm up"])
    registry()


def new_session_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def make_brain(settings: Settings, script: Path | None = None) -> Brain:
    """The brain named in ``settings.brain``."""
    if settings.brain == "offline":
        from climcopilot.agent.brains.offline import OfflineBrain

        return OfflineBrain()
    if settings.brain == "openai":
        from climcopilot.agent.brains.openai_brain import OpenAIBrain

        return OpenAIBrain(settings)
    if settings.brain == "scripted":
        from climcopilot.agent.brains.scripted import ScriptedBrain

        if script is None:
            raise BrainError("the scripted brain needs --script FILE (a JSON list of steps)")
        return ScriptedBrain.from_file(script)
    raise BrainError(f"unknown brain {settings.brain!r}; use offline, openai or scripted")


def load_state(settings: Settings, session_id: str) -> dict[str, Any]:
    """The last checkpointed state of a session's first question (BrainError if unknown)."""
    if settings.checkpoints.exists():
        with sqlite3.connect(settings.checkpoints) as db:
            saved = SqliteSaver(db).get_tuple({"configurable": {"thread_id": session_id}})
        if saved is not None:
            return saved.checkpoint["channel_values"]
    raise BrainError(f"no session {session_id!r} in {settings.checkpoints}")


class Session:
    """Everything one conversation holds. Use as a context manager to stop the kernel."""

    def __init__(self, settings: Settings, brain: Brain, session_id: str | None = None,
                 policy: SandboxPolicy | None = None) -> None:
        self.settings = settings
        self.policy = policy or SandboxPolicy.from_env()
        self.brain = brain
        self.step_budget = settings.step_budget
        self.id = session_id or new_session_id()
        self.workspace = settings.workspace(self.id)
        self._kernel: KernelSession | None = None
        self._memory: Memory | None = None
        settings.home.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(settings.checkpoints, check_same_thread=False)
        self.graph = build_graph(self, SqliteSaver(self._db))
        self.questions = 0

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._kernel is not None:
            self._kernel.shutdown()
            self._kernel = None
        self._db.close()

    @property
    def kernel(self) -> KernelSession:
        if self._kernel is None:
            self._kernel = KernelSession(self.workspace, policy=self.policy)
            self._kernel.warm_up()
        return self._kernel

    @property
    def memory(self) -> Memory:
        if self._memory is None:
            self._memory = Memory(self.settings.home)
        return self._memory

    def prepare(self) -> None:
        """Start the kernel, and load the embedder and the tool registry here in a background
        thread, so that the three slow starts overlap (the kernel is its own process)."""
        threading.Thread(target=_preload, daemon=True).start()
        _ = self.kernel

    def execute(self, action: Action) -> Observation:
        """Run an action; arguments are validated here first, so bad ones never reach the
        kernel. After a kernel restart the earlier successful cells are replayed, and the
        observation says so."""
        if action.kind == "invalid":
            return Observation(cell=0, code=action.raw or "", ok=False, error=action.error)
        if action.kind == "code":
            code = action.code or ""
        else:
            try:
                tool = get_tool(action.tool or "")
                tool.validate(action.arguments)
            except ToolError as exc:
                return Observation(cell=0, code="", ok=False, error=f"ToolError: {exc}")
            code = render_tool_cell(tool.name, action.arguments)
        earlier = [c.code for c in self.kernel.cells if c.ok]
        obs = self.kernel.execute(code)
        if obs.kernel_restarted and earlier:
            rebuilt = self.kernel.replay(earlier)
            obs.error = f"{obs.error}; replayed {rebuilt} of {len(earlier)} earlier cells"
        return obs

    def _config(self, thread: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread},
                "recursion_limit": 4 * self.step_budget + 20}

    def _stream(self, inputs: dict[str, Any] | None, thread: str,
                on_event: EventHandler | None) -> AgentState:
        for update in self.graph.stream(inputs, self._config(thread), stream_mode="updates"):
            for node, delta in update.items():
                if on_event is not None and isinstance(delta, dict):
                    on_event(node, delta)
        return self.graph.get_state(self._config(thread)).values

    def ask(self, question: str, on_event: EventHandler | None = None) -> AgentState:
        """Answer one question; returns the final state (``status``, ``answer``, ...)."""
        self.questions += 1
        thread = self.id if self.questions == 1 else f"{self.id}/{self.questions}"
        inputs = {"question": question, "session_id": self.id, "status": "running",
                  "steps": [], "replans": 0, "check_retries": 0}
        return self._stream(inputs, thread, on_event)

    def resume(self, on_event: EventHandler | None = None) -> AgentState:
        """Continue this session's first question from its last checkpoint."""
        snapshot = self.graph.get_state(self._config(self.id))
        if not snapshot.values:
            raise BrainError(f"no session {self.id!r} in {self.settings.checkpoints}")
        if not snapshot.next:
            return snapshot.values
        self.kernel.replay([s["observation"]["code"] for s in snapshot.values.get("steps", [])
                            if s["observation"]["ok"] and s["observation"]["code"]])
        return self._stream(None, self.id, on_event)
