"""What the offline brain runs: a plan of tool steps whose arguments may refer to the handles
earlier steps produced, with the conditions it could not apply and why."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


def ref(step: str, index: int = 0) -> dict[str, Any]:
    """An argument that stands for handle ``index`` of what step ``step`` produced."""
    return {"$from": step, "at": index}


class PlannedStep(BaseModel):
    """One tool call of a plan: ``name`` (how answers refer to its result), the tool and its
    arguments (with :func:`ref` placeholders)."""

    name: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Plan(BaseModel):
    """A question's plan: its lines (for the person), its tool steps, how its answer is
    written (``answer``: a quantity's writer, or a recipe's name), what it is keyed by in
    memory, and the conditions of the question it could not apply, with the reason."""

    lines: list[str]
    steps: list[PlannedStep]
    answer: str
    key: str
    not_applied: dict[str, str] = Field(default_factory=dict)


def resolve(value: Any, results: dict[str, dict[str, Any]]) -> Any:
    """``value`` with every :func:`ref` replaced by the handle it names."""
    if isinstance(value, dict) and set(value) == {"$from", "at"}:
        return results[value["$from"]]["handles"][value["at"]]
    if isinstance(value, dict):
        return {k: resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, results) for v in value]
    return value
