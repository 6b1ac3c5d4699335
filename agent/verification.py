"""What an answer may call verified: the numbers its steps produced, the checks those results
carry, and whether the kernel that produced them could have been tampered with.

A number is verified only when a typed tool produced it, its result's checks passed, it is
finite, and it came from a tool cell the host rendered in a kernel where no free code had run
(``Observation.trusted``). A number from a kernel where free code ran first is reproduced:
the tool steps alone are replayed in a fresh sandboxed kernel and must give the same values
(:func:`reproduce`); otherwise the answer is unverified and not remembered.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from climcopilot.agent.state import Evidence
from climcopilot.agent.steps import Finish, Step, figures_of

REPRODUCE_RTOL = 1e-6  # relative difference allowed between a value and its reproduction


def collect(steps: list[Step]) -> Evidence:
    """Every value of every successful tool step (a later step's value of the same name wins),
    with its unit and step; the problems found: failed checks, non-finite values."""
    evidence = Evidence(figures=figures_of(steps))
    for step in steps:
        evidence.problems += step.failed_checks()
        for name, value in step.values.items():
            if value is None or not math.isfinite(value):  # NaN reaches us as JSON null
                evidence.problems.append(f"{name} is not finite (step {step.number})")
                continue
            evidence.values[name] = value
            evidence.units[name] = step.units.get(name, "")
            evidence.value_steps[name] = step.number
    evidence.verified = not evidence.problems and bool(evidence.value_steps)
    return evidence


def from_memory(final: Finish) -> Evidence:
    """The evidence of an answer reused from a verified finding (numbers from memory)."""
    return Evidence(values=final.values, units=final.units, verified=True)


def untrusted_steps(steps: list[Step], evidence: Evidence) -> list[Step]:
    """The steps behind the evidence's numbers that ran where free code could have
    tampered with the kernel (or were not host-rendered tool cells)."""
    behind = set(evidence.value_steps.values())
    return [s for s in steps if s.number in behind and not s.observation.trusted]


def mismatches(evidence: Evidence, reproduced: dict[str, float]) -> list[str]:
    """The evidence's values that a reproduction did not give back (within
    :data:`REPRODUCE_RTOL`), as problem lines."""
    problems = []
    for name, value in evidence.values.items():
        again = reproduced.get(name)
        if again is None:
            problems.append(f"{name} could not be reproduced without the free code steps")
        elif abs(again - value) > REPRODUCE_RTOL * max(abs(value), abs(again), 1e-12):
            problems.append(f"{name} = {value:.6g} did not reproduce ({again:.6g} when the tool "
                            "steps ran alone in a fresh kernel)")
    return problems


def reproduce(steps: list[Step], evidence: Evidence,
              replay: Callable[[list[Step]], dict[str, float]]) -> Evidence:
    """``evidence`` checked against a replay of the tool steps alone (``replay`` runs them in a
    fresh kernel and returns the values they produce): verified only if every value
    reproduces."""
    if not evidence.verified or not untrusted_steps(steps, evidence):
        return evidence
    tool_steps = [s for s in steps if s.action.kind == "tool" and s.ok]
    problems = mismatches(evidence, replay(tool_steps))
    return evidence.model_copy(update={"problems": evidence.problems + problems,
                                       "verified": not problems})
