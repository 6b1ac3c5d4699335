"""What the graph's nodes act on, handed to them as LangGraph's runtime context: the brain,
the memory, the kernel (through ``run`` and ``reproduce``), the approval policy and the step
budget. A :class:`~climcopilot.agent.session.Session` builds one; a test can build one from
fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from climcopilot.agent.approval import ApprovalPolicy
from climcopilot.agent.brains.base import Brain
from climcopilot.agent.steps import Action, Step
from climcopilot.knowledge.memory import Memory
from climcopilot.sandbox.observation import Observation


def _nothing() -> None:
    return None


def _never() -> bool:
    return False


@dataclass
class Services:
    """``memory()`` opens the store on first use; ``run(action)`` runs a step in the
    session's kernel; ``reproduce(steps)`` replays tool steps in a fresh kernel and returns
    the values they produce; ``warm_kernel()`` starts the kernel in the background, called
once a step is likely (the first ``run`` waits for it); ``stopped()`` is True once the user
stopped the question (no further step runs)."""

    brain: Brain
    memory: Callable[[], Memory]
    run: Callable[[Action], Observation]
    reproduce: Callable[[list[Step]], dict[str, float]]
    warm_kernel: Callable[[], None] = _nothing
    stopped: Callable[[], bool] = _never
    approval: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    step_budget: int = 12
