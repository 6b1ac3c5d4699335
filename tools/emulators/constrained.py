"""A two-scale Lorenz-96 closure that closes its energy budget by construction, beside a
loss-penalised and an unconstrained one.

In the two-scale model the coupling moves energy between the scales exactly: the slow
variables lose ``X . U`` per MTU (U_k = -(h c / b) sum_j Y_jk, the subgrid tendency) and the
fast ones gain it through their ``+(h c / b) X_k`` term. A closure of the one-level model
predicts the subgrid tendency ``g(X)`` (K,) and the energy transfer ``e(X)`` (a scalar, the
energy per MTU it hands to the unresolved scales, trained on ``X . U``), and the stated
quantity is its budget: ``X . g = e``. Every variant shares one network on the stencil
(X_{k-1}, X_k, X_{k+1}) giving ``g_hat_k`` and a transfer density ``eps_k`` with ``e = sum_k
eps_k``; then

* ``unconstrained``: g = g_hat, nothing links it to e;
* ``penalised``: g = g_hat, with ``penalty`` x mean((X . g - e)^2) / var(X . U) in the loss;
* ``constrained``: the constraint layer (Beucler et al. 2021) g = g_hat + X (e - X . g_hat) /
  |X|^2, so X . g = e to rounding, whatever the weights.

Everything is float64, so the constrained budget holds to about 1e-15 relative.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from matplotlib.figure import Figure
from pydantic import Field
from torch import Tensor, nn

from climcopilot.tools.base import Check, ToolContext, ToolResult, tool
from climcopilot.tools.emulators.hybrid import (
    ClimateComparison,
    OnlineRun,
    compare_climate,
    r_squared,
    run_one_level,
    train_test_truth,
)
from climcopilot.tools.emulators.inputs import HybridInput
from climcopilot.tools.emulators.limits import check_training, step_count
from climcopilot.tools.emulators.systems import Lorenz96, Lorenz96TwoScale, cpu_threads
from climcopilot.tools.viz.figures import save_figure

Variant = Literal["unconstrained", "penalised", "constrained"]
VARIANTS: tuple[Variant, ...] = ("unconstrained", "penalised", "constrained")


class BudgetClosure(nn.Module):
    """``(g, e)`` from X (..., K): the subgrid tendency (..., K) and the energy transfer (...),
    state units / MTU and state units^2 / MTU; ``constrained`` applies the constraint layer."""

    def __init__(self, x_mean: float, x_std: float, u_std: float, e_std: float, *,
                 constrained: bool, width: int = 32) -> None:
        super().__init__()
        self.x_mean, self.x_std, self.u_std, self.e_std = x_mean, x_std, u_std, e_std
        self.constrained = constrained
        self.body = nn.Sequential(nn.Linear(3, width), nn.Tanh(), nn.Linear(width, width),
                                  nn.Tanh(), nn.Linear(width, 2)).double()

    def raw(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``g_hat`` (..., K) and ``e`` (...) before the constraint layer."""
        z = (x - self.x_mean) / self.x_std
        stencil = torch.stack((z.roll(1, -1), z, z.roll(-1, -1)), -1)
        out = self.body(stencil)
        return out[..., 0] * self.u_std, out[..., 1].sum(-1) * self.e_std / x.shape[-1]

    def budget(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``g`` (..., K) and ``e`` (...)."""
        g_hat, e = self.raw(x)
        if self.constrained:
            g_hat = g_hat + x * ((e - (x * g_hat).sum(-1)) / (x * x).sum(-1)).unsqueeze(-1)
        return g_hat, e

    def forward(self, x: Tensor) -> Tensor:
        """The subgrid tendency g (..., K), what the one-level model adds."""
        return self.budget(x)[0]


def budget_error(x: Tensor, g: Tensor, e: Tensor, transfer_rms: float) -> Tensor:
    """|X . g - e| / rms(X . U) per state (...,): the closure's budget error, relative."""
    return ((x * g).sum(-1) - e).abs() / transfer_rms


def fit_budget_closure(x: Tensor, u: Tensor, variant: Variant, *, penalty: float,
                       iterations: int, seed: int) -> BudgetClosure:
    """Full-batch Adam on mse(g, U) / var(U) + mse(e, X . U) / var(X . U) (+ the penalty)
    over states ``x``, ``u`` (n, K)."""
    torch.manual_seed(seed)
    transfer = (x * u).sum(-1)
    closure = BudgetClosure(float(x.mean()), float(x.std()), float(u.std()),
                            float(transfer.std()), constrained=variant == "constrained")
    optimiser = torch.optim.Adam(closure.parameters(), lr=1e-2)
    for _ in range(iterations):
        g, e = closure.budget(x)
        loss = (((g - u) ** 2).mean() / u.var() + ((e - transfer) ** 2).mean() / transfer.var())
        if variant == "penalised":
            loss = loss + penalty * (((x * g).sum(-1) - e) ** 2).mean() / transfer.var()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return closure.eval()


@dataclass
class VariantScore:
    """One closure offline (R^2 of g and of e on the test truth; budget error, relative, mean
    and max over the test states) and online (budget error over the run's states; climate)."""

    r2_tendency: float
    r2_transfer: float
    budget_mean: float
    budget_max: float
    online_budget: Tensor  # (members, time) along the online run
    climate: ClimateComparison
    run: OnlineRun

    @property
    def online_budget_max(self) -> float:
        return float(self.online_budget.max())


@dataclass
class ConstrainedOutcome:
    """Each variant's closure and scores; the test truth's slow states (members, time, K)."""

    closures: dict[str, BudgetClosure]
    scores: dict[str, VariantScore]
    truth_x: Tensor
    wall_s: float


def run_constrained(system: Lorenz96TwoScale, *, dt: float, sample_every: int,
                    train_duration: float, online_duration: float, members: int,
                    penalty: float, iterations: int, seed: int,
                    allow_large: bool = False) -> ConstrainedOutcome:
    """Train the three variants on one truth run, score them on another, offline and online
    (the one-level model from the test truth's first states)."""
    began = time.perf_counter()
    x_train, u_train, x_test, u_test = train_test_truth(
        system, dt=dt, sample_every=sample_every, train_duration=train_duration,
        test_duration=online_duration, members=members, seed=seed, allow_large=allow_large)
    flat_x, flat_u = x_train.reshape(-1, system.K), u_train.reshape(-1, system.K)
    transfer_test = (x_test * u_test).sum(-1)
    rms = float(transfer_test.pow(2).mean().sqrt())
    model = Lorenz96(N=system.K, F=system.F)
    closures, scores = {}, {}
    for variant in VARIANTS:
        closure = fit_budget_closure(flat_x, flat_u, variant, penalty=penalty,
                                     iterations=iterations, seed=seed)
        run = run_one_level(model, closure, x_test[:, 0], dt=dt, duration=online_duration,
                            every=sample_every, seed=seed)
        with torch.no_grad():
            g, e = closure.budget(x_test)
            offline = budget_error(x_test, g, e, rms)
            online = budget_error(run.states, *closure.budget(run.states), rms)
        closures[variant] = closure
        scores[variant] = VariantScore(
            r2_tendency=r_squared(g, u_test), r2_transfer=r_squared(e, transfer_test),
            budget_mean=float(offline.mean()), budget_max=float(offline.max()),
            online_budget=online, climate=compare_climate(run, x_test),
            run=run)
    return ConstrainedOutcome(closures=closures, scores=scores, truth_x=x_test,
                              wall_s=time.perf_counter() - began)


class ConstrainedInput(HybridInput):
    """Energy-budget closures of two-scale Lorenz-96: constrained, penalised, unconstrained."""

    penalty: float = Field(1.0, ge=0, le=1e6, description="weight of the budget penalty of "
                           "the penalised closure (relative to the normalised fit losses)")
    iterations: int = Field(500, ge=1, le=20_000, description="Adam iterations per closure")


class ConstrainedResult(ToolResult):
    """Per variant: offline R^2, budget errors (relative), online climate."""

    variants: dict[str, dict[str, float]]


@tool("emulators.constrained_closure", family="emulators", long_running=True)
def constrained_closure(args: ConstrainedInput, ctx: ToolContext) -> ConstrainedResult:
    """Learn the two-scale Lorenz-96 subgrid closure with its energy budget: a network on
    (X_{k-1}, X_k, X_{k+1}) predicting the subgrid tendency g and the energy transfer e to
    the unresolved scales (trained on X.U, which the two-scale coupling conserves exactly).
    Three variants: constrained (a constraint layer makes X.g = e to machine precision),
    penalised (a loss penalty on X.g - e) and unconstrained. Reports each one's budget error
    |X.g - e| / rms(X.U) offline and along its online run, its offline R^2, and its online
    climate in the one-level model (mean drift, std ratio, Wasserstein distance, blow-up)."""
    from climcopilot.tools.emulators.catalog import get_system

    system = get_system("lorenz96_two_scale", **args.system_params())
    samples = step_count(args.train_duration, args.dt, allow_large=args.allow_large)
    check_training(epochs=args.iterations * len(VARIANTS),
                   pairs=args.members * (samples // args.sample_every + 1) * system.K,
                   rollout_steps=1, allow_large=args.allow_large)
    with cpu_threads(1):
        outcome = run_constrained(system, dt=args.dt, sample_every=args.sample_every,
                                  train_duration=args.train_duration,
                                  online_duration=args.online_duration, members=args.members,
                                  penalty=args.penalty, iterations=args.iterations,
                                  seed=args.seed, allow_large=args.allow_large)
    values, units, variants = {}, {}, {}
    for variant, s in outcome.scores.items():
        row = {"r2_tendency": s.r2_tendency, "r2_transfer": s.r2_transfer,
               "budget_error_mean": s.budget_mean, "budget_error_max": s.budget_max,
               "online_budget_error_max": s.online_budget_max,
               "mean_drift": s.climate.mean_drift, "std_ratio": s.climate.std_ratio,
               "pdf_distance": s.climate.pdf_distance}
        variants[variant] = {**row, "blow_up_time": s.climate.blow_up_time}
        for name, value in row.items():
            values[f"{name}_{variant}"] = value
            units[f"{name}_{variant}"] = ("state units" if name in ("mean_drift",
                                                                     "pdf_distance") else "1")
        stable = np.isinf(s.climate.blow_up_time)
        values[f"stable_{variant}"], units[f"stable_{variant}"] = float(stable), "1 (1 = yes)"
    figure = plot_constrained(ctx, outcome, system.describe())
    c, p = outcome.scores["constrained"], outcome.scores["penalised"]
    return ConstrainedResult(
        summary=f"{system.describe()}: budget error |X.g - e| / rms(X.U), max over the test "
                f"states: constrained {c.budget_max:.2g}, penalised {p.budget_max:.2g} "
                f"(penalty {args.penalty:g}), unconstrained "
                f"{outcome.scores['unconstrained'].budget_max:.2g}; online pdf distance "
                + ", ".join(f"{v} {s.climate.pdf_distance:.3f}"
                            for v, s in outcome.scores.items()),
        values=values, units=units, figures=[figure],
        checks=[Check(name="constrained budget below 1e-6 relative",
                      passed=max(c.budget_max, c.online_budget_max) < 1e-6,
                      detail=f"offline {c.budget_max:.2g}, online {c.online_budget_max:.2g}")],
        variants=variants)


def plot_constrained(ctx: ToolContext, outcome: ConstrainedOutcome, described: str) -> str:
    """Left: each variant's budget error along its online run (log); right: PDFs of X, the
    truth's and each online run's."""
    from climcopilot.tools.emulators.hybrid import value_histogram

    fig = Figure(figsize=(10, 4))
    ax_budget, ax_pdf = fig.subplots(1, 2)
    edges = np.linspace(float(outcome.truth_x.min()) - 2, float(outcome.truth_x.max()) + 2, 60)
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax_pdf.plot(centres, value_histogram(outcome.truth_x, edges), color="black", lw=2,
                label="two-scale truth")
    for variant, s in outcome.scores.items():
        ax_budget.semilogy(np.maximum(s.online_budget[0].numpy(), 1e-18), label=variant)
        ax_pdf.plot(centres, value_histogram(s.run.states, edges), label=variant)
    ax_budget.set_xlabel("online sample (member 0)")
    ax_budget.set_ylabel("|X.g - e| / rms(X.U) (1)")
    ax_budget.set_title("energy budget error along the online run (floor 1e-18)", fontsize=9)
    ax_budget.legend(fontsize=8)
    ax_pdf.set_xlabel("slow variable X_k (state units)")
    ax_pdf.set_ylabel("probability density (1 / state units)")
    ax_pdf.legend(fontsize=8)
    fig.suptitle(described, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path("emulators_constrained_closure"))
