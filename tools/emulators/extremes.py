"""Extremes from an ensemble forecast by power-mean aggregation (Collard, Gentine & Zheng 2025).

The event: a variable exceeds its q-th local quantile (per site, from a climate run) at some
time of a window ``lead .. lead + window`` after the forecast start. Each member's window
maximum is put through a positive transform, its local climatological CDF (the probability
integral transform ``s = (#{climate_k <= x} + 1/2) / (n + 1)`` in (0, 1); the paper uses the
normal CDF of the standardised anomaly, which is this CDF for a Gaussian climate, and the
empirical one puts every site's threshold at the same score q), and the members are
aggregated by the power mean ``M_p = (mean s^p)^(1/p)``: p = 1
is the plain mean, p -> infinity the maximum, p -> 0 the geometric mean. p is chosen on the
validation starts (the best AUC); the skill is reported on the test starts: AUC, the Brier
score of the score calibrated by isotonic regression on validation, and F1 at the threshold
that maximises F1 on validation; beside the plain mean, the share of members above the
threshold is a second baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from pydantic import Field, field_validator
from scipy.special import logsumexp
from scipy.stats import rankdata

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.emulators.inputs import SystemSpec, WorkLimits
from climcopilot.tools.viz.figures import save_figure

if TYPE_CHECKING:
    from climcopilot.tools.emulators.systems import DynamicalSystem


def power_mean(x: np.ndarray, p: float, axis: int = 0) -> np.ndarray:
    """``(mean x^p)^(1/p)`` of positive ``x`` along ``axis`` (in logs, so large p does not
    overflow); p = 0 is the geometric mean, p = +inf the maximum, p = -inf the minimum."""
    if np.any(x <= 0):
        raise ToolError("the power mean needs positive values; transform the variable first")
    if np.isposinf(p):
        return x.max(axis=axis)
    if np.isneginf(p):
        return x.min(axis=axis)
    if p == 1:
        return x.mean(axis=axis)
    logs = np.log(x)
    if p == 0:
        return np.exp(logs.mean(axis=axis))
    return np.exp((logsumexp(p * logs, axis=axis) - np.log(x.shape[axis])) / p)


def local_cdf(climate: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``(#{climate_k <= x} + 1/2) / (n + 1)`` per site k: ``climate`` (n, site), ``x``
    (..., site); values in (0, 1)."""
    ordered = np.sort(climate, axis=0)
    counts = np.stack([np.searchsorted(ordered[:, k], x[..., k], side="right")
                       for k in range(climate.shape[1])], axis=-1)
    return (counts + 0.5) / (climate.shape[0] + 1)


def auc(score: np.ndarray, event: np.ndarray) -> float:
    """Area under the ROC curve: the Mann-Whitney probability that an event scores above a
    non-event (ties count one half); 1-D arrays."""
    positives = int(event.sum())
    negatives = event.size - positives
    if positives == 0 or negatives == 0:
        raise ToolError("the AUC needs both events and non-events; change q or add starts")
    ranks = rankdata(score)
    return float((ranks[event].sum() - positives * (positives + 1) / 2)
                 / (positives * negatives))


def brier(probability: np.ndarray, event: np.ndarray) -> float:
    """Mean squared difference between forecast probability and outcome (0 or 1)."""
    return float(np.mean((probability - event) ** 2))


def f1(predicted: np.ndarray, event: np.ndarray) -> float:
    """Harmonic mean of precision and recall (0 when nothing is right)."""
    hits = int((predicted & event).sum())
    total = int(predicted.sum() + event.sum())
    return 2 * hits / total if total else 0.0


def best_f1_threshold(score: np.ndarray, event: np.ndarray) -> float:
    """The score threshold t (predict an event where score >= t) with the largest F1."""
    order = np.argsort(-score, kind="stable")
    ranked, hits = score[order], np.cumsum(event[order])
    last = np.flatnonzero(np.r_[ranked[1:] != ranked[:-1], True])  # cut after ties only
    scores = 2 * hits[last] / (last + 1 + event.sum())
    return float(ranked[last[int(np.argmax(scores))]])


AGGREGATIONS = ("mean", "power", "fraction")
"""The forecasts compared: the plain mean of the members' scores (p = 1), their power mean
with the chosen p, and the share of members above the threshold (a common baseline)."""


@dataclass(frozen=True)
class Skill:
    """Test AUC, Brier score (isotonic calibration on validation) and F1 (the validation
    threshold with the best F1), all in [0, 1]."""

    auc: float
    brier: float
    f1: float


@dataclass(frozen=True)
class QuantileSkill:
    """At one q: the chosen ``p``, the test :class:`Skill` of each of :data:`AGGREGATIONS`,
    the test events' share and the validation AUC by p tried."""

    q: float
    p: float
    skill: dict[str, Skill]
    events: float
    validation_auc: dict[float, float]


def held_out_skill(score: np.ndarray, event: np.ndarray, split: int) -> Skill:
    """The :class:`Skill` on the test rows ``split:`` of samples laid out (start, site),
    calibrated and thresholded on the validation rows before them."""
    from sklearn.isotonic import IsotonicRegression

    val_s, val_e = score[:split].ravel(), event[:split].ravel()
    test_s, test_e = score[split:].ravel(), event[split:].ravel()
    calibrate = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")
    calibrate.fit(val_s, val_e.astype(float))
    cut = best_f1_threshold(val_s, val_e)
    return Skill(auc(test_s, test_e), brier(calibrate.predict(test_s), test_e),
                 f1(test_s >= cut, test_e))


def quantile_skill(scores: np.ndarray, above: np.ndarray, event: np.ndarray, q: float,
                   powers: list[float], split: int) -> QuantileSkill:
    """Choose p on the starts before ``split`` and score every aggregation after it.

    ``scores`` (start, member, site) in (0, 1); ``above`` (start, member, site) whether each
    member's window maximum exceeds the threshold; ``event`` (start, site) the truth's.
    """
    aggregated = {p: power_mean(scores, p, axis=1) for p in sorted({1.0, *powers})}
    validation = {p: auc(a[:split].ravel(), event[:split].ravel())
                  for p, a in aggregated.items()}
    best = max(validation, key=lambda p: (validation[p], -abs(np.log(p))))  # ties: near 1
    forecasts = {"mean": aggregated[1.0], "power": aggregated[best],
                 "fraction": above.mean(axis=1)}
    return QuantileSkill(q=q, p=best, skill={k: held_out_skill(f, event, split)
                                             for k, f in forecasts.items()},
                         events=float(event[split:].mean()), validation_auc=validation)


def ensemble_window_maxima(system: DynamicalSystem, *, dt: float, starts: int, spacing: float,
                           members: int, lead: float, window: float, ic_noise: float,
                           spinup: float, seed: int, device: str = "cpu",
                           allow_large: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Window maxima of an ensemble forecast and of the truth, per start and site.

    One truth run gives ``starts`` initial states ``spacing`` MTU apart; each start's
    ``members`` begin there plus N(0, ic_noise^2) noise and run ``lead + window`` MTU (RK4).
    Returns (start, member, site) and (start, site) maxima over ``lead .. lead + window``.
    """
    import torch

    from climcopilot.tools.emulators.limits import check_work, step_count
    from climcopilot.tools.emulators.simulate import simulate_states
    from climcopilot.tools.emulators.systems import integrate

    gap = step_count(spacing, dt, what="spacing", allow_large=allow_large)
    first = step_count(lead, dt, what="lead", allow_large=allow_large)
    last = first + step_count(window, dt, what="window", allow_large=allow_large)
    if gap < 1:
        raise ToolError(f"spacing {spacing:g} MTU is under one step dt = {dt:g}; raise it")
    truth = simulate_states(system, dt=dt, duration=(starts - 1) * gap * dt + last * dt,
                            spinup=spinup, seed=seed, device=device,
                            allow_large=allow_large)[0]
    check_work(members=starts * members, steps=last, values=system.dim,
               stored=starts * members * (last - first + 1) * system.dim,
               allow_large=allow_large, hint="lower starts, members or lead")
    origins = np.arange(starts) * gap
    gen = torch.Generator().manual_seed(seed + 1)
    x0 = truth[origins][:, None, :] + ic_noise * torch.randn(
        starts, members, system.dim, generator=gen, dtype=truth.dtype)
    from_first = integrate(system, x0.to(device), dt, first)[-1]
    member_max = integrate(system, from_first, dt, last - first).amax(dim=0).cpu().numpy()
    truth_max = np.stack([truth[o + first:o + last + 1].amax(dim=0).numpy() for o in origins])
    return member_max, truth_max


class ExtremeForecastInput(SystemSpec, WorkLimits):
    """An ensemble forecast experiment on one of the built-in systems (every state variable
    is a site)."""

    handle: str = Field("extreme_forecast", description="name under which the forecast "
                        "Dataset (window maxima, thresholds) is stored")
    members: int = Field(20, ge=2, le=500, description="ensemble members per start")
    starts: int = Field(400, ge=20, le=20_000, description="forecast start times along one "
                        "truth run; the first half chooses p, the second half is the test")
    spacing: float = Field(1.0, gt=0, description="MTU between start times")
    lead: float = Field(2.0, ge=0, description="start of the event window after the "
                        "forecast start, MTU")
    window: float = Field(0.25, ge=0, description="length of the event window, MTU (0: one "
                          "time)")
    ic_noise: float = Field(0.1, ge=0, description="standard deviation of the members' "
                            "initial perturbations (state units)")
    quantiles: list[float] = Field([0.9, 0.95, 0.99], min_length=1, max_length=8,
                                   description="local quantiles q whose exceedance is the "
                                   "event")
    powers: list[float] = Field([0.5, 2, 4, 8, 16, 32, 64, 128, 256, 512], min_length=1,
                                max_length=30, description="exponents p tried on validation "
                                "(p = 1, the mean, always is)")
    climate: float = Field(500.0, gt=0, description="MTU of the climate run giving the local "
                           "quantiles, means and standard deviations")
    seed: int = Field(0, ge=0, description="seed of the truth, perturbations and climate")
    device: str = Field("cpu", description="'cpu', 'cuda' or 'auto'")

    @field_validator("quantiles")
    @classmethod
    def _quantiles(cls, value: list[float]) -> list[float]:
        if any(not 0.5 <= q < 1 for q in value):
            raise ValueError("each quantile q must be in [0.5, 1), e.g. 0.95")
        return sorted(set(value))

    @field_validator("powers")
    @classmethod
    def _powers(cls, value: list[float]) -> list[float]:
        if any(not 0 < p <= 1000 for p in value):
            raise ValueError("each power p must be in (0, 1000], e.g. [2, 4, 8]")
        return value


class ExtremeForecastResult(ToolResult):
    handle: str
    chosen_p: dict[str, float]


def _tag(q: float) -> str:
    """'q95' for 0.95, 'q99_5' for 0.995."""
    return "q" + f"{q * 100:g}".replace(".", "_")


@tool("emulators.extreme_forecast", family="emulators")
def extreme_forecast(args: ExtremeForecastInput, ctx: ToolContext) -> ExtremeForecastResult:
    """Predict extremes from an ensemble forecast by power-mean aggregation (Collard, Gentine
    & Zheng 2025): members from perturbed initial states of a system (default Lorenz-96),
    the event 'a site exceeds its q-th local quantile within the window lead..lead+window',
    members' window maxima as Phi of their standardised anomaly, aggregated by the power mean
    (p chosen on validation starts). Reports AUC, Brier and F1 on test starts of the plain
    mean and the power mean at each q, and leaves the forecast as a Dataset (`handle`)."""
    from climcopilot.tools.emulators.simulate import simulate_states
    from climcopilot.tools.emulators.systems import cpu_threads, resolve_device
    from climcopilot.tools.emulators.tools import build_system

    system, dt = build_system(args)
    device = str(resolve_device(args.device))
    with cpu_threads(1):
        member_max, truth_max = ensemble_window_maxima(
            system, dt=dt, starts=args.starts, spacing=args.spacing, members=args.members,
            lead=args.lead, window=args.window, ic_noise=args.ic_noise,
            spinup=system.default_spinup, seed=args.seed, device=device,
            allow_large=args.allow_large)
        climate = simulate_states(system, dt=dt, duration=args.climate,
                                  spinup=system.default_spinup, seed=args.seed + 2,
                                  device=device, allow_large=args.allow_large)[0].numpy()
    if np.any(climate.std(axis=0) == 0):
        raise ToolError(f"{system.name} has constant variables in its climate run; no "
                        "quantile of them can be exceeded")
    scores = local_cdf(climate, member_max)
    thresholds = np.quantile(climate, args.quantiles, axis=0, method="inverted_cdf")
    split = args.starts // 2
    skills = [quantile_skill(scores, member_max > thr, truth_max > thr, q, args.powers, split)
              for q, thr in zip(args.quantiles, thresholds)]
    ctx.store[args.handle] = _forecast_dataset(member_max, truth_max, thresholds, scores,
                                               climate, args, system.describe())
    values, units = {"n_test": float((args.starts - split) * system.dim)}, {"n_test": "samples"}
    for s in skills:
        t = _tag(s.q)
        for kind, skill in s.skill.items():
            for metric in ("auc", "brier", "f1"):
                name = f"{metric}_{kind}_{t}"
                values[name], units[name] = getattr(skill, metric), "1"
        values[f"p_{t}"], units[f"p_{t}"] = s.p, "1"
        values[f"event_rate_{t}"], units[f"event_rate_{t}"] = s.events, "1"
    figure = _plot(ctx, skills, system.describe(), args)
    lines = "; ".join(
        f"q = {s.q:g}: p = {s.p:g}, " + ", ".join(
            f"{metric} " + " / ".join(f"{getattr(s.skill[k], metric.lower()):.3f}"
                                      for k in AGGREGATIONS)
            for metric in ("AUC", "F1", "Brier")) for s in skills)
    return ExtremeForecastResult(
        summary=f"{system.describe()}, {args.members} members from {args.starts} starts "
                f"(noise {args.ic_noise:g}), event window {args.lead:g}-"
                f"{args.lead + args.window:g} MTU; test skill of mean / power mean / member "
                f"fraction: {lines}",
        values=values, units=units, handles=[args.handle], figures=[figure],
        checks=[Check(name="AUC in [0, 1]", passed=all(
                    0 <= v <= 1 for k, v in values.items() if k.startswith("auc"))),
                Check(name="enough test events", passed=all(
                    s.events * values["n_test"] >= 10 for s in skills),
                    detail="at least 10 events per q among the test samples")],
        handle=args.handle, chosen_p={_tag(s.q): s.p for s in skills})


def _forecast_dataset(member_max: np.ndarray, truth_max: np.ndarray, thresholds: np.ndarray,
                      scores: np.ndarray, climate: np.ndarray, args: ExtremeForecastInput,
                      described: str) -> xr.Dataset:
    """What the skill was computed from, for checking it again."""
    site = np.arange(climate.shape[1])
    return xr.Dataset(
        {"member_max": (("start", "member", "site"), member_max,
                        {"units": "1", "long_name": "member's maximum over the event window"}),
         "truth_max": (("start", "site"), truth_max,
                       {"units": "1", "long_name": "truth's maximum over the event window"}),
         "score": (("start", "member", "site"), scores,
                   {"units": "1", "long_name": "local climatological CDF of member_max"}),
         "threshold": (("quantile", "site"), thresholds,
                       {"units": "1", "long_name": "local quantile of the climate run"}),
         "climate": (("climate_time", "site"), climate,
                     {"units": "1", "long_name": "the climate run (one state per step)"})},
        coords={"start": np.arange(args.starts) * args.spacing, "site": site,
                "quantile": args.quantiles},
        attrs={"title": f"{described} ensemble forecast of window maxima",
               "validation_starts": args.starts // 2, "lead": args.lead,
               "window": args.window, "transform": "(#{climate <= x} + 1/2) / (n + 1)"})


def _plot(ctx: ToolContext, skills: list[QuantileSkill], described: str,
          args: ExtremeForecastInput) -> str:
    """Validation AUC against p per q (the chosen p marked), and test AUC and F1 of the mean
    and the power mean."""
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    for s in skills:
        ps = list(s.validation_auc)
        line, = left.plot(ps, [s.validation_auc[p] for p in ps], marker="o", ms=3,
                          label=f"q = {s.q:g}")
        left.plot([s.p], [s.validation_auc[s.p]], marker="*", ms=12, color=line.get_color())
    left.set_xscale("log", base=2)
    left.set_xlabel("power p (1 = mean; large p -> maximum)")
    left.set_ylabel("validation AUC (1)")
    left.set_title("choosing p on validation starts (star: chosen)", fontsize=9)
    left.legend(fontsize=8)
    x = np.arange(len(skills))
    bars = [(metric, kind) for metric in ("auc", "f1") for kind in AGGREGATIONS]
    width = 0.8 / len(bars)
    for k, (metric, kind) in enumerate(bars):
        right.bar(x + (k - (len(bars) - 1) / 2) * width,
                  [getattr(s.skill[kind], metric) for s in skills], width,
                  label=f"{metric.upper()} {kind}")
    right.set_xticks(x, [f"q = {s.q:g}\np = {s.p:g}" for s in skills])
    right.set_ylabel("test skill (1)")
    right.set_ylim(0, 1)
    right.set_title("test starts: mean, power mean, member fraction", fontsize=9)
    right.legend(fontsize=7, ncol=2, loc="lower left")
    fig.suptitle(f"{described}: exceedance within {args.lead:g}-{args.lead + args.window:g} "
                 f"MTU, {args.members} members, noise {args.ic_noise:g}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path("emulators_extreme_forecast"))
