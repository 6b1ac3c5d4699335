"""What the memory keeps: findings (checked claims) and skills (plans that worked).

Both carry a ``key``: what a record is about, independent of wording (e.g. the recipe and the
series it was run on), so that a new answer can be matched to an old one exactly, merged with
it when it agrees and flagged when it contradicts it.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

SCHEMA_VERSION = 2


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


class Finding(BaseModel):
    """A checked claim with its numbers and where they came from.

    ``key`` identifies the quantity (same key, same question up to wording); ``seen`` counts
    how many answers confirmed it.
    """

    kind: Literal["finding"] = "finding"
    id: str = Field(default_factory=_new_id)
    question: str
    claim: str
    key: str = ""
    values: dict[str, float] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)
    seen: int = 1
    created: str = Field(default_factory=now)

    def document(self) -> str:
        return f"{self.question}\n{self.claim}"

    def summary(self) -> str:
        """One line for a brain's context."""
        nums = ", ".join(f"{k}={v:.4g}" for k, v in list(self.values.items())[:4])
        return f"[finding {self.id}] {self.claim[:160]}" + (f" ({nums})" if nums else "")


class Skill(BaseModel):
    """A plan that answered a kind of question: its recipe (or tool steps) and its record.

    ``score`` = successes - failures (feedback included); a skill with a negative score is not
    reused.
    """

    kind: Literal["skill"] = "skill"
    id: str = Field(default_factory=_new_id)
    pattern: str
    key: str
    brain: str
    plan: dict[str, Any] = Field(default_factory=dict)
    successes: int = 0
    failures: int = 0
    last_used: str = Field(default_factory=now)

    @property
    def score(self) -> int:
        return self.successes - self.failures

    def document(self) -> str:
        return self.pattern

    def summary(self) -> str:
        return (f"[skill {self.id}] {self.key}: {self.successes} successes, "
                f"{self.failures} failures")


Record = Finding | Skill
RECORDS: TypeAdapter[Finding | Skill] = TypeAdapter(
    Annotated[Finding | Skill, Field(discriminator="kind")])


def absurd_values(record: Finding | Skill) -> str | None:
    """What no real record can hold (a count below its minimum, a value that is not finite), or
    None."""
    if isinstance(record, Finding):
        wrong = [f"{k}={v}" for k, v in record.values.items() if not math.isfinite(v)]
        if record.seen < 1:
            wrong.insert(0, f"seen={record.seen} (at least 1)")
    else:
        wrong = [f"{k}={getattr(record, k)} (at least 0)" for k in ("successes", "failures")
                 if getattr(record, k) < 0]
    return "absurd values: " + ", ".join(wrong) if wrong else None


def parse_record(item: Any) -> Finding | Skill:
    """A stored item (a JSON object) as a record; ValueError saying what is wrong with it: not
    an object with an ``id`` and a known ``kind``, fields that fail validation, absurd values."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise ValueError("not a record: no id")
    try:
        record = RECORDS.validate_python(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"{p}: " for p in first["loc"][-1:])
        raise ValueError(f"not a record: {where}{first['msg']}") from None
    problem = absurd_values(record)
    if problem:
        raise ValueError(problem)
    return record
