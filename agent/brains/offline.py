"""The offline brain: routes a question to a recipe and runs it, with no network and no LLM.

Routing is by embedding similarity of the question to each recipe's example questions, among
the recipes whose needs the question's entities meet (named series, keywords). Memory comes
first: a verified finding about the same quantity (same recipe, series and years) answers
directly, and a skill that answered a similar question picks the recipe without routing.
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

SKILL_REUSE = 0.5  # least similarity of a question to a skill's pattern for the skill to be reused


def _slots(recipe: Recipe, memo: dict[str, Any]) -> dict[str, Any]:
    """Template slots: ``a``/``a_name``... for the series, ``years``, ``methods`` (DA methods
    named in the question) and the experiment settings it states (``N``, ``infl``, ``rot``...),
    over the recipe's defaults for what the question leaves open."""
    series, years = memo["series"], memo["years"]
    slots: dict[str, Any] = dict(recipe.defaults)
    for name, value in memo.get("settings", {}).items():
        slots[name] = bool(value) if name == "rot" else int(value) if name == "N" else value
    if memo.get("methods"):
        slots["methods"] = memo["methods"]
        slots["method"] = memo["methods"][0]
    for name in ("causal_system", "causal_tool", "system"):
        if memo.get(name):
            slots[name] = memo[name]
    for letter, key in zip("abcd", series):
        slots[letter] = key
        slots[f"{letter}_name"] = BUNDLED[key].long_name
    if years:
        slots["years"] = years
    return slots


def _fits(recipe: Recipe, entities: Entities) -> bool:
    if len(entities.series) < recipe.needs_series or not (
            recipe.needs_methods <= len(entities.methods) <= recipe.max_methods):
        return False
    if recipe.needs_causal_system and entities.causal_system is None:
        return False
    return not recipe.keywords or any(k in entities.text for k in recipe.keywords)


def _meaning_similarity(a: str, b: str) -> float:
    """Cosine similarity of two texts' embeddings (as the router scores recipe examples)."""
    va, vb = embed([a, b])
    return float(va @ vb)


def _recipe(name: str) -> Recipe:
    return next(r for r in RECIPES if r.name == name)


class OfflineBrain(Brain):
    name = "offline"

    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        entities = extract(state["question"])
        best, score, skill = self._from_skill(state, entities)
        try:
            routed, routed_score = self._route(state["question"], entities)
        except BrainError:
            if best is None:
                raise
        else:  # a skill learned on another kind of question must not beat a closer recipe
            if best is None or (routed.name != best.name
                                and routed_score > _meaning_similarity(state["question"],
                                                                       skill["pattern"])):
                best, score, skill = routed, routed_score, None
        series = entities.series[: best.needs_series]
        key = "|".join([best.name, ",".join(series), ",".join(map(str, entities.years)),
                        ",".join(entities.methods), entities.causal_system or "",
                        entities.system or "",
                        entities.causal_tool or "",
                        ",".join(f"{k}={v:g}" for k, v in sorted(entities.settings.items()))])
        memo: dict[str, Any] = {"recipe": best.name, "series": series, "years": entities.years,
                                "methods": entities.methods, "settings": entities.settings,
                                "causal_system": entities.causal_system,
                                "causal_tool": entities.causal_tool,
                                "system": entities.system,
                                "similarity": score, "key": key, "skill_key": best.name,
                                "skill_plan": {"recipe": best.name}}
        slots = _slots(best, memo)
        plan = [fill(line, slots) for line in best.plan]
        reused = next((f for f in state.get("recalled_findings", []) if f["key"] == key), None)
        if reused is not None:
            memo["from_finding"] = reused
            plan = [f"Reuse verified finding {reused['id']} (same recipe, series and years)."]
        if skill is not None:
            memo["skill"] = skill["id"]
            plan.insert(0, f"Reuse skill {skill['key']} ({skill['successes']} successes), "
                           f"learned from: {skill['pattern']!r}.")
        return plan, memo

    def _from_skill(self, state: AgentState, entities: Entities
                    ) -> tuple[Recipe | None, float, dict[str, Any] | None]:
        """The recipe of the best recalled skill that fits this question, if any."""
        for skill in state.get("recalled_skills", []):
            name = skill["plan"].get("recipe")
            fitting = [r for r in RECIPES if r.name == name and _fits(r, entities)]
            if fitting and skill["similarity"] >= SKILL_REUSE and skill["successes"] > \
                    skill["failures"]:
                return fitting[0], skill["similarity"], skill
        return None, 0.0, None

    def _route(self, question: str, entities: Entities) -> tuple[Recipe, float]:
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
        return best, score

    def decide(self, state: AgentState) -> Decision:
        memo = state["memo"]
        if "from_finding" in memo:
            finding = memo["from_finding"]
            return Finish(answer=finding["claim"], values=finding["values"],
                          units=finding["units"])
        recipe = _recipe(memo["recipe"])
        slots = _slots(recipe, memo)
        done = len(successful_results(state))
        if done >= len(recipe.steps):
            return Finish()
        step = recipe.steps[done]
        return Action(kind="tool", tool=fill(step.tool, slots),
                      arguments=fill(step.arguments, slots))

    def compose(self, state: AgentState) -> str:
        memo = state["memo"]
        if "from_finding" in memo:
            finding = memo["from_finding"]
            return (f"{finding['claim']}\n\n(Answered from memory: verified finding "
                    f"{finding['id']}, first found on {finding['created'][:10]}.)")
        recipe = _recipe(memo["recipe"])
        named = dict(zip((s.name for s in recipe.steps), successful_results(state)))
        slots = _slots(recipe, memo)
        answer = recipe.answer.format(**slots, **named)
        if "skill" in memo:
            answer += f"\n\n(Reused skill {recipe.name} from memory: {memo['skill']}.)"
        return answer
