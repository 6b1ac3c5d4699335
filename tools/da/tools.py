"""The typed DA tools the agent calls: ``da.twin_experiment`` and ``da.sweep``.

torch and Dask are imported when a tool runs, not when the registry loads this module.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure  # drawn with Agg; pyplot's global state is left alone

from climcopilot.tools.base import Check, ToolContext, ToolResult, tool
from climcopilot.tools.da.inputs import SweepInput, TwinInput

if TYPE_CHECKING:
    import pandas as pd

    from climcopilot.tools.da.twin import TwinOutcome

STATE_UNITS = "state units (the system's variables are nondimensional)"


class TwinResult(ToolResult):
    """Scores of one twin experiment (time means after burn-in)."""

    rmse_a: float
    rmse_f: float
    spread_a: float | None
    wall_s: float
    climatological_std: float
    scored_cycles: int
    obs_operator: str  # identity, arctan, quadratic, abs or a plugin operator's name


def twin_checks(outcome: TwinOutcome, all_observed: bool) -> list[Check]:
    """Finite, better than climatology (not diverged), analysis <= forecast, spread ~ error."""
    from climcopilot.tools.da.twin import SKILL_FRACTION

    clim_std, obs_std = outcome.setup.clim.std, outcome.setup.obs.obs_var**0.5
    rmse_a, rmse_f = outcome.rmse_a, outcome.rmse_f
    blew_up = outcome.trace.diverged_at
    checks = [
        Check(name="finite", passed=blew_up is None and math.isfinite(rmse_a),
              detail="no blow-up" if blew_up is None
              else f"non-finite analysis at cycle {blew_up}"),
        Check(name="beats_climatology", passed=not outcome.diverged,
              detail=f"rmse_a {rmse_a:.3g} vs climatological std {clim_std:.3g} (skill "
                     f"below {SKILL_FRACTION:g} of it); failing means the filter diverged"),
        Check(name="analysis_improves_forecast", passed=rmse_a <= rmse_f,
              detail=f"rmse_a {rmse_a:.3g} vs rmse_f {rmse_f:.3g}"),
    ]
    if all_observed:
        checks.append(Check(name="beats_observations", passed=rmse_a < obs_std,
                            detail=f"rmse_a {rmse_a:.3g} vs obs error std {obs_std:.3g}"))
    if outcome.spread_a is not None:
        ratio = outcome.spread_a / rmse_a if rmse_a > 0 else math.inf
        checks.append(Check(name="spread_matches_error", passed=0.5 <= ratio <= 2.0,
                            detail=f"spread_a / rmse_a = {ratio:.2f} (want 0.5..2; tune infl)"))
    return checks


def plot_twin(outcome: TwinOutcome, args: TwinInput, path: Path) -> None:
    """Analysis/forecast RMS error and spread against time, burn-in shaded."""
    cycle_mtu = outcome.setup.dt * outcome.setup.dko
    t = [(k + 1) * cycle_mtu for k in range(args.Ko)]
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    ax.plot(t, outcome.err_f.numpy(), lw=0.6, color="tab:orange", label="forecast error")
    ax.plot(t, outcome.err_a.numpy(), lw=0.8, color="tab:blue", label="analysis error")
    if outcome.spread_a is not None:
        ax.plot(t, outcome.trace.spread_a.cpu().numpy(), lw=0.8, ls="--", color="tab:green",
                label="analysis spread")
    ax.axhline(outcome.setup.obs.obs_var**0.5, color="grey", lw=0.8, ls=":",
               label="obs error std")
    ax.axvspan(0, outcome.first_scored * cycle_mtu, color="grey", alpha=0.15, label="burn-in")
    ax.set_yscale("log")
    ax.set_xlabel("time (model time units)")
    ax.set_ylabel("RMS error / spread (state units)")
    ax.set_title(f"{args.method} on {outcome.described}: "
                 f"rmse_a = {outcome.rmse_a:.3f}")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


@tool("da.twin_experiment", family="da")
def twin_experiment(args: TwinInput, ctx: ToolContext) -> TwinResult:
    """Run a data-assimilation twin experiment: simulate a truth of a chaotic system (lorenz63,
    lorenz96, lorenz96_two_scale, or a plugin model), observe it with noise through an
    obs_operator (identity, arctan, quadratic, abs, or a plugin's), and estimate it with one
    method (oi, 3dvar, 4dvar, enkf, etkf, denkf, letkf, pf, ensf = ensemble score filter,
    ensf_learned = ensf with a learned climatological prior).
    Returns rmse_a (time
    mean after burn-in of the spatial RMS error of the analysis mean), rmse_f, spread_a and wall
    time, a figure of error and spread over time, and checks that flag a diverging filter.
    With forecast_model (a plugin model such as a torch emulator, or a built-in system with
    other parameters) the methods forecast with it while the truth comes from `system`: an
    imperfect-model twin. Conventions follow DAPPER: inflation multiplies the anomalies;
    B = xB x climatological covariance.
    Sakov & Oke (2008) benchmark: lorenz96, all sites observed, obs_var 1, dt 0.05, dko 1,
    Ko 1000; etkf N=24 infl=1.013 rot=true gives about 0.18. Bao et al. (2024) EnSF benchmark:
    lorenz96 N=100, arctan obs, obs_var 0.0025, dt 0.01, dko 10, Ko 150, burn_in 10, cold_start;
    ensf N=20 gives about 0.27."""
    from climcopilot.tools.da.twin import run_twin

    outcome = run_twin(args)
    figure = ctx.figure_path(f"da_twin_{args.method}")
    plot_twin(outcome, args, figure)
    values = {"rmse_a": outcome.rmse_a, "rmse_f": outcome.rmse_f, "wall_s": outcome.wall_s,
              "climatological_std": outcome.setup.clim.std}
    if outcome.spread_a is not None:
        values["spread_a"] = outcome.spread_a
    units = {name: STATE_UNITS for name in values}
    units["wall_s"] = "s"
    all_observed = outcome.setup.obs.n_obs == outcome.setup.system.dim
    checks = twin_checks(outcome, all_observed)
    scored = args.Ko - outcome.first_scored
    spread = "" if outcome.spread_a is None else f", spread_a {outcome.spread_a:.3f}"
    return TwinResult(
        summary=f"{args.method} on {outcome.described}: rmse_a "
                f"{outcome.rmse_a:.3f} (rmse_f {outcome.rmse_f:.3f}{spread}) over {scored} "
                f"scored cycles in {outcome.wall_s:.1f} s",
        values=values, units=units, figures=[str(figure)], checks=checks,
        rmse_a=outcome.rmse_a, rmse_f=outcome.rmse_f, spread_a=outcome.spread_a,
        wall_s=outcome.wall_s, climatological_std=outcome.setup.clim.std, scored_cycles=scored,
        obs_operator=outcome.setup.obs.name)


class SweepResult(ToolResult):
    """The sweep's table (one row per run) and its best setting by median rmse_a over seeds."""

    rows: list[dict[str, Any]]
    csv: str
    best: dict[str, Any]
    ranking: str  # each method's best median rmse_a, lowest first: "letkf 0.216 < enkf ..."


def median_table(table: pd.DataFrame) -> pd.DataFrame:
    """Median rmse_a over seeds per (method, N, infl), with the share of diverged runs."""
    keys = ["method", "N", "infl"]
    return (table.groupby(keys, dropna=False)
            .agg(rmse_a=("rmse_a", "median"), diverged=("diverged", "mean"))
            .reset_index())


def plot_sweep(medians: pd.DataFrame, path: Path) -> None:
    """Median rmse_a against inflation, one line per (method, N); others as dashed lines."""
    import pandas as pd

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    groups = medians.groupby(["method", "N"], dropna=False)
    for i, ((method, N), group) in enumerate(groups):
        label, color = (method if pd.isna(N) else f"{method} N={N:g}"), f"C{i % 10}"
        if group["infl"].notna().any() and len(group) > 1:
            ax.plot(group["infl"], group["rmse_a"], marker="o", color=color, label=label)
        else:
            ax.axhline(group["rmse_a"].iloc[0], ls="--", lw=1, color=color, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("multiplicative inflation of the anomalies (-)")
    ax.set_ylabel("median rmse_a over seeds (state units)")
    ax.set_title("DA sweep: analysis RMSE")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


@tool("da.sweep", family="da", long_running=True)
def sweep(args: SweepInput, ctx: ToolContext) -> SweepResult:
    """Run a grid of data-assimilation twin experiments (methods x ensemble sizes Ns x
    inflations infls x seeds) in parallel on Dask: a LocalCluster of n_workers processes, or
    the scheduler at `address`. Lost tasks of a dying worker are recomputed. Returns the tidy
    table (rows and a CSV in the workspace), the best setting by median rmse_a over seeds, and
    a plot of rmse_a against inflation. Same set-up fields as da.twin_experiment."""
    import pandas as pd  # only sweeps need pandas: a twin experiment starts without it

    from climcopilot.tools.da.sweep import run_sweep

    start = time.perf_counter()
    table = run_sweep(args)
    wall_s = time.perf_counter() - start
    csv = ctx.new_path("tables", "da_sweep", ".csv")
    table.to_csv(csv, index=False)
    medians = median_table(table)
    best = medians.sort_values("rmse_a").iloc[0].to_dict()
    figure = ctx.figure_path("da_sweep")
    plot_sweep(medians, figure)
    n_diverged = int(table["diverged"].sum())
    checks = [Check(name="best_setting_converged", passed=bool(best["diverged"] == 0),
                    detail=f"best setting diverged in {best['diverged']:.0%} of its seeds; "
                           f"{n_diverged} of {len(table)} runs diverged overall")]
    best_of = medians.loc[medians.groupby("method")["rmse_a"].idxmin()].sort_values("rmse_a")
    per_method = best_of.set_index("method")["rmse_a"]
    ranking = " < ".join(
        f"{row.method} {row.rmse_a:.3f}"
        + (f" (diverged in {row.diverged:.0%} of seeds)" if row.diverged > 0 else "")
        for row in best_of.itertuples())
    rows = json.loads(table.to_json(orient="records", double_precision=15))
    best = json.loads(pd.Series(best).to_json(double_precision=15))
    return SweepResult(
        summary=f"{len(table)} runs in {wall_s:.1f} s; best median rmse_a {best['rmse_a']:.3f} "
                f"with {best['method']} N={best['N']} infl={best['infl']}",
        values={"best_rmse_a": float(best["rmse_a"]), "n_runs": float(len(table)),
                **{f"rmse_a_{m}": float(v) for m, v in per_method.items()},
                "n_diverged": float(n_diverged), "wall_s": wall_s},
        units={"best_rmse_a": STATE_UNITS, "n_runs": "runs", "n_diverged": "runs",
               "wall_s": "s", **{f"rmse_a_{m}": STATE_UNITS for m in per_method.index}},
        figures=[str(figure)], checks=checks, rows=rows, csv=str(csv), best=best,
        ranking=ranking)
