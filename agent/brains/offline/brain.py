"""The offline brain: plans from the question spec and runs the plan, with no network and no
LLM.

Memory comes first: a verified finding about the same quantity (same plan key) answers
directly. Otherwise the plan is composed from the spec over the typed tools
(:mod:`.composer`); a question the composer does not cover goes to a recipe (:mod:`.routing`),
or to the recipe of a skill that answered a similar question. A step that fails ends the
question with the tool's one-line error: the plan cannot go on without its result.
"""

from __future__ import annotations

from typing import Any

from climcopilot.agent.brains.base import Brain
from climcopilot.agent.brains.offline.answers import write_answer
from climcopilot.agent.brains.offline.composer import compose
from climcopilot.agent.brains.offline.plans import Plan, resolve
from climcopilot.agent.brains.offline.routing import (
    from_skill,
    meaning_similarity,
    recipe_named,
    recipe_plan,
    route,
    slots,
)
from climcopilot.agent.errors import BrainError
from climcopilot.agent.state import AgentState, Recall
from climcopilot.agent.steps import Action, Decision, Finish, Step


def _results(plan: Plan, steps: list[Step]) -> dict[str, dict[str, Any]]:
    """The results of the plan's steps that ran, by step name (in order)."""
    done = [s.result for s in steps if s.action.kind == "tool" and s.result is not None]
    return {p.name: r for p, r in zip(plan.steps, done)}


class OfflineBrain(Brain):
    name = "offline"

    def plan(self, state: AgentState) -> tuple[list[str], dict[str, Any]]:
        spec = state["spec"]
        if spec.problems:  # a name or condition that cannot be answered as asked
            raise BrainError("; ".join(spec.problems))
        recall = state.get("recall") or Recall()
        plan = compose(spec)
        memo: dict[str, Any] = {}
        if plan is None:
            best, score, skill = from_skill(recall.skills, spec)
            try:
                routed, routed_score = route(spec.text if spec.follow_up
                                             else state["question"], spec)
            except BrainError:
                if best is None:
                    raise
            else:  # a skill learned on another kind of question must not beat a closer recipe
                if best is None or skill is None or (
                        routed.name != best.name and routed_score > meaning_similarity(
                            state["question"], skill.skill.pattern)):
                    best, score, skill = routed, routed_score, None
            plan = recipe_plan(best, spec)
            memo.update(recipe=best.name, similarity=score)
            if skill is not None:
                memo["skill"] = skill.skill.id
                plan.lines.insert(0, f"Reuse skill {skill.skill.key} ({skill.skill.successes} "
                                     f"successes), learned from: {skill.skill.pattern!r}.")
        memo.update(plan=plan.model_dump(), key=plan.key, not_applied=plan.not_applied,
                    skill_key=memo.get("recipe") or f"composed:{spec.quantity}",
                    skill_plan={"recipe": memo["recipe"]} if "recipe" in memo else
                    {"composed": spec.quantity})
        reused = next((f for f in recall.findings if f.key == plan.key), None)
        lines = plan.lines
        if reused is not None:
            memo["from_finding"] = reused.model_dump()
            lines = [f"Reuse verified finding {reused.id} (the same quantity, data and "
                     "conditions)."]
        return lines, memo

    def decide(self, state: AgentState) -> Decision:
        memo = state["memo"]
        if "from_finding" in memo:
            finding = memo["from_finding"]
            return Finish(answer=finding["claim"], values=finding["values"],
                          units=finding["units"])
        steps = state.get("steps", [])
        if steps and not steps[-1].ok:
            failed = steps[-1]
            raise BrainError(f"{failed.action.tool or 'a step'} failed: "
                             f"{(failed.observation.error or '').removeprefix('ToolError: ')}")
        plan = Plan.model_validate(memo["plan"])
        results = _results(plan, steps)
        if len(results) >= len(plan.steps):
            return Finish()
        step = plan.steps[len(results)]
        return Action(kind="tool", tool=step.tool, arguments=resolve(step.arguments, results))

    def not_applied(self, state: AgentState) -> dict[str, str]:
        return (state.get("memo") or {}).get("not_applied", {})

    def compose(self, state: AgentState) -> str:
        memo = state["memo"]
        if "from_finding" in memo:
            finding = memo["from_finding"]
            return (f"{finding['claim']}\n\n(Answered from memory: verified finding "
                    f"{finding['id']}, first found on {finding['created'][:10]}.)")
        plan = Plan.model_validate(memo["plan"])
        steps = state.get("steps", [])
        results = _results(plan, steps)
        if not plan.answer.startswith("recipe:"):
            return write_answer(state["spec"], results, steps, plan.not_applied)
        recipe = recipe_named(plan.answer.removeprefix("recipe:"))
        answer = recipe.answer.format(**slots(recipe, state["spec"]), **results)
        for condition, why in plan.not_applied.items():
            answer += f" I could not apply {condition}: {why}."
        if "skill" in memo:
            answer += f"\n\n(Reused skill {recipe.name} from memory: {memo['skill']}.)"
        return answer
