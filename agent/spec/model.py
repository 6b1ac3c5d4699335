"""The question spec: what a question asks for and on what, with every condition it states."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Period(BaseModel):
    """Years ``start`` to ``end`` inclusive (None: from the start, or to the end, of the
    data); or the ``last`` N calendar years the data have ('the past 30 years')."""

    start: int | None = None
    end: int | None = None
    last: int | None = None

    def label(self) -> str:
        if self.last is not None:
            return f"the last {self.last} years"
        if self.start is None:
            return f"to {self.end}"
        return f"{self.start}-{self.end}" if self.end is not None else f"{self.start} on"


class QuestionSpec(BaseModel):
    """What a question names and asks, in the keys the tools take.

    ``text`` is the question in plain lower case (a follow-up's after the question it
    refines, so that the two are read together); ``generalized`` the same with each named
    series replaced by "series A", "series B" (a skill's pattern). ``quantity`` is what is
    asked (see :data:`climcopilot.agent.spec.quantity.QUANTITIES`); ``series``, ``fields``
    (in order of first mention), ``system``, ``methods`` (DA), ``causal_system`` and
    ``causal_tool`` what it is asked of. The conditions: ``periods``, ``season`` (month
    initials, e.g. "JJAS"), ``region`` (a region name the tools take, e.g.
    "southern_hemisphere"), ``transforms`` in order ("detrend", "anomalies",
    "running_mean:3", "annual_mean", "seasonal_mean", "standardize"), ``lag`` (a lag asked
    for, in time steps), ``per`` (the unit of a rate asked: year, decade or century),
    ``window_unit`` (month or year, when a running mean's window is given in those),
    ``extreme`` (max or min), ``settings`` (an experiment's or method's, by the tools'
    argument names: N members, infl, dko, obs_sites, tau_max, component...) and
    ``system_params`` (a model's: F, N variables, L...). ``unsupported`` names conditions
    the question states that no tool can apply; ``problems`` what is impossible as asked
    (e.g. a year in the future). ``follow_up`` says it was read against an earlier question.
    """

    text: str
    generalized: str
    quantity: str | None = None
    series: list[str] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)
    system: str | None = None
    methods: list[str] = Field(default_factory=list)
    causal_system: str | None = None
    causal_tool: str | None = None
    periods: list[Period] = Field(default_factory=list)
    season: str | None = None
    region: str | None = None
    transforms: list[str] = Field(default_factory=list)
    lag: int | None = None
    per: str | None = None
    window_unit: str | None = None
    extreme: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    system_params: dict[str, float] = Field(default_factory=dict)
    unsupported: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    follow_up: bool = False
    diagnostic: str | None = None  # early_warning, extreme_forecast (tools' own questions)
    bifurcation_system: str | None = None  # ricker: a simulated system near a fold

    @property
    def years(self) -> list[int]:
        """Every year the periods name, in order (open ends left out)."""
        return [y for p in self.periods for y in (p.start, p.end) if y is not None]

    def names_something(self) -> bool:
        """True when the question names a series, field, system or method the tools know."""
        return bool(self.series or self.fields or self.methods or self.system
                    or self.causal_system or self.causal_tool or self.diagnostic
                    or self.bifurcation_system)

    def subjects(self) -> list[str]:
        """Every key it names: series, fields, system, methods, causal system and tool."""
        return [*self.series, *self.fields, *([self.system] if self.system else []),
                *self.methods, *([self.causal_system] if self.causal_system else []),
                *([self.causal_tool] if self.causal_tool else [])]

    def constraints(self) -> dict[str, Any]:
        """The spec as the constraints of an eval task (``evals.task.Constraints``)."""
        return {"quantity": self.quantity, "subjects": self.subjects(),
                "periods": [[p.start, p.end] for p in self.periods], "season": self.season,
                "transforms": self.transforms,
                "settings": {**self.system_params, **self.settings,
                             **({"lag": self.lag} if self.lag is not None else {})}}
