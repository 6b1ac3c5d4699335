"""Prompts: the questions the offline brain answers, one prompt per recipe (its first example
question is the default) and ``question`` for any question. A prompt's message is the question
with the plan the offline brain makes for it (composed from the question spec, else the
recipe's), written as calls of this server's tools, and how to get a number remembered."""

from __future__ import annotations

import json

import mcp_types as types

from climcopilot.agent.brains.offline.composer import compose
from climcopilot.agent.brains.offline.plans import Plan, resolve
from climcopilot.agent.brains.offline.recipes import RECIPES, Recipe
from climcopilot.agent.brains.offline.routing import fits, recipe_plan, route
from climcopilot.agent.errors import BrainError
from climcopilot.agent.spec import read_question
from climcopilot.tools.errors import ToolError
from climcopilot.tools.schemas import wire_name

ANY_QUESTION = "question"
HANDLES = 16  # most handles of one step a plan refers to
QUESTION_ARGUMENT = "question"
ADVICE = ("Pass each call the handles the earlier ones returned. State every number with its "
          "unit and the step that produced it. To keep a number, call `remember` with its "
          "name and step: only numbers a typed tool produced (and that verify) are stored.")


def listed() -> list[types.Prompt]:
    """One prompt per recipe, and one for any question."""
    prompts = [types.Prompt(
        name=r.name, title=r.name.replace("_", " "), description=r.examples[0],
        arguments=[types.PromptArgument(name=QUESTION_ARGUMENT, required=False,
                                        description="your question of this kind (default: "
                                                    "the example)")]) for r in RECIPES]
    prompts.append(types.Prompt(
        name=ANY_QUESTION, title="any question", description="A research question, with the "
        "plan the offline brain makes for it over this server's tools.",
        arguments=[types.PromptArgument(name=QUESTION_ARGUMENT, required=True,
                                        description="the research question")]))
    return prompts


def _placeholders(plan: Plan) -> dict[str, dict[str, list[str]]]:
    """For :func:`~climcopilot.agent.brains.offline.plans.resolve`: each step's handles as
    notes naming them, since the client passes the handles its earlier calls returned."""
    return {s.name: {"handles": [f"<handle {i} of step {s.name}>" for i in range(HANDLES)]}
            for s in plan.steps}


def plan_for(question: str, recipe: Recipe | None) -> Plan:
    """The offline brain's plan for ``question``: composed from its spec, else ``recipe``'s
    when the question fits it, else the recipe routing picks (ToolError when none can)."""
    spec = read_question(question)
    if spec.problems:
        raise ToolError("; ".join(spec.problems))
    plan = compose(spec)
    if plan is not None:
        return plan
    if recipe is None or not fits(recipe, spec):
        try:
            recipe, _ = route(question, spec)
        except BrainError as exc:
            raise ToolError(str(exc)) from None
    return recipe_plan(recipe, spec)


def message(name: str, arguments: dict[str, str]) -> types.GetPromptResult:
    """Prompt ``name`` filled with ``arguments`` (ToolError for an unknown prompt or a
    question no plan covers)."""
    recipe = next((r for r in RECIPES if r.name == name), None)
    if recipe is None and name != ANY_QUESTION:
        raise ToolError(f"no prompt {name!r}; prompts/list shows the {len(RECIPES) + 1} "
                        "there are")
    question = (arguments.get(QUESTION_ARGUMENT) or "").strip() or (
        recipe.examples[0] if recipe is not None else "")
    if not question:
        raise ToolError(f"prompt {name!r} needs the argument {QUESTION_ARGUMENT!r}")
    plan = plan_for(question, recipe)
    notes = _placeholders(plan)
    calls = [f"{i}. ({s.name}) {wire_name(s.tool)} {json.dumps(resolve(s.arguments, notes))}"
             for i, s in enumerate(plan.steps, start=1)]
    lines = "\n".join(f"- {line}" for line in plan.lines)
    text = (f"{question}\n\nClimCopilot's offline planner answers it like this:\n{lines}\n\n"
            f"As calls of this server's tools:\n" + "\n".join(calls) + f"\n\n{ADVICE}")
    if plan.not_applied:
        text += "\n\nNo tool applies: " + "; ".join(f"{k} ({v})"
                                                    for k, v in plan.not_applied.items())
    return types.GetPromptResult(description=question, messages=[
        types.PromptMessage(role="user", content=types.TextContent(text=text))])
