"""Recipes as plans: which recipe answers a question the composer does not cover (the one
for its quantity, else the closest in meaning among those whose needs it meets, or a learned
skill), and the plan a recipe makes for it."""

from __future__ import annotations

from typing import Any

import numpy as np

from climcopilot.agent.brains.offline.plans import Plan, PlannedStep
from climcopilot.agent.brains.offline.recipes import RECIPES, Recipe, fill
from climcopilot.agent.errors import BrainError
from climcopilot.agent.spec import QuestionSpec, term_label
from climcopilot.agent.state import RecalledSkill
from climcopilot.knowledge.embedder import embed
from climcopilot.tools.data.vocabulary import SERIES
from climcopilot.tools.errors import ToolError
from climcopilot.tools.manifest import entry
from climcopilot.tools.registry import get_tool

SKILL_REUSE = 0.5  # least similarity of a question to a skill's pattern for the skill to be reused


def slots(recipe: Recipe, spec: QuestionSpec) -> dict[str, Any]:
    """Template slots: ``a``/``a_name``... for the series, ``years``, ``methods`` (DA methods
    named in the question), the experiment settings and model parameters it states (``N``,
    ``infl``, ``rot``, ``F``...), over the recipe's defaults for what the question leaves
    open."""
    filled: dict[str, Any] = dict(recipe.defaults)
    filled.update(spec.system_params)
    for name, value in spec.settings.items():
        filled[name] = bool(value) if name == "rot" else int(value) if name == "N" else value
    if spec.methods:
        filled["methods"] = spec.methods
        filled["method"] = spec.methods[0]
    for name in ("causal_system", "causal_tool", "system"):
        if getattr(spec, name):
            filled[name] = getattr(spec, name)
    for letter, key in zip("abcd", spec.series[: max(recipe.needs_series, 1)]):
        filled[letter] = key
        filled[f"{letter}_name"] = term_label("series", key)
    if spec.years:
        filled["years"] = spec.years
    return filled


def fits(recipe: Recipe, spec: QuestionSpec) -> bool:
    """The question meets the recipe's needs (series, methods, system, a keyword)."""
    if len(spec.series) < recipe.needs_series or not (
            recipe.needs_methods <= len(spec.methods) <= recipe.max_methods):
        return False
    if recipe.needs_causal_system and spec.causal_system is None:
        return False
    return not recipe.keywords or any(k in spec.text for k in recipe.keywords)


def meaning_similarity(a: str, b: str) -> float:
    """Cosine similarity of two texts' embeddings (as the router scores recipe examples)."""
    va, vb = embed([a, b])
    return float(va @ vb)


def recipe_named(name: str) -> Recipe:
    return next(r for r in RECIPES if r.name == name)


def from_skill(skills: list[RecalledSkill], spec: QuestionSpec
               ) -> tuple[Recipe | None, float, RecalledSkill | None]:
    """The recipe of the best recalled skill that fits this question, if any."""
    for recalled in skills:
        skill = recalled.skill
        fitting = [r for r in RECIPES if r.name == skill.plan.get("recipe") and fits(r, spec)]
        if fitting and recalled.similarity >= SKILL_REUSE and skill.successes > skill.failures:
            return fitting[0], recalled.similarity, recalled
    return None, 0.0, None


def route(question: str, spec: QuestionSpec) -> tuple[Recipe, float]:
    """The recipe for this question: among those that fit, the ones for its quantity first,
    then the closest in meaning to the question (BrainError when none is close enough)."""
    candidates = [r for r in RECIPES if fits(r, spec)]
    for_quantity = [r for r in candidates if spec.quantity and r.quantity == spec.quantity]
    candidates = for_quantity or candidates
    scores = []
    if candidates:
        vectors = embed([question, *(e for r in candidates for e in r.examples)])
        i = 1
        for r in candidates:
            scores.append(float(np.max(vectors[i:i + len(r.examples)] @ vectors[0])))
            i += len(r.examples)
    ranked = sorted(zip(scores, candidates), key=lambda p: -p[0])
    chosen = [(s, r) for s, r in ranked if s >= r.min_similarity or r in for_quantity]
    if not chosen:
        raise BrainError(what_i_can_do(spec))
    score, best = chosen[0]
    return best, score


def what_i_can_do(spec: QuestionSpec) -> str:
    """A one-line refusal that says what is possible with what the question named."""
    if spec.series:
        named = ", ".join(term_label("series", s) for s in spec.series)
        return (f"the offline brain cannot tell what to compute for {named}; ask for its "
                "trend, mean, range, extremes, autocorrelation, seasonal cycle or dominant "
                "period, its correlation with another series, or what leads it")
    if spec.system:
        return (f"the offline brain cannot tell what to compute for "
                f"{term_label('dynamical_system', spec.system)}; ask for its Lyapunov "
                "exponents, Kaplan-Yorke dimension, error-doubling time, long-run mean and "
                "standard deviation, an emulator's skill, or a DA twin experiment on it")
    return ("the offline brain has no plan for this question; name a bundled series ("
            + ", ".join(s.key for s in SERIES) + "), a field, a dynamical system or a DA "
            "method (see README), or set OPENAI_BASE_URL to use an LLM")


def recipe_key(recipe: Recipe, spec: QuestionSpec) -> str:
    """What a recipe's answer is about: the recipe and everything it took from the question."""
    series = spec.series[: recipe.needs_series]
    return "|".join([recipe.name, ",".join(series), ",".join(map(str, spec.years)),
                     ",".join(spec.methods), spec.causal_system or "", spec.system or "",
                     spec.causal_tool or "",
                     ",".join(f"{k}={v}" for k, v in sorted({**spec.settings,
                                                             **spec.system_params}.items()))])


def with_stated_settings(tool: str, arguments: dict[str, Any],
                         spec: QuestionSpec) -> dict[str, Any]:
    """``arguments`` with every setting and model parameter the question states that the
    tool takes (the question's value wins over the recipe's)."""
    known = entry(tool)
    try:
        fields = known.arguments if known is not None else list(
            get_tool(tool).input_model.model_fields)
    except ToolError:
        return arguments
    stated = {**spec.system_params, **spec.settings}
    return {**arguments, **{k: v for k, v in stated.items() if k in fields}}


def recipe_plan(recipe: Recipe, spec: QuestionSpec) -> Plan:
    """The plan a recipe makes for this question."""
    filled = slots(recipe, spec)
    steps = []
    for step in recipe.steps:
        tool = fill(step.tool, filled)
        steps.append(PlannedStep(name=step.name, tool=tool, arguments=with_stated_settings(
            tool, fill(step.arguments, filled), spec)))
    return Plan(lines=[fill(line, filled) for line in recipe.plan], steps=steps,
                answer=f"recipe:{recipe.name}", key=recipe_key(recipe, spec),
                not_applied={c: "no tool computes it" for c in spec.unsupported})
