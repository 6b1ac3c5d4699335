"""Online ensembles of hybrid designs: many two-scale Lorenz-96 closures, each trained offline
and run online in the one-level model, on a Dask cluster (one run per task).

A design is a choice of loss (``mse`` or ``mae``), dropout rate, memory (how many past
samples of X_k the closure also sees, tau = ``dt x sample_every`` apart) and input
normalisation (``standard``: z-score, ``minmax``: to [-1, 1], ``none``: raw X). Every run
of a design differs by its seed (initial weights, dropout masks, training subset); all runs
share one truth. A run reports its offline error (RMSE of the subgrid tendency U on an
independent truth run), its online error (RMSE of the one-level forecast of X against that
truth over ``forecast_duration``) and its stability (no blow-up over ``online_duration``).
Across runs: the Spearman rank correlation of offline and online error, and, by bootstrap over
each design's runs, how many runs it takes to tell a design from the best one.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from pydantic import Field
from scipy.stats import spearmanr, wasserstein_distance
from torch import Tensor, nn

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.emulators.hybrid import train_test_truth
from climcopilot.tools.emulators.inputs import HybridInput
from climcopilot.tools.emulators.limits import check_sweep, step_count
from climcopilot.tools.emulators.systems import Lorenz96, Lorenz96TwoScale, cpu_threads, rk4
from climcopilot.tools.emulators.vocabulary import CLOSURE_LOSSES
from climcopilot.tools.vocabulary import aliased

Loss = Annotated[Literal["mse", "mae"], aliased(CLOSURE_LOSSES)]  # "l1 loss" -> mae
Normalisation = Literal["standard", "minmax", "none"]
DESIGN_COLUMNS = ("loss", "dropout", "memory", "normalisation")
BLOW_UP = 1e3  # |X| beyond this (state units) counts as a blow-up


@dataclass(frozen=True)
class Design:
    """One closure design."""

    loss: Loss
    dropout: float
    memory: int  # past samples of X_k fed to the closure besides the current one
    normalisation: Normalisation

    @property
    def label(self) -> str:
        return f"{self.loss} d{self.dropout:g} m{self.memory} {self.normalisation}"


@dataclass(frozen=True)
class RunSettings:
    """What every run shares besides the truth: network, training and online durations."""

    width: int
    iterations: int
    max_samples: int
    forecast_duration: float  # MTU over which the online error is taken
    online_duration: float  # MTU of the online run (stability)


@dataclass(frozen=True)
class SweepTruth:
    """Slow states X and subgrid tendencies U (members, time, K) of a training and an
    independent test truth run, sampled every ``sample_every`` RK4 steps of ``dt`` MTU."""

    x_train: Tensor
    u_train: Tensor
    x_test: Tensor
    u_test: Tensor
    dt: float
    sample_every: int
    F: float


def lagged(x: Tensor, memory: int) -> Tensor:
    """(members, time, K) -> (members, time - memory, K, memory + 1): X_k(t), X_k(t - tau), ..."""
    n = x.shape[1] - memory
    return torch.stack([x[:, memory - lag: memory - lag + n] for lag in range(memory + 1)], -1)


class MemoryClosure(nn.Module):
    """``g(X_k(t), ..., X_k(t - memory tau))``: (..., K, memory + 1) -> (..., K), state units /
    MTU; inputs mapped by ``(x - shift) / spread``, outputs scaled by the training U's std."""

    def __init__(self, design: Design, shift: float, spread: float, scale: float,
                 width: int) -> None:
        super().__init__()
        self.shift, self.spread, self.scale = shift, spread, scale
        self.body = nn.Sequential(
            nn.Linear(design.memory + 1, width), nn.Tanh(), nn.Dropout(design.dropout),
            nn.Linear(width, width), nn.Tanh(), nn.Dropout(design.dropout),
            nn.Linear(width, 1)).double()

    def forward(self, inputs: Tensor) -> Tensor:
        return self.body((inputs - self.shift) / self.spread).squeeze(-1) * self.scale


def input_map(x: Tensor, normalisation: Normalisation) -> tuple[float, float]:
    """(shift, spread) of the inputs for ``normalisation``, from the training X."""
    if normalisation == "standard":
        return float(x.mean()), float(x.std())
    if normalisation == "minmax":
        low, high = float(x.min()), float(x.max())
        return (low + high) / 2, (high - low) / 2
    return 0.0, 1.0


def fit_design(truth: SweepTruth, design: Design, settings: RunSettings,
               seed: int) -> MemoryClosure:
    """Full-batch Adam (lr 1e-2) on the design's loss of g against U (normalised by U's std),
    on a random subset of ``max_samples`` training pairs."""
    torch.manual_seed(seed)
    inputs = lagged(truth.x_train, design.memory).reshape(-1, design.memory + 1)
    target = truth.u_train[:, design.memory:].reshape(-1)
    keep = torch.randperm(len(target))[: settings.max_samples]
    inputs, target = inputs[keep], target[keep]
    closure = MemoryClosure(design, *input_map(truth.x_train, design.normalisation),
                            float(target.std()), settings.width)
    loss_of = nn.functional.mse_loss if design.loss == "mse" else nn.functional.l1_loss
    optimiser = torch.optim.Adam(closure.parameters(), lr=1e-2)
    closure.train()
    for _ in range(settings.iterations):
        loss = loss_of(closure(inputs) / closure.scale, target / closure.scale)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return closure.eval()


@torch.no_grad()
def run_online(closure: MemoryClosure, model: Lorenz96, history: Tensor, *, dt: float,
               every: int, duration: float) -> tuple[Tensor, float]:
    """The one-level model ``dX/dt = L96(X) + g(X, past X)`` from ``history`` (members,
    memory + 1, K; last = now), sampled every ``every`` RK4 steps; the past samples are held
    within a sampling interval. Returns the samples (members, time, K), the start included,
    and the blow-up time (MTU; inf: none)."""
    samples = list(history.unbind(1))
    memory = history.shape[1] - 1
    past = torch.stack(samples[-2::-1], -1) if memory else None

    def tendency(x: Tensor) -> Tensor:
        inputs = x.unsqueeze(-1) if past is None else torch.cat((x.unsqueeze(-1), past), -1)
        return model.tendency(x) + closure(inputs)

    x, out = samples[-1], [samples[-1]]
    for k in range(1, step_count(duration, dt, allow_large=True) + 1):  # bounded by the tool
        x = rk4(tendency, x, dt)
        if k % every == 0:
            if not bool(torch.isfinite(x).all()) or float(x.abs().max()) > BLOW_UP:
                return torch.stack(out, 1), k * dt
            out.append(x)
            samples.append(x)
            if memory:
                past = torch.stack(samples[-2: -memory - 2: -1], -1)
    return torch.stack(out, 1), math.inf


def run_design(design: Design, seed: int, truth: SweepTruth,
               settings: RunSettings) -> dict[str, Any]:
    """Train one closure and score it: one row of the sweep table."""
    began = time.perf_counter()
    with cpu_threads(1):
        closure = fit_design(truth, design, settings, seed)
        m = design.memory
        with torch.no_grad():
            offline = float((closure(lagged(truth.x_test, m)) - truth.u_test[:, m:])
                            .pow(2).mean().sqrt())
        model = Lorenz96(N=truth.x_test.shape[-1], F=truth.F)
        states, blow_up = run_online(closure, model, truth.x_test[:, : m + 1], dt=truth.dt,
                                     every=truth.sample_every,
                                     duration=settings.online_duration)
    tau = truth.dt * truth.sample_every
    n_forecast = round(settings.forecast_duration / tau) + 1
    reference = truth.x_test[:, m:]
    online = (float((states[:, :n_forecast] - reference[:, :n_forecast]).pow(2).mean().sqrt())
              if states.shape[1] >= n_forecast else math.inf)
    return {**asdict(design), "design": design.label, "seed": seed, "offline_rmse": offline,
            "online_rmse": online, "stable": math.isinf(blow_up),
            "blow_up_time": blow_up if math.isfinite(blow_up) else None,
            "pdf_distance": float(wasserstein_distance(states.reshape(-1).numpy(),
                                                       reference.reshape(-1).numpy())),
            "wall_s": time.perf_counter() - began}


def sweep_truth(system: Lorenz96TwoScale, *, dt: float, sample_every: int,
                train_duration: float, test_duration: float, members: int, seed: int,
                allow_large: bool = False) -> SweepTruth:
    """The training truth (seed) and the independent test truth (seed + 1)."""
    x_train, u_train, x_test, u_test = train_test_truth(
        system, dt=dt, sample_every=sample_every, train_duration=train_duration,
        test_duration=test_duration, members=members, seed=seed, allow_large=allow_large)
    return SweepTruth(x_train=x_train, u_train=u_train, x_test=x_test, u_test=u_test, dt=dt,
                      sample_every=sample_every, F=system.F)


def ensemble_size(best: np.ndarray, other: np.ndarray, *, confidence: float, largest: int,
                  resamples: int = 2000, seed: int = 0) -> int | None:
    """The fewest runs n per design for which the median online error of n runs drawn with
    replacement from ``best`` is below that of n drawn from ``other`` in at least
    ``confidence`` of the bootstrap resamples; None if no n <= ``largest`` does."""
    rng = np.random.default_rng(seed)
    for n in range(1, largest + 1):
        a = np.median(rng.choice(best, (resamples, n)), axis=1)
        b = np.median(rng.choice(other, (resamples, n)), axis=1)
        if np.mean(a < b) >= confidence:
            return n
    return None


def rank_correlation(offline: np.ndarray, online: np.ndarray) -> tuple[float, float, int]:
    """Spearman rho and its two-sided p-value over the pairs with a finite online error, and
    their number (rho and p NaN below 3 pairs)."""
    finite = np.isfinite(online)
    if finite.sum() < 3:
        return math.nan, math.nan, int(finite.sum())
    rho, p = spearmanr(offline[finite], online[finite])
    return float(rho), float(p), int(finite.sum())


class ClosureSweepInput(HybridInput):
    """A grid of closure designs x runs, each trained offline and run online."""

    losses: list[Loss] = Field(["mse", "mae"], min_length=1, description="training losses")
    dropouts: list[float] = Field([0.0, 0.2], min_length=1,
                                  description="dropout rates after each hidden layer, 0..0.9")
    memories: list[int] = Field([0, 2], min_length=1, description="past samples of X_k the "
                                "closure also sees (0..10), tau = dt x sample_every apart")
    normalisations: list[Normalisation] = Field(
        ["standard", "none"], min_length=1, description="input normalisation: standard "
        "(z-score), minmax (to [-1, 1]) or none (raw X)")
    runs_per_design: int = Field(7, ge=1, le=1000, description="runs (seeds seed, seed + 1, "
                                 "...) of each design")
    width: int = Field(16, ge=1, le=256, description="hidden units of the closure's 2 layers")
    iterations: int = Field(300, ge=1, le=10_000, description="Adam iterations per closure")
    max_samples: int = Field(4000, ge=10, le=1_000_000, description="training pairs per run "
                             "(a random subset)")
    train_duration: float = Field(10.0, gt=0, le=100_000, description="truth MTU per member "
                                  "for training")
    online_duration: float = Field(5.0, gt=0, le=100_000, description="MTU of the test "
                                   "truth and of each online run (stability)")
    forecast_duration: float = Field(1.0, gt=0, le=100_000, description="MTU over which the "
                                     "online error (forecast RMSE of X) is taken")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="bootstrap share of resamples "
                              "in which the best design must win")
    largest_ensemble: int = Field(64, ge=1, le=10_000, description="largest ensemble size "
                                  "tried by the bootstrap")
    address: str | None = Field(None, description="Dask scheduler address (tcp://host:port); "
                                "null = start a LocalCluster on this machine")
    n_workers: int = Field(2, ge=1, le=256, description="LocalCluster worker processes")


class ClosureSweepResult(ToolResult):
    """The sweep table (rows and a CSV), per-design medians, and the statistics across runs."""

    rows: list[dict[str, Any]]
    csv: str
    designs: list[dict[str, Any]]  # per design: medians, stable fraction, ensemble size
    spearman_rho: float | None
    spearman_p: float | None
    best_design: str
    runner_up: str | None
    ensemble_size: int | None  # runs per design to tell best from runner-up; None: > largest


def design_grid(args: ClosureSweepInput) -> list[tuple[Design, int]]:
    """(design, seed) for every run, designs in the order of the lists."""
    if any(not 0 <= p <= 0.9 for p in args.dropouts) or any(not 0 <= m <= 10
                                                            for m in args.memories):
        raise ToolError(f"dropouts must lie in 0..0.9 and memories in 0..10; got dropouts="
                        f"{args.dropouts}, memories={args.memories}")
    designs = [Design(*choice) for choice in itertools.product(
        dict.fromkeys(args.losses), dict.fromkeys(args.dropouts), dict.fromkeys(args.memories),
        dict.fromkeys(args.normalisations))]
    seeds = range(args.seed, args.seed + args.runs_per_design)
    return [(design, seed) for design in designs for seed in seeds]


def run_closure_sweep(grid: list[tuple[Design, int]], truth: SweepTruth,
                      settings: RunSettings, *, address: str | None,
                      n_workers: int) -> list[dict[str, Any]]:
    """Every run of ``grid`` as a row, one Dask task per run (the truth scattered once)."""
    from climcopilot.tools.cluster import dask_client

    with dask_client(address, n_workers) as client:
        shared = client.scatter(truth, broadcast=True)
        designs, seeds = zip(*grid, strict=True)
        futures = client.map(run_design, designs, seeds, truth=shared, settings=settings,
                             pure=False)
        return client.gather(futures)


def design_summaries(rows: list[dict[str, Any]], *, confidence: float,
                     largest: int) -> list[dict[str, Any]]:
    """Per design, best (lowest median online error) first: medians of the errors, the
    stable fraction, and the bootstrap ensemble size to tell it from the best design."""
    by_design: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_design.setdefault(row["design"], []).append(row)

    def errors(design: str) -> np.ndarray:
        return np.array([r["online_rmse"] for r in by_design[design]], dtype=float)

    order = sorted(by_design, key=lambda d: (np.median(errors(d)), d))
    summaries = []
    for design in order:
        runs = by_design[design]
        summaries.append({
            **{c: runs[0][c] for c in DESIGN_COLUMNS}, "design": design, "runs": len(runs),
            "offline_rmse": float(np.median([r["offline_rmse"] for r in runs])),
            "online_rmse": float(np.median(errors(design))),
            "pdf_distance": float(np.median([r["pdf_distance"] for r in runs])),
            "stable_fraction": float(np.mean([r["stable"] for r in runs])),
            "ensemble_size_vs_best": None if design == order[0] else ensemble_size(
                errors(order[0]), errors(design), confidence=confidence, largest=largest)})
    return summaries


def plot_sweep(rows: list[dict[str, Any]], designs: list[dict[str, Any]], title: str,
               ctx: ToolContext) -> str:
    """Online against offline error, one colour per design (runs small, medians large)."""
    from climcopilot.tools.viz.figures import save_figure

    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    for i, design in enumerate(designs):
        runs = [r for r in rows if r["design"] == design["design"]
                and math.isfinite(r["online_rmse"])]
        color = colormaps["tab20"](i % 20)
        ax.scatter([r["offline_rmse"] for r in runs], [r["online_rmse"] for r in runs], s=8,
                   alpha=0.5, color=color)
        ax.scatter(design["offline_rmse"], design["online_rmse"], s=60, marker="D",
                   edgecolor="black", color=color,
                   label=f"{design['design']} ({design['stable_fraction']:.0%} stable)")
    ax.set_xlabel("offline error: RMSE of the subgrid tendency U (state units / MTU)")
    ax.set_ylabel("online error: forecast RMSE of X (state units)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, ncol=2, title="design (median; runs as dots)", title_fontsize=7)
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path("emulators_closure_sweep"))


@tool("emulators.closure_sweep", family="emulators", long_running=True, writes_files=True)
def closure_sweep(args: ClosureSweepInput, ctx: ToolContext) -> ClosureSweepResult:
    """Sweep hybrid closure designs for two-scale Lorenz-96 by online ensembles, in parallel
    on Dask (a LocalCluster of n_workers processes, or the scheduler at `address`): every
    combination of losses (mse, mae), dropouts, memories (past samples of X_k as inputs) and
    normalisations (standard, minmax, none), runs_per_design seeds each. Each run trains a
    small network g on the subgrid tendency U_k = -(hc/b) sum_j Y_jk and runs the one-level
    Lorenz-96 with it online. Reports per run and per design (medians): offline error (RMSE
    of U on an independent truth), online error (forecast RMSE of X over forecast_duration),
    stability (no blow-up over online_duration) and climate distance; the Spearman rank
    correlation (rho, p) of offline vs online error over the runs; and, by bootstrap over the
    runs of each design, the ensemble size needed to tell a design from the best one. Writes
    the table as a CSV in tables/ and a figure of online vs offline error."""
    from climcopilot.tools.emulators.catalog import get_system

    system = get_system("lorenz96_two_scale", **args.system_params())
    grid = design_grid(args)
    samples = step_count(args.train_duration, args.dt, allow_large=args.allow_large)
    check_sweep(runs=len(grid), iterations=args.iterations,
                pairs=min(args.max_samples, args.members * (samples // args.sample_every + 1)
                          * system.K),
                online_steps=step_count(args.online_duration, args.dt,
                                        allow_large=args.allow_large),
                allow_large=args.allow_large)
    began = time.perf_counter()
    with cpu_threads(1):
        truth = sweep_truth(system, dt=args.dt, sample_every=args.sample_every,
                            train_duration=args.train_duration,
                            test_duration=args.online_duration, members=args.members,
                            seed=args.seed, allow_large=args.allow_large)
    settings = RunSettings(width=args.width, iterations=args.iterations,
                           max_samples=args.max_samples,
                           forecast_duration=args.forecast_duration,
                           online_duration=args.online_duration)
    rows = run_closure_sweep(grid, truth, settings, address=args.address,
                             n_workers=args.n_workers)
    wall_s = time.perf_counter() - began
    return sweep_result(rows, args, ctx, system.describe(), wall_s)


def sweep_result(rows: list[dict[str, Any]], args: ClosureSweepInput, ctx: ToolContext,
                 described: str, wall_s: float) -> ClosureSweepResult:
    """The table written to tables/, the statistics, the figure and the checks."""
    import pandas as pd

    csv = ctx.new_path("tables", "emulators_closure_sweep", ".csv")
    pd.DataFrame(rows).to_csv(csv, index=False)
    designs = design_summaries(rows, confidence=args.confidence,
                               largest=args.largest_ensemble)
    offline = np.array([r["offline_rmse"] for r in rows])
    online = np.array([r["online_rmse"] for r in rows])
    rho, p, n_ranked = rank_correlation(offline, online)
    stable = float(np.mean([r["stable"] for r in rows]))
    best, runner = designs[0], (designs[1] if len(designs) > 1 else None)
    size = runner["ensemble_size_vs_best"] if runner else None
    figure = plot_sweep(rows, designs, f"{len(rows)} online runs of {len(designs)} closure "
                        f"designs, {described}: Spearman rho {rho:.2f} (p {p:.2g})", ctx)
    values = {"n_runs": float(len(rows)), "n_designs": float(len(designs)),
              "stable_fraction": stable, "wall_s": wall_s,
              "best_online_rmse": best["online_rmse"], "best_offline_rmse": best["offline_rmse"]}
    units = {"n_runs": "runs", "n_designs": "designs", "stable_fraction": "1",
             "wall_s": "s", "best_online_rmse": "state units",
             "best_offline_rmse": "state units / MTU"}
    if math.isfinite(rho):
        values.update(spearman_rho=rho, spearman_p=p)
        units.update(spearman_rho="1", spearman_p="1")
    if size is not None:
        values["ensemble_size"], units["ensemble_size"] = float(size), "runs per design"
    told = (f"{size} runs per design tell {best['design']!r} from {runner['design']!r} "
            f"({args.confidence:.0%} of bootstrap resamples)" if size is not None
            else f"no ensemble of up to {args.largest_ensemble} runs tells "
                 f"{best['design']!r} from {runner['design']!r}" if runner
            else "one design only")
    checks = [
        Check(name="ranked_enough_runs", passed=n_ranked >= 3,
              detail=f"{n_ranked} of {len(rows)} runs have a finite online error"),
        Check(name="best_design_stable", passed=best["stable_fraction"] == 1.0,
              detail=f"{best['design']!r}: {best['stable_fraction']:.0%} of its runs stable"),
    ]
    rows_json = [{k: None if isinstance(v, float) and not math.isfinite(v) else v
                  for k, v in row.items()} for row in rows]  # JSON has no inf
    return ClosureSweepResult(
        summary=f"{len(rows)} online runs of {len(designs)} designs in {wall_s:.1f} s: "
                f"Spearman rho of offline vs online error {rho:.3f} (p {p:.2g}, {n_ranked} "
                f"runs); {stable:.0%} stable; best {best['design']!r} (online RMSE "
                f"{best['online_rmse']:.3f}); {told}",
        values=values, units=units, figures=[figure], checks=checks, rows=rows_json,
        csv=str(csv), designs=designs, spearman_rho=rho if math.isfinite(rho) else None,
        spearman_p=p if math.isfinite(p) else None, best_design=best["design"],
        runner_up=runner["design"] if runner else None, ensemble_size=size)
