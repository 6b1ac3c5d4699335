"""An evaluation task: a question, the numbers its answer must contain, and where they come from.

One TOML file per task, e.g.::

    id = "soi_nino3_correlation"
    level = 1
    family = "data"
    question = "What is the correlation between the SOI and the Nino-3 SST anomaly?"
    expected_tools = ["data.open_series", "analysis.lag_correlation"]
    timeout_s = 120          # optional: this task's own limit, in place of ``--timeout``
    smoke = true             # optional: part of the CI-sized subset (``--smoke``)
    checker = "climcopilot.evals.checkers:figure_written"  # optional: partial credit
    [expected_args."analysis.lag_correlation"]   # optional: arguments a right call passes
    max_lag = 6
    [expected.r]
    value = -0.67
    tol = 0.03
    units = "1"
    source = "published: ..."

Every expected value names its independent source (a published number, an exact identity, or
a computation written separately from the tools under test).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from climcopilot.evals.checkers import load_checker

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float
    tol: float = Field(ge=0, description="absolute tolerance, in the value's units")
    units: str = ""
    source: str = Field(min_length=3, description="where the expected value comes from")


QUANTITIES = (
    "correlation", "lag_correlation", "trend", "rate", "seasonal_cycle", "dominant_period",
    "eof_share", "pc_correlation", "autocorrelation", "extreme_year", "range", "mean", "std",
    "period_difference", "analysis_rmse", "method_comparison", "lyapunov_exponent",
    "kaplan_yorke_dimension", "doubling_time", "exponent_sum", "causal_links",
    "causal_direction", "drivers", "emulator_skill", "closure_stability", "kinetic_energy",
    "model_spread")
"""What a question may ask for (the question spec's ``quantity``)."""


class Constraints(BaseModel):
    """What the question spec must hold, and every step of a right answer applies: the
    ``quantity`` asked, the ``subjects`` named (series, field, system or method keys), the
    ``periods`` ([first, last] years), the ``season`` (month letters, e.g. "JJAS", "DJF"),
    the ``transforms`` in order ("detrend", "anomalies", "running_mean:3", "annual_mean",
    "seasonal_mean", "standardize") and the ``settings`` (tool argument names, e.g. F, N, dko,
    obs_sites, infl, tau_max, component)."""

    model_config = ConfigDict(extra="forbid")

    quantity: str | None = None
    subjects: list[str] = Field(default_factory=list)
    periods: list[tuple[int, int]] = Field(default_factory=list)
    season: str | None = Field(None, pattern=r"^[JFMASOND]{1,12}$")
    transforms: list[str] = Field(default_factory=list)
    settings: dict[str, float | int | str | bool | list[int]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_quantity(self) -> Constraints:
        if self.quantity is not None and self.quantity not in QUANTITIES:
            raise ValueError(f"quantity {self.quantity!r} is not one of {', '.join(QUANTITIES)}")
        return self


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    level: int = Field(ge=1, le=4)
    family: Literal["data", "da", "emulators", "causal", "hybrid", "benchmark"]
    question: str = Field(min_length=5)
    expected: dict[str, Expected] = Field(default_factory=dict)
    expected_tools: list[str] = Field(default_factory=list)
    expected_args: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="tool name -> arguments some call of it must pass")
    data: list[str] = Field(default_factory=list)
    timeout_s: float | None = Field(None, gt=0, description="this task's limit, seconds")
    smoke: bool = False
    checker: str | None = Field(None, description="'module:function' giving partial credit "
                                "(evals/checkers.py)")
    history: list[str] = Field(default_factory=list, description="questions asked before in "
                               "the same session: this task's question is their follow-up")
    constraints: Constraints | None = Field(None, description="what the question spec must "
                                            "hold and the steps must apply")
    expect_status: Literal["done", "partial", "refused", "failed"] = Field(
        "done", description="the outcome a right answer has: a refusal or a partial answer "
                            "is right for a question that cannot be answered as asked")
    reason_contains: str | None = Field(None, description="a word the one-line reason of "
                                        "such an outcome must contain (any case)")
    accept_partial: bool = Field(False, description="score a partial answer by its values "
                                 "and checker too (an external benchmark's question, whose "
                                 "words the question reader may take for conditions)")

    @model_validator(mode="after")
    def _something_to_check(self) -> Task:
        if not self.expected and self.checker is None and self.expect_status == "done":
            raise ValueError("a task needs expected values, a checker, or both")
        if self.checker is not None:
            load_checker(self.checker)
        return self


def load_suite(folder: Path) -> tuple[list[Task], list[str]]:
    """The suite's tasks (sorted by id) and one error line per malformed file
    ("path: field: what is wrong"); a bad file never stops the others from loading."""
    tasks, errors = [], []
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            tasks.append(Task.model_validate(tomllib.loads(path.read_text())))
        except tomllib.TOMLDecodeError as exc:
            errors.append(f"{path}: not valid TOML: {exc}")
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(file)"
            errors.append(f"{path}: {where}: {err['msg']}")
    return tasks, errors
