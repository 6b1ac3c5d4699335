"""The offline brain: routes a question to a recipe and runs it, with no network and no LLM.

Routing is by embedding similarity of the question to each recipe's example questions, among
the recipes whose needs the question's spec meets (named series, keywords). Memory comes
first: a verified finding about the same quantity (same recipe, series and years) answers
directly, and a skill that answered a similar question picks the recipe without routing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from climcopilot.agent.brains.base import Brain
from climcopilot.agent.brains.offline.recipes import RECIPES, Recipe, fill
from climcopilot.agent.errors import BrainError
from climcopilot.agent.spec import QuestionSpec, term_label
from climcopilot.agent.state import AgentState, RecalledSkill
from climcopilot.agent.steps import Action, Decision, Finish, tool_results
from climcopilot.knowledge.embedder import embed
from climcopilot.tools.data.vocabulary import SERIES

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
        slots[f"{letter}_name"] = term_label("series", key)
    if years:
        slots["years"] = years
    return slots


def _fits(recipe: Recipe, spec: QuestionSpec) -> bool:
    if len(spec.series) < recipe.needs_series or not (
            recipe.needs_methods <= len(spec.methods) <= recipe.max_methods):
        return False
    if recipe.needs_causal_system and spec.causal_system is None:
        return False
    return not recipe.keywords or any(k in spec.text for k in recipe.keywords)


def _meaning_similarity(a: str, b: str) -> float:
    """Cosine similarity of two texts' embeddings (as the router scores recipe examples)."""
    va, vb = embed([a, b])
    return float(va @ vb)


def _recipe(name: str) -> Recipe:
    return next(r for r in RECIPES if r.name == name)


class OfflineBrain(Brain):
    name = "offline"

    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        spec = state["spec"]
        best, score, skill = self._from_skill(state, spec)
        try:
            routed, routed_score = self._route(state["question"], spec)
        except BrainError:
            if best is None:
                raise
        else:  # a skill learned on another kind of question must not beat a closer recipe
            if best is None or skill is None or (
                    routed.name != best.name
                    and routed_score > _meaning_similarity(state["question"],
                                                           skill.skill.pattern)):
                best, score, skill = routed, routed_score, None
        series = spec.series[: best.needs_series]
        key = "|".join([best.name, ",".join(series), ",".join(map(str, spec.years)),
                        ",".join(spec.methods), spec.causal_system or "", spec.system or "",
                        spec.causal_tool or "",
                        ",".join(f"{k}={v:g}" for k, v in sorted(spec.settings.items()))])
        memo: dict[str, Any] = {"recipe": best.name, "series": series, "years": spec.years,
                                "methods": spec.methods, "settings": spec.settings,
                                "causal_system": spec.causal_system,
                                "causal_tool": spec.causal_tool, "system": spec.system,
                                "similarity": score, "key": key, "skill_key": best.name,
                                "skill_plan": {"recipe": best.name}}
        slots = _slots(best, memo)
        plan = [fill(line, slots) for line in best.plan]
        recall = state.get("recall")
        reused = next((f for f in (recall.findings if recall else []) if f.key == key), None)
        if reused is not None:
            memo["from_finding"] = reused.model_dump()
            plan = [f"Reuse verified finding {reused.id} (same recipe, series and years)."]
        if skill is not None:
            memo["skill"] = skill.skill.id
            plan.insert(0, f"Reuse skill {skill.skill.key} ({skill.skill.successes} "
                           f"successes), learned from: {skill.skill.pattern!r}.")
        return plan, memo

    def _from_skill(self, state: AgentState, spec: QuestionSpec
                    ) -> tuple[Recipe | None, float, RecalledSkill | None]:
        """The recipe of the best recalled skill that fits this question, if any."""
        recall = state.get("recall")
        for recalled in recall.skills if recall else []:
            skill = recalled.skill
            name = skill.plan.get("recipe")
            fitting = [r for r in RECIPES if r.name == name and _fits(r, spec)]
            if fitting and recalled.similarity >= SKILL_REUSE and skill.successes > \
                    skill.failures:
                return fitting[0], recalled.similarity, recalled
        return None, 0.0, None

    def _route(self, question: str, spec: QuestionSpec) -> tuple[Recipe, float]:
        candidates = [r for r in RECIPES if _fits(r, spec)]
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
                             f"bundled series ({', '.join(s.key for s in SERIES)}), see "
                             "README for the questions it answers, or set OPENAI_BASE_URL "
                             "to use an LLM")
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
        done = len(tool_results(state.get("steps", [])))
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
        named = dict(zip((s.name for s in recipe.steps), tool_results(state.get("steps", []))))
        slots = _slots(recipe, memo)
        answer = recipe.answer.format(**slots, **named)
        if "skill" in memo:
            answer += f"\n\n(Reused skill {recipe.name} from memory: {memo['skill']}.)"
        return answer
