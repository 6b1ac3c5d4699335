"""``climcopilot chat``: the terminal conversation.

Output is rendered with rich: the plan, each step as it runs (a spinner with the elapsed time,
then the step with a one-line summary of its result) and the answer as markdown, streamed as
the model writes it (an LLM brain); what the answer node adds follows, nothing twice. Input comes
from prompt_toolkit (history in ``$CLIMCOPILOT_HOME/chat_history``; Esc Enter for a new line).
A step that writes files or runs long waits for ``/approve`` (or ``/edit``, ``/reject``); the
pause is a LangGraph interrupt, so the session stays checkpointed meanwhile. Ctrl-C stops the
question at once, also while the model is answering: the running cell is interrupted and no
further step runs (the kernel, its variables and the session stay); Ctrl-C twice at an empty
prompt, Ctrl-D or ``/quit`` leaves.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from climcopilot.agent.events import (
    AnswerEvent,
    ApprovalEvent,
    Event,
    PlanEvent,
    StepEvent,
    StepStarted,
    TokenEvent,
)
from climcopilot.agent.export import export_session
from climcopilot.agent.render import Streamed, step_mark
from climcopilot.agent.session import Session
from climcopilot.agent.state import AgentState
from climcopilot.agent.steps import Action
from climcopilot.sandbox.isolation import describe

HELP = {
    "/plan": "show the plan of the current question",
    "/approve": "run the step that waits for approval",
    "/edit": "edit the waiting step (code, or tool arguments as JSON), then run it",
    "/reject": "do not run the waiting step (ends the question)",
    "/tools": "list the tools",
    "/memory [QUERY]": "what ClimCopilot remembers (the findings nearest QUERY)",
    "/export [FILE]": "write the session as a notebook (default SESSION.ipynb)",
    "/resume SESSION": "take up an earlier session (its cells are replayed)",
    "/good, /bad": "rate the last answer (scores the skill it used)",
    "/help": "this list",
    "/quit": "leave (also Ctrl-D, or Ctrl-C twice at an empty prompt)",
}


class ChatRenderer:
    """Renders events on the console; a spinner runs while a step executes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.streamed = Streamed()
        self.live: Live | None = None  # the reply streaming now, rendered as markdown

    def __call__(self, event: Event) -> None:
        if isinstance(event, TokenEvent):
            self.stream(event)
        elif isinstance(event, PlanEvent) and event.lines:
            self.console.print(Panel(Text("\n".join(f"{i}. {line}" for i, line in
                                                    enumerate(event.lines, start=1))),
                                     title="Plan", expand=False))
        elif isinstance(event, StepStarted):
            self.streamed.clear()
            self.running(event.number, event.action)
        elif isinstance(event, StepEvent):
            self.stop()
            step = event.step
            mark = {"FAILED": "[red]FAILED", "CHECK FAILED": "[yellow]CHECK FAILED",
                    "ok": "[green]ok"}[step_mark(step)]
            self.console.print(f"{mark}[/] step {step.number} "
                               f"[bold]{escape(step.action.label()[:100])}[/] "
                               f"({step.observation.wall_s:.1f} s)", highlight=False)
            self.console.print(f"     {step.brief(300)}", highlight=False, markup=False)
        elif isinstance(event, ApprovalEvent):
            self.stop()
            action = event.action
            step = action.code or "" if action.kind == "code" else action.label()
            self.console.print(Panel(Text(f"{event.reason}:\n\n{step[:1500]}\n\n/approve "
                                          "runs it, /edit changes it, /reject skips it, /plan "
                                          "shows the plan"), title="Approval needed",
                                     expand=False))
        elif isinstance(event, AnswerEvent):
            self.stop()
            rest = self.streamed.rest(event.text)
            self.streamed.clear()
            if event.text and (rest is None or rest.strip()):
                self.console.print(Markdown(event.text if rest is None else rest))
            if event.status != "done":
                self.console.print(f"[red]{event.status}[/]: {escape(event.reason)}",
                                   highlight=False)

    def stream(self, event: TokenEvent) -> None:
        """Show the reply as it comes: as markdown in a terminal (a new reply starts a new
        block), as plain text elsewhere."""
        if event.start or self.live is None:
            self.stop()
            self.live = Live(console=self.console, auto_refresh=False)
            self.live.start()
        self.streamed.add(event)
        self.live.update(Markdown(self.streamed.text) if self.console.is_terminal
                         else Text(self.streamed.text), refresh=True)

    def running(self, number: int, action: Action) -> None:
        """Show a spinner with the elapsed time while step ``number`` runs ``action``."""
        self.stop()
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                                 TimeElapsedColumn(), console=self.console, transient=True)
        self.progress.add_task(f"step {number}: {action.label()[:90]}", total=None)
        self.progress.start()

    def stop(self) -> None:
        """End the spinner and the streaming block, if any (the streamed text stays)."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.live is not None:
            self.live.stop()
            self.live = None
            if not self.console.is_terminal:  # Live leaves its last line open there
                self.console.print()


class Chat:
    """One chat: a session (replaced by ``/resume``), the console, and the input."""

    def __init__(self, open_session: Callable[[str | None], Session],
                 rate: Callable[[str, str, AgentState], str]) -> None:
        self.open_session = open_session  # a new session, or an earlier one by id
        self.rate = rate  # (session id, "good" or "bad", state) -> what was done
        self.console = Console(highlight=False)
        self.session = open_session(None)
        self.read = self._prompt_reader()
        self.printer = ChatRenderer(self.console)
        self.state: AgentState | None = None  # the current (last) question's state
        self.answering = threading.Event()  # cleared while a question is answered, see _answered
        self.answering.set()

    def _prompt_reader(self) -> Callable[[], str]:
        if not sys.stdin.isatty():
            return lambda: input("> ")
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings

        keys = KeyBindings()

        @keys.add("escape", "enter")
        def _newline(event: Any) -> None:
            event.current_buffer.insert_text("\n")

        prompt = PromptSession(history=FileHistory(str(self.session.settings.home /
                                                       "chat_history")), key_bindings=keys)
        return lambda: prompt.prompt("> ")

    def banner(self) -> None:
        s = self.session
        self.console.print(f"ClimCopilot chat, session {s.id} ({s.brain.name} brain). "
                           f"/help lists the commands; Ctrl-D leaves.", highlight=False)
        self.console.print(describe(s.policy), highlight=False, markup=False)

    def run(self) -> int:
        """The loop: read a line, answer it; returns the exit code."""
        self.banner()
        cancelled = False
        while True:
            try:
                line = self.read().strip()
            except EOFError:
                return 0
            except KeyboardInterrupt:
                if cancelled:
                    return 0
                cancelled = True
                self.console.print("(Ctrl-C again or /quit to leave)")
                continue
            cancelled = False
            if line in ("/quit", "/exit"):
                return 0
            if line:
                self.handle(line)

    def _answered(self, call: Callable[[], AgentState | None]) -> AgentState | None:
        """``call()`` (a question, a reply, a resume) in a worker thread while this one waits,
        so Ctrl-C is seen at once, also while a model request is pending: the question is then
        stopped (the running cell interrupted, no further step run) and KeyboardInterrupt
        raised here; the worker ends on its own, and the next line waits for it."""
        outcome: dict[str, Any] = {}
        done = threading.Event()  # not Thread.join: Ctrl-C inside join can mark it ended

        def work() -> None:
            try:
                outcome["state"] = call()
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc
            finally:
                done.set()

        self.answering = done
        threading.Thread(target=work, daemon=True).start()
        try:
            while not done.wait(0.1):
                pass
        except KeyboardInterrupt:
            self.session.stop()
            raise
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("state")

    def _finish_stopped(self) -> None:
        """Wait for a question stopped earlier to end (its pending model request)."""
        if not self.answering.is_set():
            self.console.print("(waiting for the stopped question to end)")
            while not self.answering.wait(0.1):
                pass

    def handle(self, line: str) -> None:
        """One line: a slash command or a question. Ctrl-C stops what runs."""
        try:
            self._finish_stopped()
            if line.startswith("/"):
                self.command(*line.split(maxsplit=1))
            else:
                self.show(self._answered(lambda: self.session.ask(line, self.printer)))
        except KeyboardInterrupt:
            self.printer.stop()
            self.console.print("[yellow]Interrupted[/]: the question was stopped (a running "
                               f"step interrupted, no further step run); session "
                               f"{self.session.id} and its variables are intact.")
        except Exception as exc:  # one line per failure; the chat goes on
            self.printer.stop()
            self.console.print(f"[red]error[/]: {escape(str(exc))}", highlight=False)

    def show(self, state: AgentState | None) -> None:
        """After a run: keep its state (the renderer has shown the answer or the wait)."""
        self.printer.stop()
        self.state = state

    def command(self, name: str, arg: str = "") -> None:
        session = self.session
        if name == "/help":
            for command, what in HELP.items():
                self.console.print(f"  {command:18s} {what}", highlight=False, markup=False)
        elif name == "/plan":
            plan = (self.state or {}).get("plan") or []
            self.console.print("\n".join(f"{i}. {p}" for i, p in enumerate(plan, start=1))
                               or "no plan yet: ask a question", markup=False)
        elif name in ("/approve", "/reject", "/edit"):
            if session.waiting is None:
                self.console.print("no step is waiting for approval")
                return
            reply = {"approve": name != "/reject"}
            if name == "/edit":
                reply.update(self._edit(session.waiting.action))
            self.show(self._answered(lambda: session.reply(reply, self.printer)))
        elif name == "/tools":
            from climcopilot.tools.registry import listing

            for tool in listing():
                self.console.print(f"  {tool.name:28s} {tool.first_line()}", markup=False)
        elif name == "/memory":
            memory = session.memory
            rows = (memory.search(arg, k=5) if arg else
                    [(r, None) for r in list(memory.records.values())[-10:]])
            for record, _ in rows:
                self.console.print(f"  {record.summary()}", markup=False)
            if not rows:
                self.console.print("memory is empty")
        elif name == "/export":
            target = Path(arg or f"{session.id}.ipynb").expanduser()
            if target.suffix != ".ipynb":
                raise ValueError(f"{target} must end in .ipynb")
            path, cells = export_session(session.settings.checkpoints, session.id, target,
                                         session.workspace)
            self.console.print(f"wrote {path} ({cells} code cells)", highlight=False)
        elif name == "/resume":
            if not arg:
                raise ValueError("/resume needs a session id, e.g. /resume 20260101-120000-abc123")
            new = self.open_session(arg)
            try:
                state = self._answered(lambda: new.resume(self.printer, rebuild=True))
            except BaseException:
                new.close()
                raise
            session.close()
            self.session = new
            self.console.print(f"resumed session {new.id} ({new.questions} questions)")
            self.show(state)
        elif name in ("/good", "/bad"):
            if self.state is None:
                self.console.print("nothing to rate yet")
            else:
                self.console.print(self.rate(session.id, name[1:], self.state), markup=False)
        else:
            self.console.print(f"unknown command {name}; /help lists the commands")

    def _edit(self, action: Action) -> dict[str, Any]:
        """The user's edit of a waiting step: new code, or new arguments (JSON)."""
        from prompt_toolkit import prompt

        if action.kind == "code":
            return {"code": prompt("code (Esc Enter to finish)> ", default=action.code or "",
                                   multiline=True)}
        text = prompt("arguments (JSON)> ", default=json.dumps(action.arguments))
        try:
            return {"arguments": json.loads(text)}
        except json.JSONDecodeError as exc:
            raise ValueError(f"the arguments are not valid JSON ({exc}); /edit again") from None

    def close(self) -> None:
        self.printer.stop()
        self.session.close()
