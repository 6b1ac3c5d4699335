"""A session: one id, one workspace, one kernel, the memory, a brain, and the graph over them.

The kernel and the memory start lazily, so a refused question costs neither, and an answer
from memory starts no kernel: :meth:`Session.warm_kernel` starts it in the background once a
step is likely (nothing recalled, or the brain chose an action), and the first step waits for
it. Graph state is
checkpointed (:mod:`.checkpoints`), so :meth:`Session.resume` continues a session that stopped
midway: it replays the successful cells into a new kernel, then goes on.

With an approval policy of ``risky`` (interactive chat) a step that writes files or runs long
pauses the graph; :attr:`Session.waiting` then holds what waits, and :meth:`Session.reply`
goes on. Every run streams typed events (:mod:`.events`) to the caller's renderer.
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import Future
from typing import Any

from langgraph.types import Command

from climcopilot.agent.approval import ApprovalPolicy
from climcopilot.agent.brains.base import Brain
from climcopilot.agent.checkpoints import load_states, saver, thread_id
from climcopilot.agent.config import Settings, new_session_id
from climcopilot.agent.errors import BrainError
from climcopilot.agent.events import AnswerEvent, ApprovalEvent, Renderer, ignore
from climcopilot.agent.executor import execute
from climcopilot.agent.graph import build_graph
from climcopilot.agent.services import Services
from climcopilot.agent.spec import QuestionSpec
from climcopilot.agent.state import AgentState, initial_state
from climcopilot.agent.steps import Action, Step
from climcopilot.knowledge.memory import Memory
from climcopilot.sandbox.isolation import SandboxPolicy
from climcopilot.sandbox.kernel import KernelSession, verification_kernel
from climcopilot.sandbox.observation import Observation


def _approval(payload: dict[str, Any]) -> ApprovalEvent:
    """The approval a graph interrupt asks for (its payload is :func:`.nodes.observe`'s)."""
    return ApprovalEvent(action=payload["action"],
                         reason=payload["reason"])


class Session:
    """Everything one conversation holds. Use as a context manager to stop the kernel."""

    def __init__(self, settings: Settings, brain: Brain, session_id: str | None = None,
                 policy: SandboxPolicy | None = None,
                 approval: ApprovalPolicy | None = None) -> None:
        self.settings = settings
        self.approval = approval or ApprovalPolicy()
        self.waiting: ApprovalEvent | None = None  # the step waiting for approval, if any
        self.policy = policy or SandboxPolicy.from_env()
        self.brain = brain
        self.id = session_id or new_session_id()
        self.workspace = settings.workspace(self.id)
        self._kernel: Future[KernelSession] | None = None  # started or starting
        self._kernel_lock = threading.Lock()
        self._stopped = threading.Event()  # set by stop(): no further step of this question
        self._memory: Memory | None = None
        settings.home.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(settings.checkpoints, check_same_thread=False)
        self.graph = build_graph(saver(self._db))
        self.services = Services(brain=brain, memory=self.memory, run=self.execute,
                                 reproduce=self.reproduce, warm_kernel=self.warm_kernel,
                                 stopped=self._stopped.is_set,
                                 approval=self.approval, step_budget=settings.step_budget)
        self.questions = 0
        self.previous: QuestionSpec | None = None  # the last question's spec (follow-ups)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._kernel_lock:
            starting, self._kernel = self._kernel, None
        if starting is not None and starting.exception() is None:
            starting.result().shutdown()
        self._db.close()

    # -- what the nodes act on -------------------------------------------------------------
    def warm_kernel(self) -> None:
        """Start the kernel in a background thread unless it is started or starting (the
        kernel is its own process, so its start overlaps the memory and the brain)."""
        with self._kernel_lock:
            if self._kernel is None:
                self._kernel = Future()
                threading.Thread(target=self._start_kernel, args=(self._kernel,),
                                 daemon=True).start()

    def _start_kernel(self, into: Future[KernelSession]) -> None:
        try:
            kernel = KernelSession(self.workspace, policy=self.policy)
            kernel.warm_up()
            into.set_result(kernel)
        except BaseException as exc:  # handed to whoever waits for the kernel
            into.set_exception(exc)

    @property
    def kernel(self) -> KernelSession:
        """The session's kernel, once started (a failed start raises, and the next use tries
        again)."""
        self.warm_kernel()
        starting = self._kernel
        try:
            return starting.result()
        except BaseException:
            with self._kernel_lock:
                if self._kernel is starting:
                    self._kernel = None
            raise

    def memory(self) -> Memory:
        """The memory store, opened (and the knowledge cards indexed) on first use."""
        if self._memory is None:
            self._memory = Memory(self.settings.home)
            from climcopilot.knowledge.cards import index_cards

            index_cards(self._memory)
        return self._memory

    def execute(self, action: Action) -> Observation:
        """Run one action in the session's kernel."""
        return execute(self.kernel, action)

    def reproduce(self, steps: list[Step]) -> dict[str, float]:
        """The values ``steps`` (tool calls) produce when they run alone, in order, in a fresh
        kernel with a scratch workspace where no free code ever ran (a later step's value of
        the same name wins)."""
        values: dict[str, float] = {}
        with verification_kernel(self.policy) as kernel:
            for step in steps:
                again = Step(number=step.number, action=step.action,
                             observation=execute(kernel, step.action))
                values.update(again.values)
        return values

    def stop(self) -> None:
        """Stop the question being answered (Ctrl-C, from any thread): the running cell is
        interrupted and no further step runs; the kernel and its variables stay."""
        self._stopped.set()
        self.interrupt()

    def interrupt(self) -> None:
        """Stop the cell the kernel is running; the kernel and its variables stay."""
        starting = self._kernel
        if starting is not None and starting.done() and starting.exception() is None:
            starting.result().km.interrupt_kernel()

    # -- running questions -----------------------------------------------------------------
    def _config(self, thread: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread},
                "recursion_limit": 4 * self.settings.step_budget + 20}

    @property
    def thread(self) -> str:
        """The graph thread of the current question."""
        return thread_id(self.id, max(self.questions, 1))

    def _stream(self, inputs: AgentState | Command | None, render: Renderer) -> AgentState:
        """Run the graph until it ends or pauses for approval (then :attr:`waiting` is set);
        every event goes to ``render``, the last being the approval wait or the answer (none
        once the question is stopped: the user has moved on)."""
        self.waiting = None
        self._stopped.clear()
        config = self._config(self.thread)
        for mode, chunk in self.graph.stream(inputs, config, context=self.services,
                                             stream_mode=["custom", "updates"]):
            if mode == "custom" and not self._stopped.is_set():
                render(chunk)
            elif "__interrupt__" in chunk:
                self.waiting = _approval(chunk["__interrupt__"][0].value)
        state = self.graph.get_state(config).values
        if not self._stopped.is_set():
            render(self.waiting or AnswerEvent(status=state.get("status", "failed"),
                                               text=state.get("answer", ""),
                                               reason=state.get("reason", "")))
        return state

    def ask(self, question: str, render: Renderer = ignore) -> AgentState:
        """Answer one question; returns the final state, or the state so far when a step
        waits for approval (:attr:`waiting`)."""
        self.questions += 1
        state = self._stream(initial_state(question, self.id, self.previous), render)
        if state.get("status") != "refused" and state.get("spec") is not None:
            self.previous = state["spec"]
        return state

    def reply(self, answer: dict[str, Any], render: Renderer = ignore) -> AgentState:
        """Answer the approval the current question waits for (see :func:`.nodes.observe`)
        and go on."""
        if self.waiting is None:
            raise BrainError("no step is waiting for approval")
        return self._stream(Command(resume=answer), render)

    def resume(self, render: Renderer = ignore, rebuild: bool = False) -> AgentState:
        """Continue this session's last question from its last checkpoint (BrainError if the
        session is unknown). The successful cells of all its questions are replayed into the
        new kernel first; a question that finished needs no kernel, unless ``rebuild`` (to ask
        more questions in it). A step waiting for approval sets :attr:`waiting`."""
        states = load_states(self.settings.checkpoints, self.id)
        self.questions = len(states)
        self.previous = next((s["spec"] for s in reversed(states) if s.get("spec")), None)
        snapshot = self.graph.get_state(self._config(self.thread))
        self.waiting = _approval(snapshot.interrupts[0].value) if snapshot.interrupts else None
        if snapshot.next or rebuild:
            self.kernel.restore([s.observation for state in states
                                 for s in state.get("steps", []) if s.ok and s.observation.code])
        if snapshot.next and self.waiting is None:
            return self._stream(None, render)
        return snapshot.values
