"""One persistent Jupyter kernel per session, driven through jupyter_client.

:func:`start_kernel` is the single place a kernel process is started; the command comes from
:mod:`climcopilot.sandbox.isolation` (bubblewrap, environment allow-list, limits).
:class:`KernelSession` executes cells and turns the kernel's messages into compact
:class:`~climcopilot.sandbox.observation.Observation` records.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from climcopilot.sandbox.isolation import SandboxPolicy, describe, kernel_command, kernel_env
from climcopilot.sandbox.launch import remove_cgroup
from climcopilot.sandbox.observation import MIME, Observation
from climcopilot.sandbox.runtime import render_tool_cell

KERNEL_NAME = "climcopilot-sandbox"
INTERRUPT_GRACE_S = 5.0  # wait this long for an interrupted cell to stop, then restart
STDOUT_LIMIT = 4000  # characters of stdout kept in an observation; the rest goes to a file
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def start_kernel(workspace: Path, policy: SandboxPolicy) -> KernelManager:
    """Start an ipykernel with this interpreter under ``policy``, its cwd in ``workspace``.

    The kernel talks over ``ipc`` (Unix sockets in a short private directory), not TCP, so no
    port is opened and the transport works inside a sandbox without a network.
    """
    for sub in ("", "figures", "outputs"):
        (workspace / sub).mkdir(parents=True, exist_ok=True)
    sockets = Path(tempfile.mkdtemp(prefix="climcopilot-"))
    spec = sockets / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=str(sockets / "kernel"),
                       connection_file=str(sockets / "connection.json"),
                       kernel_spec_manager=KernelSpecManager(
                           kernel_dirs=[str(spec.parent)], ensure_native_kernel=False))
    km.write_connection_file()
    argv = kernel_command(workspace, sockets, policy)
    # Interrupts go as messages: a SIGINT to the process group would also reach bubblewrap,
    # which dies of it and takes the kernel along.
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "ClimCopilot sandbox", "language": "python",
         "interrupt_mode": "message"}))
    km.start_kernel(cwd=str(workspace), env=kernel_env(workspace))
    return km


class KernelDied(RuntimeError):
    """The kernel process exited while a cell ran."""


class CellTimeout(RuntimeError):
    """A cell (request ``msg_id``) did not finish in time."""

    def __init__(self, msg_id: str) -> None:
        super().__init__(msg_id)
        self.msg_id = msg_id


class KernelSession:
    """A session's kernel: execute code or tool calls, get observations back.

    ``timeout`` is the per-cell wall-clock limit in seconds; ``policy`` the isolation and
    limits (default: from the environment, bubblewrap where available).
    """

    def __init__(self, workspace: Path, timeout: float = 600.0,
                 policy: SandboxPolicy | None = None) -> None:
        self.workspace = Path(workspace).resolve()
        self.timeout = timeout
        self.policy = policy or SandboxPolicy.from_env()
        self.status = describe(self.policy)
        self.cells: list[Observation] = []
        self.km = start_kernel(self.workspace, self.policy)
        self.kc = self._connect()

    def _connect(self) -> Any:
        kc = self.km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        return kc

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the kernel and its channels."""
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
        sockets = Path(self.km.connection_file).parent
        remove_cgroup(sockets.name)
        shutil.rmtree(sockets, ignore_errors=True)

    def replay(self, codes: list[str]) -> int:
        """Re-run ``codes`` (cells that succeeded before a restart) to rebuild the kernel's
        state; returns how many succeeded again. Replayed cells are not recorded."""
        recorded = len(self.cells)
        ok = sum(self.execute(code).ok for code in codes)
        del self.cells[recorded:]
        return ok

    def call_tool(self, name: str, arguments: dict[str, Any]) -> Observation:
        """Run a registered tool in the kernel (rendered as a code cell)."""
        return self.execute(render_tool_cell(name, arguments))

    def execute(self, code: str, timeout: float | None = None) -> Observation:
        """Run one cell (``timeout`` seconds, default the session's); save its figures and
        long output under the workspace."""
        timeout = self.timeout if timeout is None else timeout
        number = len(self.cells) + 1
        started = time.perf_counter()
        outputs: dict[str, Any] = {"stdout": [], "figures": [], "result": None, "error": None}

        def hook(msg: dict[str, Any]) -> None:
            self._collect(msg, outputs, number)

        restarted = False
        try:
            self._run(code, hook, timeout)
            if "matplotlib" in code or "plt." in code:
                self._run("from climcopilot.sandbox.runtime import flush_figures as _ff\n"
                          f"_ff('cell-{number}')", hook, 60)
        except CellTimeout as exc:
            outputs["error"] = f"TimeoutError: cell ran longer than {timeout:.0f} s"
            self.km.interrupt_kernel()
            try:
                self._run_until_idle(exc.msg_id, lambda msg: None, INTERRUPT_GRACE_S)
                outputs["error"] += " and was interrupted"
            except (CellTimeout, KernelDied):
                restarted = True
                self._restart()
                outputs["error"] += ("; the interrupt did not take, so the kernel was "
                                     "restarted and the session's variables are lost")
        except KernelDied:
            restarted = True
            self._restart()
            outputs["error"] = ("KernelDied: the kernel stopped during this cell; it was "
                                "restarted and the session's variables are lost")
        if not restarted and "can't start new thread" in (outputs["error"] or ""):
            restarted = True  # its process quota is used up (e.g. by a fork bomb's zombies)
            self._restart()
            outputs["error"] += ("; the kernel had no processes left, so it was restarted "
                                 "and the session's variables are lost")
        obs = self._observation(number, code, outputs, time.perf_counter() - started, restarted)
        self.cells.append(obs)
        return obs

    def _restart(self, attempts: int = 4) -> None:
        """Kill and start the kernel. The processes of the old one (e.g. a fork bomb's
        children) can take seconds to go, and until then they fill the process quota the new
        kernel shares, so a start that dies at once is tried again after a pause."""
        self.kc.stop_channels()
        for attempt in range(attempts):
            try:
                self.km.restart_kernel(now=True)
                self.kc = self._connect()
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                time.sleep(2.0 ** attempt)

    def _run(self, code: str, hook: Any, timeout: float) -> None:
        """Execute ``code`` and feed its iopub messages to ``hook`` until the kernel is idle.

        Raises CellTimeout after ``timeout`` seconds and KernelDied if the process exits.
        """
        self._run_until_idle(self.kc.execute(code, stop_on_error=False), hook, timeout)

    def _run_until_idle(self, msg_id: str, hook: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CellTimeout(msg_id)
            try:
                msg = self.kc.get_iopub_msg(timeout=min(0.25, remaining))
            except Empty:
                if not self.km.is_alive():
                    raise KernelDied from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            hook(msg)
        self._reply(msg_id)

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
        """Import the tool library in the kernel without waiting, so the first call is quick."""
        self.kc.execute("import climcopilot.sandbox.runtime as _r, "
                        "climcopilot.tools.registry as _g; _g.registry(); _r.context()",
                        silent=True)

    def _collect(self, msg: dict[str, Any], out: dict[str, Any], number: int) -> None:
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "stream":
            out["stdout"].append(content["text"])
        elif kind in ("display_data", "execute_result"):
            data = content.get("data", {})
            if MIME in data:
                payload = data[MIME]
                if "error" in payload:
                    out["error"] = payload["error"]
                if "result" in payload:
                    out["result"] = payload["result"]
                    out["figures"].extend(payload["result"].get("figures", []))
                    out["device"] = payload.get("device", "cpu")
                out["figures"].extend(payload.get("figures", []))
            elif "image/png" in data:
                out["figures"].append(self._save_png(data["image/png"], number))
            elif "text/plain" in data:
                out["stdout"].append(data["text/plain"] + "\n")
        elif kind == "error":
            error = f"{content['ename']}: {content['evalue']}".splitlines()[0].rstrip(": ")
            if content["ename"] == "MemoryError":
                error += (f" (over the kernel's {self.policy.memory_mb} MB memory cap: work in "
                          "chunks, or raise CLIMCOPILOT_KERNEL_MEMORY_MB)")
            out["error"] = error
            out["traceback"] = ANSI.sub("", "\n".join(content["traceback"][-3:]))

    def _save_png(self, b64: str, number: int) -> str:
        import base64

        folder = self.workspace / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"cell-{number}-inline-{len(list(folder.glob('*.png'))) + 1}.png"
        path.write_bytes(base64.b64decode(b64))
        return str(path)

    def _observation(self, number: int, code: str, out: dict[str, Any], wall: float,
                     restarted: bool) -> Observation:
        stdout = ANSI.sub("", "".join(out["stdout"]))
        full = None
        if len(stdout) > STDOUT_LIMIT:
            folder = self.workspace / "outputs"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"cell-{number}.txt"
            path.write_text(stdout)
            full = str(path)
            stdout = stdout[:STDOUT_LIMIT] + f"\n... [truncated; full output in {path}]"
        result = out["result"]
        ok = out["error"] is None
        return Observation(cell=number, code=code, ok=ok, stdout=stdout, error=out["error"],
                           traceback=out.get("traceback"), result=result,
                           figures=out["figures"], full_output=full, wall_s=round(wall, 4),
                           device=out.get("device", "cpu"),
                           kernel_restarted=restarted)

