"""A session: one id, one workspace, one kernel, the memory, a brain, and the graph over them.

The kernel and the memory start lazily, so a refused question costs neither. Graph state is
checkpointed in sqlite under ``$CLIMCOPILOT_HOME``, so ``resume`` continues a session that
stopped midway: it replays the successful cells into a new kernel, then goes on. The first
question of a session is graph thread ``ID``, later ones ``ID/2``, ``ID/3``...

With ``approve="risky"`` (interactive chat) a step that writes files or runs long pauses the
graph; :attr:`Session.waiting` then holds what waits, and :meth:`Session.reply` goes on.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

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

WRITES_FILES = re.compile(
    r"\bopen\([^)]*['\"][wax]b?\+?['\"]|\.to_(csv|netcdf|zarr|parquet|json|excel|pickle|hdf)\("
    r"|\bsavefig\(|\bnp\.save|\.write_(text|bytes)\(|\bshutil\.|\bos\.(remove|unlink|rename|"
    r"makedirs|mkdir)\(|\.(unlink|mkdir|rename)\(|\brmtree\(")
RUNS_LONG = re.compile(r"\btime\.sleep\(|\bwhile True\b")


def approval_reason(action: Action) -> str | None:
    """Why a step should wait for the user: code that writes files or may run long, a long
    tool, or a download; None for everything else."""
    if action.kind == "code":
        code = action.code or ""
        if WRITES_FILES.search(code):
            return "this code writes files"
        if RUNS_LONG.search(code):
            return "this code may run long"
    elif action.kind == "tool":
        try:
            return get_tool(action.tool or "").approval_reason()
        except ToolError:
            return None
    return None


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


def thread_id(session_id: str, question: int) -> str:
    """The graph thread of a session's ``question``-th question (1-based)."""
    return session_id if question == 1 else f"{session_id}/{question}"


def load_states(settings: Settings, session_id: str) -> list[dict[str, Any]]:
    """The last checkpointed state of each question of a session, in order (BrainError if
    the session is unknown)."""
    states = []
    if settings.checkpoints.exists():
        with sqlite3.connect(settings.checkpoints) as db:
            saver = SqliteSaver(db)
            while saved := saver.get_tuple(
                    {"configurable": {"thread_id": thread_id(session_id, len(states) + 1)}}):
                states.append(saved.checkpoint["channel_values"])
    if not states:
        raise BrainError(f"no session {session_id!r} in {settings.checkpoints}")
    return states


def load_state(settings: Settings, session_id: str) -> dict[str, Any]:
    """The last checkpointed state of a session's first question (BrainError if unknown)."""
    return load_states(settings, session_id)[0]


def export_session(settings: Settings, session_id: str, path: Path) -> tuple[Path, int]:
    """Write every question of a session as one notebook; returns its path and the number of
    code cells."""
    from climcopilot.sandbox.export import session_notebook, write_notebook

    sections = []
    for state in load_states(settings, session_id):
        header = f"# {state.get('question', '')}\n\n**Plan**\n\n" + "\n".join(
            f"{i}. {line}" for i, line in enumerate(state.get("plan", []), start=1))
        cells = [Observation.model_validate(s["observation"]) for s in state.get("steps", [])]
        footer = "## Answer\n\n" + (state.get("answer") or f"(no answer: {state.get('reason')})")
        sections.append((header, cells, footer))
    nb = session_notebook(sections)
    return write_notebook(nb, path), sum(c.cell_type == "code" for c in nb.cells)


class Session:
    """Everything one conversation holds. Use as a context manager to stop the kernel."""

    def __init__(self, settings: Settings, brain: Brain, session_id: str | None = None,
                 policy: SandboxPolicy | None = None, approve: str = "never") -> None:
        self.settings = settings
        self.approve = approve  # "risky": steps that write files or run long wait (chat)
        self.waiting: dict[str, Any] | None = None  # the step waiting for approval, if any
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
            from climcopilot.knowledge.cards import index_cards

            index_cards(self._memory)
        return self._memory

    def prepare(self) -> None:
        """Start the kernel, and load the embedder and the tool registry here in a background
        thread, so that the three slow starts overlap (the kernel is its own process). The
        thread is joined before the graph goes on: two threads importing the same modules at
        once can deadlock in importlib (seen with narwhals via statsmodels)."""
        preload = threading.Thread(target=_preload, daemon=True)
        preload.start()
        _ = self.kernel
        preload.join()

    def needs_approval(self, action: Action) -> str | None:
        return approval_reason(action) if self.approve == "risky" else None

    def interrupt(self) -> None:
        """Stop the cell the kernel is running (Ctrl-C); the kernel and its variables stay."""
        if self._kernel is not None:
            self._kernel.km.interrupt_kernel()

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

    @property
    def thread(self) -> str:
        """The graph thread of the current question."""
        return thread_id(self.id, max(self.questions, 1))

    def _stream(self, inputs: dict[str, Any] | Command | None, thread: str,
                on_event: EventHandler | None) -> AgentState:
        """Run the graph until it ends or pauses for approval (then :attr:`waiting` is set)."""
        self.waiting = None
        for update in self.graph.stream(inputs, self._config(thread), stream_mode="updates"):
            for node, delta in update.items():
                if node == "__interrupt__":
                    self.waiting = delta[0].value
                elif on_event is not None and isinstance(delta, dict):
                    on_event(node, delta)
        return self.graph.get_state(self._config(thread)).values

    def ask(self, question: str, on_event: EventHandler | None = None) -> AgentState:
        """Answer one question; returns the final state (``status``, ``answer``, ...), or the
        state so far when a step waits for approval (:attr:`waiting`)."""
        self.questions += 1
        inputs = {"question": question, "session_id": self.id, "status": "running",
                  "steps": [], "replans": 0, "check_retries": 0}
        return self._stream(inputs, self.thread, on_event)

    def reply(self, answer: dict[str, Any], on_event: EventHandler | None = None) -> AgentState:
        """Answer the approval the current question waits for (see :mod:`.graph`) and go on."""
        if self.waiting is None:
            raise BrainError("no step is waiting for approval")
        return self._stream(Command(resume=answer), self.thread, on_event)

    def resume(self, on_event: EventHandler | None = None,
               rebuild: bool = False) -> AgentState:
        """Continue this session's last question from its last checkpoint (BrainError if the
        session is unknown). The successful cells of all its questions are replayed into the
        new kernel first; a question that finished needs no kernel, unless ``rebuild`` (to ask
        more questions in it). A step waiting for approval sets :attr:`waiting`."""
        states = load_states(self.settings, self.id)
        self.questions = len(states)
        snapshot = self.graph.get_state(self._config(self.thread))
        self.waiting = snapshot.interrupts[0].value if snapshot.interrupts else None
        if snapshot.next or rebuild:
            self.kernel.replay([s["observation"]["code"] for state in states
                                for s in state.get("steps", [])
                                if s["observation"]["ok"] and s["observation"]["code"]])
        if snapshot.next and self.waiting is None:
            return self._stream(None, self.thread, on_event)
        return snapshot.values
