"""The plugin contract: what a plugin's tools and models must offer, and loading them by it.

A plugin that cannot be imported, or a tool whose schema does not build, is skipped with a
one-line reason; the other tools still load. :func:`contract_problems` (tools),
:func:`model_problems` (models) and :func:`card_problems` (knowledge cards) are what
``climcopilot tools check`` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import Any

from climcopilot.tools.base import KnowledgeCard, Tool, ToolError
from climcopilot.tools.plugins import MODEL_GROUP, one_line


@dataclass
class PluginLoad:
    """What loading entry points gave: usable tools, model factories that build a working
    model, and what was skipped why."""

    tools: list[Tool] = field(default_factory=list)
    models: dict[str, Callable[..., Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load(points: list[EntryPoint]) -> PluginLoad:
    """Import each entry point's target; keep the tools whose schemas build and the model
    factories whose model passes :func:`model_problems`."""
    out = PluginLoad()
    for ep in points:
        try:
            target = ep.load()  # a tools module, or a model factory
        except Exception as exc:  # a broken plugin must not stop the others
            out.problems.append(f"plugin {ep.name!r} ({ep.value}) failed to import: "
                                f"{one_line(exc)}")
            continue
        if ep.group == MODEL_GROUP:
            found_problems = model_problems(ep.name, target)
            out.problems += found_problems
            if not found_problems:
                out.models[ep.name] = target
            continue
        found = [obj for obj in vars(target).values() if isinstance(obj, Tool)]
        if not found:
            out.problems.append(f"plugin {ep.name!r} ({ep.value}) defines no tool")
        for t in found:
            try:
                t.openai_schema()
            except Exception as exc:
                out.problems.append(f"tool {t.name!r} of plugin {ep.name!r} has a broken "
                                    f"schema: {type(exc).__name__}: {exc}")
                continue
            out.tools.append(t)
    return out


def card_problems(subject: str, card: Any, names: set[str] | None = None) -> list[str]:
    """What is wrong with a knowledge card: not a KnowledgeCard, no references, or (``names``
    given) a valid range naming none of them."""
    if not isinstance(card, KnowledgeCard):
        return [f"{subject}: its card is a {type(card).__name__}, not a KnowledgeCard"]
    problems = []
    if not card.references:
        problems.append(f"{subject}: its card cites no references (a paper, DOI or URL)")
    for name in sorted(set(card.valid_ranges) - names) if names is not None else []:
        problems.append(f"{subject}: its card gives a valid range for {name!r}, which is "
                        f"not one of its inputs ({', '.join(sorted(names))})")
    return problems


def contract_problems(tool: Tool) -> list[str]:
    """What a tool lacks under the plugin contract: a description, a description and a range
    for every input, an example call (model ``examples`` or all-default inputs), and a sound
    knowledge card if it has one (the example call inside the card's valid ranges)."""
    problems = []
    if not tool.description.strip():
        problems.append(f"{tool.name}: no description (the function's docstring)")
    schema = tool.input_model.model_json_schema()
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description"):
            problems.append(f"{tool.name}: input {name!r} has no description (units, meaning)")
        kinds = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
        bounded = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} & prop.keys()
        if kinds & {"number", "integer"} and not bounded:
            problems.append(f"{tool.name}: numeric input {name!r} declares no range (ge/le)")
    example = example_arguments(tool)
    if example is None:
        problems.append(f"{tool.name}: no example call: give the input model "
                        "json_schema_extra={'examples': [{...}]} or defaults for every input")
    if tool.card is not None:
        problems += card_problems(tool.name, tool.card, set(schema.get("properties", {})))
        for name, valid in tool.card.valid_ranges.items():
            value = (example or {}).get(name, schema.get("properties", {}).get(name, {})
                                        .get("default"))
            if isinstance(value, int | float) and not valid.low <= value <= valid.high:
                problems.append(f"{tool.name}: the example's {name}={value} lies outside its "
                                f"card's valid range {valid.low:g}..{valid.high:g}")
    return problems


def model_problems(name: str, factory: Any) -> list[str]:
    """What a plugin model lacks under the contract: its factory builds, without parameters, a
    :class:`~climcopilot.tools.emulators.models.Model` whose step maps a (2, dim) batch to finite
    (2, dim) states (with gradients when it says it is differentiable), whose positions are
    (dim,), and whose card (``factory.card``) is sound."""
    import torch

    from climcopilot.tools.emulators.models import build_model, is_differentiable, model_positions

    subject = f"model {name!r}"
    try:
        model = build_model(name, factory, {})
        x = model.base_state().to(torch.float64).expand(2, model.dim).clone()
        x.requires_grad_(is_differentiable(model))
        with torch.enable_grad():
            out = model.step(x, model.default_dt)
            if out.shape != x.shape or not bool(torch.isfinite(out).all()):
                return [f"{subject}: step maps a (2, {model.dim}) batch to "
                        f"{tuple(out.shape)}, or to non-finite states"]
            if x.requires_grad:
                if out.requires_grad:
                    out.sum().backward()
                if x.grad is None or not bool(torch.isfinite(x.grad).all()):
                    return [f"{subject}: says differentiable=True but step gives no finite "
                            "gradient; set differentiable=False"]
        positions = model_positions(model)
    except ToolError as exc:  # the factory failed or returned no model
        return [str(exc)]
    except Exception as exc:  # whatever a plugin's model does wrong is reported, not raised
        return [f"{subject} does not work: {one_line(exc)}"]
    problems = []
    if positions is not None and tuple(positions.shape) != (model.dim,):
        problems.append(f"{subject}: positions() has shape {tuple(positions.shape)}, "
                        f"want ({model.dim},)")
    card = getattr(factory, "card", None)
    if card is not None:
        problems += card_problems(subject, card)
    return problems


def example_arguments(tool: Tool) -> dict[str, Any] | None:
    """Arguments for a trial call: the input model's first example, else all defaults."""
    extra = tool.input_model.model_config.get("json_schema_extra") or {}
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if examples:
        return dict(examples[0])
    try:
        tool.input_model()
    except Exception:
        return None
    return {}
