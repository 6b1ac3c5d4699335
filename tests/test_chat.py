"""``climcopilot chat`` driven through a real terminal (tmux): plan, approval, streamed steps,
the answer, /export, and Ctrl-C during a long step; and the approval pause itself."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import package_indices, soi_nino3_from_package_files
from fake_openai import FakeOpenAI
from nbclient import NotebookClient

from climcopilot.agent.approval import ApprovalPolicy, approval_reason
from climcopilot.agent.brains.scripted import ScriptedBrain
from climcopilot.agent.config import load_settings
from climcopilot.agent.export import export_session
from climcopilot.agent.session import Session
from climcopilot.agent.steps import Action

TMUX = shutil.which("tmux")
# The code step sleeps on the second question (so Ctrl-C has a long step to stop) and writes a
# file (so it waits for /approve). `asked` lives in the kernel: it counts on only if the kernel
# and its variables survive the interrupt.
CODE = """\
import time
import numpy as np
asked = globals().get('asked', 0) + 1
if asked == 2:
    time.sleep(300)
both = soi.to_series().to_frame('soi').join(nino3.to_series().rename('nino3'), how='inner')
both.to_csv('soi_nino3.csv')
print('question', asked, 'r =', repr(float(np.corrcoef(both.soi, both.nino3)[0, 1])))"""
SCRIPT = [{"tool": "data.open_series", "arguments": {"name": "soi"}},
          {"tool": "data.open_series", "arguments": {"name": "nino3"}},
          {"code": CODE},
          {"answer": "The correlation is printed by step 3."}]
QUESTION = "Correlate the SOI with the Nino-3 SST anomaly"


class Terminal:
    """One tmux pane on a private server socket."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        return subprocess.run([TMUX, "-S", str(self.socket), *args], check=True,
                              capture_output=True, text=True).stdout

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "chat", *keys)

    def screen(self) -> str:
        """Everything the pane shows and scrolled past, wrapped lines joined."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "chat")

    def wait_for_prompt(self, timeout: float = 60) -> None:
        """Poll until the chat waits at an empty prompt (its last line is ``>``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = [line for line in self.tmux("capture-pane", "-p", "-t", "chat").splitlines()
                     if line.strip()]
            if lines and lines[-1].strip() == ">":
                return
            time.sleep(0.3)
        raise AssertionError(f"no prompt within {timeout} s:\n{self.screen()}")

    def wait_for(self, text: str, count: int = 1, timeout: float = 120) -> str:
        """Poll the pane until ``text`` shows ``count`` times; fail with the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(text) >= count:
                return screen
            time.sleep(0.3)
        raise AssertionError(f"{text!r} (x{count}) not shown within {timeout} s:\n{screen}")


def start_chat(home: Path, tmp_path: Path, *options: str, env: tuple[str, ...] = ()) -> Terminal:
    """``climcopilot chat OPTIONS`` in a new tmux pane, in ``tmp_path`` (``env``: more
    ``NAME=value`` for it)."""
    if TMUX is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    term = Terminal(tmp_path / "tmux.sock")
    # The pane's size, not the COLUMNS/LINES a test runner may have set, is the terminal's.
    command = shlex.join(["env", "-u", "COLUMNS", "-u", "LINES", f"CLIMCOPILOT_HOME={home}",
                          "LANG=C.UTF-8", *env, sys.executable, "-m", "climcopilot.agent.cli",
                          "chat", *options])
    command = f"cd {shlex.quote(str(tmp_path))} && exec {command}"
    term.tmux("new-session", "-d", "-s", "chat", "-x", "180", "-y", "50", command)
    return term


@pytest.fixture
def terminal(home: Path, tmp_path: Path) -> Iterator[Terminal]:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(SCRIPT))
    term = start_chat(home, tmp_path, "--brain", "scripted", "--script", str(script))
    try:
        yield term
    finally:
        subprocess.run([TMUX, "-S", str(term.socket), "kill-server"], capture_output=True)


def correlation_over(a: pd.Series, b: pd.Series, first: int, last: int) -> float:
    """r of two series keyed YYYYMM over the months both cover in years first..last."""
    both = pd.concat([a, b], axis=1, join="inner").dropna()
    both = both[(both.index >= first * 100) & (both.index <= last * 100 + 12)]
    return float(np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1])


def test_follow_ups_in_chat_refine_the_question_before(home: Path, tmp_path: Path) -> None:
    """A question, then "And over 1980-2000 only?", then "What about Niño-3.4 instead?":
    each answer is the earlier question with the refinement, checked against correlations
    read from the package files with pandas."""
    soi, nino3, nino34 = package_indices()
    term = start_chat(home, tmp_path, "--brain", "offline", "--yes")
    try:
        term.wait_for("/help lists the commands")
        answers = []
        for n, question in enumerate(["What is the correlation between the SOI and the "
                                      "Niño-3 SST anomaly?", "And over 1980-2000 only?",
                                      "What about Niño-3.4 instead?"], start=1):
            term.send(question, "Enter")
            screen = term.wait_for("How to reproduce", count=n, timeout=240)
            answers.append(screen.split("How to reproduce")[n - 1].rsplit(question, 1)[-1])
        rs = [float(re.search(r"correlate at r = (-?\d\.\d+)", a).group(1)) for a in answers]
        assert abs(rs[0] - correlation_over(soi, nino3, 1951, 2003)) < 0.006
        assert abs(rs[1] - correlation_over(soi, nino3, 1980, 2000)) < 0.006
        assert abs(rs[2] - correlation_over(soi, nino34, 1980, 2000)) < 0.006
        assert "1980 to 2000" in answers[1] and "1980 to 2000" in answers[2]
        assert "Nino-3.4" in answers[2] and "refused" not in " ".join(answers)
    finally:
        subprocess.run([TMUX, "-S", str(term.socket), "kill-server"], capture_output=True)


def test_chat_in_a_terminal_approves_exports_and_survives_ctrl_c(terminal: Terminal,
                                                                  tmp_path: Path) -> None:
    _, r_direct = soi_nino3_from_package_files()
    terminal.wait_for("/help lists the commands")
    terminal.send(QUESTION, "Enter")
    screen = terminal.wait_for("Approval needed")
    # The plan came first, then the two tool steps streamed; the file-writing step waits.
    assert screen.index("Plan") < screen.index("ok step 1 data.open_series")
    assert "ok step 2 data.open_series" in screen and "question 1" not in screen
    assert "this code writes files" in screen

    terminal.send("/approve", "Enter")
    screen = terminal.wait_for("How to reproduce")
    printed = re.search(r"question 1 r = (\S+)", screen)
    assert printed and abs(float(printed.group(1)) - r_direct) < 1e-9
    assert "The correlation is printed by step 3." in screen

    notebook = tmp_path / "exported.ipynb"
    terminal.send(f"/export {notebook}", "Enter")
    terminal.wait_for(f"wrote {notebook}")
    nb = nbformat.read(str(notebook), as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(f"question 1 r = {printed.group(1)}" in o.get("text", "") for o in outputs)

    # Second question: its code step sleeps; Ctrl-C stops it and the prompt comes back.
    terminal.send(QUESTION, "Enter")
    terminal.wait_for("Approval needed", count=2)
    terminal.send("/approve", "Enter")
    terminal.wait_for("step 3: code")  # the spinner of the running step
    time.sleep(1.0)
    started = time.monotonic()
    terminal.send("C-c")
    terminal.wait_for("Interrupted", timeout=30)
    assert time.monotonic() - started < 30

    # The session and its kernel variables survived: the third question counts on.
    terminal.send(QUESTION, "Enter")
    terminal.wait_for("Approval needed", count=3)
    terminal.send("/approve", "Enter")
    screen = terminal.wait_for("How to reproduce", count=2)
    assert "question 3 r =" in screen

    # Ctrl-C at an empty prompt warns; a second one leaves.
    terminal.wait_for_prompt()
    terminal.send("C-c")
    terminal.wait_for("Ctrl-C again or /quit to leave")
    terminal.send("C-c")
    deadline = time.monotonic() + 30
    while "chat" in subprocess.run([TMUX, "-S", str(terminal.socket), "ls"],
                                   capture_output=True, text=True).stdout:
        assert time.monotonic() < deadline, "chat did not exit on the second Ctrl-C"
        time.sleep(0.3)


def test_approval_edits_refusals_and_resume(home: Path, tmp_path: Path) -> None:
    writes = {"code": "open('x.txt', 'w').write('1')\nprint('wrote')"}
    brain = ScriptedBrain([writes, {"answer": "done"}])
    with Session(load_settings("scripted"), brain, approval=ApprovalPolicy("risky")) as session:
        state = session.ask("Write the SOI to a file")
        assert session.waiting is not None and session.waiting.reason == "this code writes files"
        assert state["steps"] == []  # nothing ran before the approval
        # The pause is a LangGraph interrupt, checkpointed before the step.
        snapshot = session.graph.get_state({"configurable": {"thread_id": session.thread}})
        assert snapshot.next == ("observe",) and snapshot.interrupts
        state = session.reply({"approve": True, "code": "kept = 6 * 7\nprint(kept)"})
        assert session.waiting is None
        assert state["steps"][0].observation.stdout.strip() == "42"  # the edited code ran
        # ... and never read the SOI the question names: the answer is partial and says so.
        assert state["status"] == "partial" and "series soi" in state["reason"]
        assert not (session.workspace / "x.txt").exists()

        session.ask("Write the SOI to a file again")
        state = session.reply({"approve": False})
        assert state["status"] == "failed" and "did not approve" in state["reason"]
        assert state["steps"] == []

    # /resume: a new kernel gets the session's cells replayed, and questions go on after them.
    with Session(load_settings("scripted"), brain, session.id,
                 approval=ApprovalPolicy("risky")) as again:
        again.resume(rebuild=True)
        assert again.questions == 2
        again.ask("Print the SOI value that was kept")
        state = again.reply({"approve": True, "code": "print(kept + 1)"})
        assert state["steps"][0].observation.stdout.strip() == "43"
        assert again.thread == f"{session.id}/3"
    path, cells = export_session(load_settings().checkpoints, session.id, tmp_path / "all.ipynb",
                                 session.workspace)
    assert cells == 2 and "print(kept + 1)" in path.read_text()


def test_which_steps_need_approval() -> None:
    def reason(**action: object) -> str | None:
        return approval_reason(Action.model_validate(action))

    assert reason(kind="code", code="ds.to_netcdf('out.nc')") == "this code writes files"
    assert reason(kind="code", code="with open(p, 'w') as f:\n    f.write('x')")
    assert reason(kind="code", code="import time\ntime.sleep(60)") == "this code may run long"
    assert reason(kind="code", code="print(open('data.csv').read())") is None
    assert reason(kind="tool", tool="emulators.train", arguments={}) is not None
    assert reason(kind="tool", tool="data.open_series", arguments={"name": "soi"}) is None


def test_ctrl_c_while_the_model_answers_stops_the_question_at_once(home: Path,
                                                                   tmp_path: Path) -> None:
    # The model takes 20 s for its first reply: Ctrl-C must not wait for it. The next question
    # waits for the stopped one to end, then is answered by the (now quick) model.
    replies = [{"delay": 20, "content": "too late"}, {"content": "The answer is forty-two."}]
    with FakeOpenAI(replies) as server:
        term = start_chat(home, tmp_path, "--brain", "openai",
                          env=(f"OPENAI_BASE_URL={server.base_url}", "CLIMCOPILOT_LLM_RETRIES=0"))
        try:
            term.wait_for("/help lists the commands")
            term.send("Why is the sky blue?", "Enter")
            deadline = time.monotonic() + 30
            while not server.requests:
                assert time.monotonic() < deadline, "the model was never asked"
                time.sleep(0.2)
            started = time.monotonic()
            term.send("C-c")
            screen = term.wait_for("Interrupted", timeout=15)
            assert time.monotonic() - started < 5, "Ctrl-C waited for the model's reply"
            assert "too late" not in screen
            term.send("And the sea?", "Enter")
            screen = term.wait_for("forty-two", timeout=60)
            assert "waiting for the stopped question to end" in screen
            assert "too late" not in screen
        finally:
            subprocess.run([TMUX, "-S", str(term.socket), "kill-server"], capture_output=True)
