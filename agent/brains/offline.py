"""The offline brain: routes a question to a recipe and runs it, with no network and no LLM.

Routing is by embedding similarity of the question to each recipe's example questions, among
the recipes whose needs the question's entities meet (e.g. two named series).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from climcopilot.agent.brains.base import Brain, BrainError, successful_results
from climcopilot.agent.entities import extract
from climcopilot.agent.recipes import RECIPES, Recipe, fill
from climcopilot.agent.state import Action, AgentState, Decision, Finish
from climcopilot.knowledge.embedder import embed
from climcopilot.tools.data.bundled import BUNDLED


def _slots(series: list[str]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for letter, key in zip("abcd", series):
        slots[letter] = key
        slots[f"{letter}_name"] = BUNDLED[key].long_name
    return slots


def _recipe(name: str) -> Recipe:
    return next(r for r in RECIPES if r.name == name)


class OfflineBrain(Brain):
    name = "offline"

    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        question = state["question"]
        series = extract(question).series
        candidates = [r for r in RECIPES if len(series) >= r.needs_series]
        if not candidates:
            known = ", ".join(BUNDLED)
            raise BrainError("the offline brain has no recipe for this question; name two "
                             f"bundled series ({known}) or set OPENAI_BASE_URL to use an LLM")
        vectors = embed([question, *(e for r in candidates for e in r.examples)])
        scores, i = [], 1
        for r in candidates:
            scores.append(float(np.max(vectors[i:i + len(r.examples)] @ vectors[0])))
            i += len(r.examples)
        best = candidates[int(np.argmax(scores))]
        chosen = series[: best.needs_series]
        plan = [fill(line, _slots(chosen)) for line in best.plan]
        return plan, {"recipe": best.name, "series": chosen, "similarity": max(scores)}

    def decide(self, state: AgentState) -> Decision:
        memo = state["memo"]
        recipe, slots = _recipe(memo["recipe"]), _slots(memo["series"])
        done = len(successful_results(state))
        if done >= len(recipe.steps):
            return Finish()
        step = recipe.steps[done]
        return Action(kind="tool", tool=step.tool, arguments=fill(step.arguments, slots))

    def compose(self, state: AgentState) -> str:
        memo = state["memo"]
        recipe = _recipe(memo["recipe"])
        named = dict(zip((s.name for s in recipe.steps), successful_results(state)))
        return recipe.answer.format(**_slots(memo["series"]), **named)
