"""MCP sessions: each one a workspace, a sandboxed kernel started on its first call and shut
down when the session ends, and the steps its calls ran (what ``remember`` verifies and the
session notebook shows).

Over stdio the server process is the session. Over streamable HTTP a handshake-era client gets
a session per ``Mcp-Session-Id`` (ended by its DELETE, by :data:`IDLE_S` without a request, or
when the server stops); a 2026-07-28 client sends no session id, so its requests share the
server's default session (key ``None``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from climcopilot.agent.config import Settings, new_session_id
from climcopilot.agent.executor import execute
from climcopilot.agent.steps import Action, Step
from climcopilot.sandbox.errors import SandboxError
from climcopilot.sandbox.isolation import SandboxPolicy
from climcopilot.sandbox.kernel import KernelSession, verification_kernel
from climcopilot.tools.errors import ToolError

IDLE_S = 30 * 60.0  # a keyed session unused this long is ended (the SDK's HTTP idle timeout)
MAX_SESSIONS = 8  # kernels at once; each may use CLIMCOPILOT_KERNEL_MEMORY_MB


class McpSession:
    """One MCP session. Calls run one at a time (:meth:`run` holds a lock); :meth:`stop`
    cancels a call that waits its turn and interrupts the kernel for the one that runs."""

    def __init__(self, settings: Settings, policy: SandboxPolicy) -> None:
        self.id = new_session_id()
        self.workspace: Path = settings.workspace(self.id)
        self.policy = policy
        self.steps: list[Step] = []
        self.used = time.monotonic()
        self._kernel: KernelSession | None = None
        self._lock = threading.Lock()
        self._current: threading.Event | None = None  # the running call's cancel flag

    def run(self, action: Action, cancelled: threading.Event) -> Step | None:
        """Run ``action`` in the session's kernel (started on first use) and record it as the
        next step; None if the call was cancelled before its turn came."""
        with self._lock:
            if cancelled.is_set():
                return None
            if self._kernel is None:
                self._kernel = KernelSession(self.workspace, policy=self.policy)
                self._kernel.warm_up()
            self._current = cancelled
            try:
                observation = execute(self._kernel, action)
            finally:
                self._current = None
            step = Step(number=len(self.steps) + 1, action=action, observation=observation)
            self.steps.append(step)
            self.used = time.monotonic()
            return step

    def stop(self, cancelled: threading.Event) -> None:
        """Cancel the call whose flag is ``cancelled``: skip it if it has not started, else
        interrupt its cell (the kernel and its variables stay)."""
        cancelled.set()
        kernel = self._kernel
        if kernel is not None and self._current is cancelled:
            kernel.km.interrupt_kernel()

    def step(self, number: int) -> Step:
        """Step ``number`` of this session (ToolError saying how many there are)."""
        if not 1 <= number <= len(self.steps):
            raise ToolError(f"there is no step {number} in this MCP session (it has "
                               f"{len(self.steps)} steps)")
        return self.steps[number - 1]

    def replay(self, steps: list[Step]) -> dict[str, float]:
        """The values the tool ``steps`` give when they run alone, in order, in a fresh
        kernel where no free code ever ran (a later step's value of the same name wins)."""
        with verification_kernel(self.policy) as kernel:
            again = [Step(number=s.number, action=s.action, observation=execute(kernel, s.action))
                     for s in steps]
        return {name: value for s in again for name, value in s.values.items()}

    def close(self) -> None:
        """Interrupt the running call, if any, and shut the kernel down (the workspace stays,
        with the figures and tables)."""
        if self._current is not None:
            self.stop(self._current)
        with self._lock:
            kernel, self._kernel = self._kernel, None
        if kernel is not None:
            kernel.shutdown()


class Sessions:
    """The open MCP sessions by key (an HTTP session id, or None for the default one)."""

    def __init__(self, settings: Settings, policy: SandboxPolicy) -> None:
        self.settings = settings
        self.policy = policy
        self._open: dict[str | None, McpSession] = {}
        self._lock = threading.Lock()

    def get(self, key: str | None) -> McpSession:
        """The session of ``key``, opened on first use; ends keyed sessions idle for
        :data:`IDLE_S` first. SandboxError when :data:`MAX_SESSIONS` are open."""
        now = time.monotonic()
        with self._lock:
            idle = [k for k, s in self._open.items() if k is not None and now - s.used > IDLE_S]
            ended = [self._open.pop(k) for k in idle]
            session = self._open.get(key)
            if session is None:
                if len(self._open) >= MAX_SESSIONS:
                    raise SandboxError(f"{MAX_SESSIONS} MCP sessions are open, each with its "
                                       "own kernel; end one (close its client) and try again")
                session = self._open[key] = McpSession(self.settings, self.policy)
            session.used = now
        for old in ended:
            old.close()
        return session

    def end(self, key: str | None) -> None:
        """End the session of ``key`` (its kernel is shut down), if it is open."""
        with self._lock:
            session = self._open.pop(key, None)
        if session is not None:
            session.close()

    def end_all(self) -> None:
        with self._lock:
            sessions, self._open = list(self._open.values()), {}
        for session in sessions:
            session.close()
