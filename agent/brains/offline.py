"""The offline brain: routes a question to a recipe and runs it, with no network and no LLM.

Routing is by embedding similarity of the question to each recipe's example questions, among
the recipes whose needs the question's entities meet (named series, keywords).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from climcopilot.agent.brains.base import Brain, BrainError, successful_results
from climcopilot.agent.entities import Entities, extract
from climcopilot.agent.recipes import RECIPES, Recipe, fill
from climcopilot.agent.state import Action, AgentState, Decision, Finish
from climcopilot.knowledge.embedder import embed
from climcopilot.tools.data.bundled import BUNDLED


def _slots(recipe: Recipe, series: list[str], years: list[int]) -> dict[str, Any]:
    """Template slots: ``a``/``a_name``... for the series, ``years``, then the defaults."""
    slots: dict[str, Any] = dict(recipe.defaults)
    for letter, key in zip("abcd", series):
        slots[letter] = key
        slots[f"{letter}_name"] = BUNDLED[key].long_name
    if years:
        slots["years"] = years
    return slots


def _fits(recipe: Recipe, entities: Entities) -> bool:
    if len(entities.series) < recipe.needs_series:
        return False
    return not recipe.keywords or any(k in entities.text for k in recipe.keywords)


def _recipe(name: str) -> Recipe:
    return next(r for r in RECIPES if r.name == name)


class OfflineBrain(Brain):
    name = "offline"

    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        question = state["question"]
        entities = extract(question)
        candidates = [r for r in RECIPES if _fits(r, entities)]
        scores = []
        if candidates:
            vectors = embed([question, *(e for r in candidates for e in r.examples)])
            i = 1
            for r in candidates:
                scores.append(float(np.max(vectors[i:i + len(r.examples)] @ vectors[0])))
                i += len(r.examples)
        ranked = sorted(zip(scores, candidates), key=lambda p: -p[0])
        chosen = [(s, r) for s, r in ranked if s >= r.min_similarity]
        if not chosen:
            raise BrainError("the offline brain has no recipe for this question; name two "
                             f"bundled series ({', '.join(BUNDLED)}), see README for the "
                             "questions it answers, or set OPENAI_BASE_URL to use an LLM")
        score, best = chosen[0]
        memo = {"recipe": best.name, "series": entities.series[: best.needs_series],
                "years": entities.years, "similarity": score}
        slots = _slots(best, memo["series"], memo["years"])
        return [fill(line, slots) for line in best.plan], memo

    def decide(self, state: AgentState) -> Decision:
        memo = state["memo"]
        recipe = _recipe(memo["recipe"])
        slots = _slots(recipe, memo["series"], memo["years"])
        done = len(successful_results(state))
        if done >= len(recipe.steps):
            return Finish()
        step = recipe.steps[done]
        return Action(kind="tool", tool=step.tool, arguments=fill(step.arguments, slots))

    def compose(self, state: AgentState) -> str:
        memo = state["memo"]
        recipe = _recipe(memo["recipe"])
        named = dict(zip((s.name for s in recipe.steps), successful_results(state)))
        slots = _slots(recipe, memo["series"], memo["years"])
        return recipe.answer.format(**slots, **named)
