"""One persistent Jupyter kernel per session, driven through jupyter_client.

:func:`start_kernel` is the single place a kernel process is started; the command comes from
:mod:`climcopilot.sandbox.isolation` (bubblewrap, user namespace, seccomp, environment
allow-list, limits). :class:`KernelSession` executes cells and turns the kernel's messages into
compact :class:`~climcopilot.sandbox.observation.Observation` records (:mod:`.capture`), says
where each result comes from (``source``, ``trusted``), keeps the workspace within its quota,
and rebuilds the kernel's state after a restart.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from typing import Any

import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from climcopilot.sandbox.capture import STDOUT_LIMIT, CellCapture
from climcopilot.sandbox.errors import SandboxError
from climcopilot.sandbox.isolation import (
    KernelDirs,
    KernelIdentity,
    SandboxPolicy,
    describe,
    kernel_command,
    kernel_env,
    kernel_owner,
    refusal,
)
from climcopilot.sandbox.launch import cap_hits, remove_cgroup
from climcopilot.sandbox.observation import Observation
from climcopilot.sandbox.runtime import render_tool_cell
from climcopilot.sandbox.workspace import Usage, Workspace

__all__ = ["STDOUT_LIMIT", "KernelSession", "verification_kernel"]

KERNEL_NAME = "climcopilot-sandbox"
INTERRUPT_GRACE_S = 5.0  # wait this long for an interrupted cell to stop, then restart
QUOTA_POLL_S = 1.0  # how often the workspace is measured while a cell runs
MESSAGE_LIMIT = 64 * 2**20  # bytes: a larger message from the kernel is dropped by zmq
TAIL_BYTES = 4096  # of the kernel process's own output, kept to explain a failed start
LOST_OUTPUT_WAIT_S = 2.0  # after the reply, wait this long for the idle status, then go on
WORKSPACE_FOLDERS = ("figures", "outputs")
OUT_OF_PROCESSES = ("can't start new thread", "Resource temporarily unavailable")
PROBE = ("print(open('/proc/self/status').read())\n"
         "print('UidMap:', ' '.join(open('/proc/self/uid_map').read().split()))")

Hook = Callable[[dict[str, Any]], None]


class ProcessOutput:
    """What the kernel process writes to its own stdout and stderr (not the cells' output,
    which goes over iopub): a pipe that a thread drains, keeping only the last
    :data:`TAIL_BYTES`, so the kernel can fill neither the host's disk nor its memory."""

    def __init__(self) -> None:
        read_fd, self.fd = os.pipe()
        self.tail = b""
        threading.Thread(target=self._drain, args=(read_fd,), daemon=True).start()

    def _drain(self, read_fd: int) -> None:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                self.tail = (self.tail + chunk)[-TAIL_BYTES:]

    def last_line(self) -> str:
        time.sleep(0.2)  # let the thread take what a dying kernel wrote last
        lines = self.tail.decode(errors="replace").strip().splitlines()
        return lines[-1][:300] if lines else "it wrote nothing"

    def close(self) -> None:
        os.close(self.fd)


def start_kernel(workspace: Path, dirs: KernelDirs, policy: SandboxPolicy,
                 output: ProcessOutput) -> KernelManager:
    """Start an ipykernel with this interpreter under ``policy``, its cwd in ``workspace``,
    its process output into ``output``.

    ``dirs`` must have been made (:meth:`KernelDirs.make`). The kernel spec and connection
    file live in ``dirs.host`` (the host's alone), the
    kernel's sockets in ``dirs.ipc``. The kernel talks over ``ipc`` (Unix sockets), not TCP,
    so no port is opened and the transport works inside a sandbox without a network. A
    SandboxError if the policy cannot be honoured here.
    """
    argv = kernel_command(workspace, dirs, policy)
    spec = dirs.host / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    context = zmq.Context()
    context.setsockopt(zmq.MAXMSGSIZE, MESSAGE_LIMIT)
    km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=str(dirs.ipc / "kernel"),
                       connection_file=str(dirs.connection), context=context,
                       kernel_spec_manager=KernelSpecManager(
                           kernel_dirs=[str(spec.parent)], ensure_native_kernel=False))
    km.write_connection_file()
    dirs.connection.chmod(0o644)  # the kernel's uid reads it; its folder is the host's alone
    # Interrupts go as messages: a SIGINT to the process group would also reach bubblewrap,
    # which dies of it and takes the kernel along.
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "ClimCopilot sandbox", "language": "python",
         "interrupt_mode": "message"}))
    km.start_kernel(cwd=str(workspace), env=kernel_env(workspace, policy), stdout=output.fd,
                    stderr=output.fd)
    return km


class KernelDied(RuntimeError):
    """The kernel process exited while a cell ran."""


class CellStopped(RuntimeError):
    """A cell (request ``msg_id``) was stopped: ``reason`` is the one-line error."""

    def __init__(self, msg_id: str, reason: str) -> None:
        super().__init__(reason)
        self.msg_id = msg_id
        self.reason = reason


class KernelSession:
    """A session's kernel: execute code or tool calls, get observations back.

    ``timeout`` is the per-cell wall-clock limit in seconds; ``policy`` the isolation and
    limits (default: from the environment, bubblewrap where available). A SandboxError if the
    kernel must not start here (see :func:`~climcopilot.sandbox.isolation.refusal`).

    :attr:`tainted` is True once free code has run in the current kernel process; tool cells
    are ``trusted`` only before that. After a restart the earlier successful cells are
    replayed (tool cells as tool calls); replayed code taints the new kernel again.
    """

    def __init__(self, workspace: Path, timeout: float = 600.0,
                 policy: SandboxPolicy | None = None) -> None:
        self.policy = policy or SandboxPolicy.from_env()
        why_not = refusal(self.policy)
        if why_not is not None:
            raise SandboxError(why_not)
        Path(workspace).mkdir(parents=True, exist_ok=True)
        self.files = Workspace(workspace, kernel_owner(self.policy))
        self.workspace = self.files.root
        self.timeout = timeout
        self.status = describe(self.policy)
        self.cells: list[Observation] = []
        self.tainted = False
        self.files.prepare(WORKSPACE_FOLDERS)
        self.usage = self.files.usage()  # what the workspace holds, after the last cell
        self.dirs = KernelDirs(Path(tempfile.mkdtemp(prefix="climcopilot-")))
        self.dirs.make(kernel_owner(self.policy))
        self.output = ProcessOutput()
        self.km: KernelManager | None = None
        try:
            self.km = start_kernel(self.workspace, self.dirs, self.policy, self.output)
            self.kc = self._connect()
        except BaseException:
            self._discard()
            raise

    def _connect(self) -> Any:
        kc = self.km.client(context=self.km.context)
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
        except RuntimeError:
            kc.stop_channels()
            raise SandboxError(f"the kernel did not start ({self.output.last_line()}); with "
                               f"{self.policy.memory_mb} MB and {self.policy.processes} "
                               "processes (CLIMCOPILOT_KERNEL_MEMORY_MB, ..._PROCESSES)") from None
        return kc

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the kernel and its channels."""
        self.kc.stop_channels()
        self._discard()

    def _discard(self) -> None:
        """Stop the kernel process if there is one; remove its cgroup and host folder."""
        if self.km is not None:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
            self.km.context.destroy(linger=0)
        remove_cgroup(self.dirs.root.name)
        self.output.close()
        shutil.rmtree(self.dirs.root, ignore_errors=True)

    def execute(self, code: str, timeout: float | None = None, *,
                helper: bool = False) -> Observation:
        """Run free code as one cell (``timeout`` seconds, default the session's); save its
        figures and long output under the workspace. ``helper=True`` is for code the host
        wrote itself that changes nothing the tools rely on (e.g. handing a variable over):
        it neither taints the kernel nor is recorded as a cell (so never replayed)."""
        return self._cell(code, "code", timeout, helper=helper)

    def call_tool(self, name: str, arguments: dict[str, Any],
                  timeout: float | None = None) -> Observation:
        """Run a registered tool in the kernel, as a cell the host renders; its observation is
        ``trusted`` if no free code ran in this kernel since it (re)started. ``arguments``
        must be JSON values (SandboxError otherwise: they are written into the cell)."""
        if not isinstance(name, str) or not isinstance(arguments, dict) or not _is_json(arguments):
            raise SandboxError(f"tool call {name!r}: the arguments must be a JSON object")
        return self._cell(render_tool_cell(name, arguments), "tool", timeout,
                          tool=(name, arguments))

    def restore(self, cells: Sequence[Observation]) -> str:
        """Take up ``cells`` of an earlier kernel of this session (e.g. when a session
        resumes): replay them here, as after a restart, and keep them as this session's first
        cells, so later cells are numbered after them and a later restart replays them too.
        Returns what the replay did, in words."""
        note = self._replay(cells)
        self.cells.extend(cells)
        return note

    def _cell(self, code: str, source: str, timeout: float | None, helper: bool = False,
              tool: tuple[str, dict[str, Any]] | None = None) -> Observation:
        timeout = self.timeout if timeout is None else timeout
        number = len(self.cells) + 1
        trusted = source == "tool" and not self.tainted
        if source == "code" and not helper:
            self.tainted = True  # from here on the kernel's state may have been changed
        capture = CellCapture(self.files, number, self.policy.memory_mb)
        hits = cap_hits(self.dirs.root.name)
        before = self.usage  # as the last cell left it: one measurement per cell
        started = time.perf_counter()
        restarted = False
        try:
            if not self._run(code, capture.collect, timeout, before):
                capture.text(f"\n[output lost: the kernel sent a message over "
                             f"{MESSAGE_LIMIT // 2**20} MB]\n")
                self._reconnect()
            if source == "code" and not helper and ("matplotlib" in code or "plt." in code):
                self._run("from climcopilot.sandbox.runtime import flush_figures as _ff\n"
                          f"_ff('cell-{number}')", capture.collect, 60, before)
        except CellStopped as exc:
            capture.error = exc.reason
            self.km.interrupt_kernel()
            try:
                self._run_until_idle(exc.msg_id, lambda msg: None, INTERRUPT_GRACE_S)
                capture.error += " and was interrupted"
            except (CellStopped, KernelDied):
                restarted = True
                self._restart()
                capture.error += "; the interrupt did not take, so the kernel was restarted"
        except KernelDied:
            restarted = True
            self._restart()
            capture.error = "KernelDied: the kernel stopped during this cell and was restarted"
        finally:
            capture.close()
        exhausted = self._exhausted(capture, hits)
        if not restarted and "can't start new thread" in (capture.error or ""):
            restarted = True  # its process quota is used up (e.g. by a fork bomb's zombies)
            self._restart()
            capture.error += "; the kernel had no processes left, so it was restarted"
        if restarted:
            capture.error += "; " + self._replay(self.cells)
        after = self.usage = self.files.usage()
        over = self._over_quota(after)
        if over is not None and capture.error is None:  # an error if this cell added to it
            grew = after.bytes > before.bytes or after.entries > before.entries
            if grew:
                capture.error = over
            else:
                capture.text(f"\n[{over}]\n")
        obs = Observation(
            cell=number, code=code, ok=capture.error is None, stdout=capture.stdout(),
            error=capture.error, traceback=capture.traceback, source=source,
            tool=tool[0] if tool else None, arguments=tool[1] if tool else None,
            trusted=trusted and not restarted and capture.error is None,
            results=capture.results,
            result=capture.results[-1].result if capture.results else None,
            figures=capture.figures, full_output=capture.full_output,
            wall_s=round(time.perf_counter() - started, 4),
            device=capture.results[-1].device if capture.results else "cpu",
            kernel_restarted=restarted, exhausted=exhausted)
        if not helper:
            self.cells.append(obs)
        return obs

    def _exhausted(self, capture: CellCapture, hits: int | None) -> str | None:
        """``processes`` if the cell hit the process cap (the pids cgroup counts refused forks;
        without one, the error says so), ``memory`` on a MemoryError, else None."""
        after = cap_hits(self.dirs.root.name)
        error = capture.error or ""
        if (hits is not None and after is not None and after > hits) or any(
                text in error for text in OUT_OF_PROCESSES):
            return "processes"
        return "memory" if error.startswith("MemoryError") else None

    def _over_quota(self, usage: Usage) -> str | None:
        """The one-line error when the workspace holds more than its quota, else None."""
        policy = self.policy
        if usage.mb <= policy.workspace_mb and usage.entries <= policy.workspace_files:
            return None
        return (f"WorkspaceFull: the workspace holds {usage.mb:.0f} MB in {usage.entries} "
                f"entries, over its quota of {policy.workspace_mb} MB / "
                f"{policy.workspace_files} (CLIMCOPILOT_WORKSPACE_MB, ..._FILES); delete "
                f"files in {self.workspace} to go on")

    def _replay(self, cells: Sequence[Observation]) -> str:
        """Re-run the successful ``cells`` (tool cells as tool calls) to rebuild the kernel's
        state, skipping those that exhausted processes or memory; a replayed code cell taints
        the kernel. Stops at a cell that kills or outlasts the kernel (which is then restarted
        clean). Returns what it did, in words."""
        todo = [c for c in cells if c.ok and c.code and c.exhausted is None]
        skipped = [c.cell for c in cells if c.ok and c.code and c.exhausted is not None]
        rebuilt = 0
        for obs in todo:
            if obs.source == "tool" and obs.tool is not None:
                code = render_tool_cell(obs.tool, obs.arguments or {})
            else:
                code, self.tainted = obs.code, True
            capture = CellCapture(self.files, obs.cell, self.policy.memory_mb)
            try:
                self._run(code, lambda msg, c=capture: c.collect(msg) if
                          msg["header"]["msg_type"] == "error" else None, self.timeout,
                          self.usage)
            except (CellStopped, KernelDied) as exc:
                self._restart()
                what = "ran too long" if isinstance(exc, CellStopped) else "killed the kernel"
                return (f"replayed {rebuilt} of {len(todo)} earlier cells, then stopped: cell "
                        f"{obs.cell} {what}; the session's variables are lost")
            rebuilt += capture.error is None
        note = (f"replayed {rebuilt} of {len(todo)} earlier cells to rebuild its state" if todo
                else "the session's variables are lost (no earlier cells to replay)")
        if skipped:
            note += (f" (skipped cells {', '.join(map(str, skipped))}: they used up the "
                     "kernel's processes or memory)")
        return note

    def _reconnect(self) -> None:
        """New channels to the same kernel: zmq closes a connection for good once it has
        dropped a message over :data:`MESSAGE_LIMIT`."""
        self.kc.stop_channels()
        self.kc = self._connect()

    def _restart(self, attempts: int = 4) -> None:
        """Kill and start the kernel; it is untainted until code runs in it again. The
        processes of the old one (e.g. a fork bomb's children) can take seconds to go, and
        until then they fill the process quota the new kernel shares, so a start that dies
        at once is tried again after a pause."""
        self.kc.stop_channels()
        self.tainted = False
        for attempt in range(attempts):
            try:
                self.km.restart_kernel(now=True)
                self.kc = self._connect()
                return
            except (RuntimeError, SandboxError):
                if attempt == attempts - 1:
                    raise
                time.sleep(2.0 ** attempt)

    def _run(self, code: str, hook: Hook, timeout: float, usage: Usage) -> bool:
        """Execute ``code`` and feed its iopub messages to ``hook`` until the kernel is idle;
        False if some output was lost (see :meth:`_run_until_idle`).

        Raises CellStopped after ``timeout`` seconds or when the workspace grows past its
        quota (from ``usage`` when the cell began), KernelDied if the process exits.
        """
        return self._run_until_idle(self.kc.execute(code, stop_on_error=False), hook, timeout,
                                    usage)

    def _run_until_idle(self, msg_id: str, hook: Hook, timeout: float,
                        usage: Usage | None = None) -> bool:
        """Feed the iopub messages of request ``msg_id`` to ``hook`` until the kernel is idle.
        Returns False if output was lost: the reply came but the idle status did not (zmq
        drops a message over :data:`MESSAGE_LIMIT` and the connection with it)."""
        deadline = time.monotonic() + timeout
        next_poll = time.monotonic() + QUOTA_POLL_S
        replied_at = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise CellStopped(msg_id, f"TimeoutError: cell ran longer than {timeout:.0f} s")
            if usage is not None and now >= next_poll:
                next_poll = now + QUOTA_POLL_S
                self._check_growth(msg_id, usage)
            try:
                msg = self.kc.get_iopub_msg(timeout=min(0.25, deadline - now))
            except Empty:
                if not self.km.is_alive():
                    raise KernelDied from None
                if replied_at is None and self._replied(msg_id):
                    replied_at = now
                if replied_at is not None and now - replied_at > LOST_OUTPUT_WAIT_S:
                    return False
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            hook(msg)
        if replied_at is None:
            self._reply(msg_id)
        return True

    def _replied(self, msg_id: str) -> bool:
        """Whether the shell reply to ``msg_id`` has come (earlier replies are consumed)."""
        while self.kc.shell_channel.msg_ready():
            if self.kc.get_shell_msg(timeout=0)["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    def _check_growth(self, msg_id: str, start: Usage) -> None:
        """Stop the cell if the workspace is over its quota and bigger than when it began."""
        now = self.files.usage()
        over = self._over_quota(now)
        if over is not None and (now.bytes > start.bytes or now.entries > start.entries):
            raise CellStopped(msg_id, over + "; the cell was stopped")

    def _reply(self, msg_id: str) -> None:
        """Consume shell replies up to the one for ``msg_id`` (earlier ones: warm-up cells)."""
        while True:
            try:
                reply = self.kc.get_shell_msg(timeout=5)
            except Empty:
                return
            if reply["parent_header"].get("msg_id") == msg_id:
                return

    def warm_up(self) -> None:
        """Import the tool runtime in the kernel without waiting, so the first call is quick;
        a tool's family is imported when it is first called."""
        self.kc.execute("import climcopilot.sandbox.runtime as _r; _r.context()", silent=True)

    def probe(self) -> KernelIdentity:
        """What the kernel process is, read from its own ``/proc/self``: uid, capabilities,
        no_new_privs, seccomp mode, user namespace (a helper cell: no taint, not recorded)."""
        obs = self.execute(PROBE, timeout=60, helper=True)
        if obs.error:
            raise SandboxError(f"cannot read the kernel's status: {obs.error}")
        return KernelIdentity.parse(obs.stdout)


def _is_json(value: Any) -> bool:
    """Whether ``value`` is made of JSON values only (str keys; NaN and infinities allowed)."""
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list | tuple):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


@contextmanager
def verification_kernel(policy: SandboxPolicy | None = None,
                        timeout: float = 600.0) -> Iterator[KernelSession]:
    """A throwaway kernel in a fresh temporary workspace (removed afterwards), to re-run tool
    calls where no free code ever ran: its tool observations are ``trusted``."""
    workspace = Path(tempfile.mkdtemp(prefix="climcopilot-verify-"))
    try:
        with KernelSession(workspace, timeout=timeout, policy=policy) as kernel:
            yield kernel
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
