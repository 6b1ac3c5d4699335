"""The typed causal-discovery tools the agent calls: causal.pcmci, causal.granger,
causal.koopman, causal.benchmark and causal.field_drivers."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field, field_validator, model_validator

from climcopilot.tools.analysis.series import LAG_UNIT, time_series
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.causal.benchmark import (
    METRICS,
    MethodName,
    classic_comparison,
    markdown_table,
    rossler_coupling_sweep,
    run_benchmark,
)
from climcopilot.tools.causal.drivers import find_drivers
from climcopilot.tools.causal.fields import FieldDriversResult, find_field_drivers
from climcopilot.tools.causal.granger import pairwise_granger, var_granger
from climcopilot.tools.causal.graph import LaggedGraph, Link
from climcopilot.tools.causal.known_graphs import BenchmarkData, make_system
from climcopilot.tools.causal.koopman import koopman_causality
from climcopilot.tools.causal.metrics import graph_metrics
from climcopilot.tools.causal.pcmci import CITest, run_pcmci
from climcopilot.tools.causal.plots import plot_graph
from climcopilot.tools.causal.series_table import (
    check_series,
    series_from_handles,
    series_from_lists,
)
from climcopilot.tools.causal.vocabulary import TERMS
from climcopilot.tools.data.bundled import BUNDLED, find_bundled
from climcopilot.tools.vocabulary import aliased

SystemName = Annotated[Literal["linear_var", "coupled_logistic", "rossler", "rossler_weak_chain",
                               "rossler_uncoupled", "lorenz96", "tigramite_tutorial"],
                       aliased(t for t in TERMS if t.kind == "causal_system")]
"""A benchmark system by its key, or any alias of :mod:`.vocabulary`."""


class SeriesInput(BaseModel):
    """Where the series come from: exactly one of handles, data or system."""

    handles: list[str] | None = Field(
        None, description="session objects with a 'time' dimension: 1-D DataArrays (one series "
                          "each), Datasets (one series per variable) or 2-D (time, x) arrays")
    data: list[list[float]] | None = Field(
        None, description="inline series: one list of T values per variable, equal lengths")
    names: list[str] | None = Field(None, description="names of the inline series")
    system: SystemName | None = Field(
        None, description="a benchmark system with a known graph instead of data; the result "
                          "then also scores the discovered graph against the truth")
    T: int = Field(1000, ge=50, le=100_000, description="length (time steps) of a system run")
    seed: int = Field(0, ge=0, description="random seed (system realisation, surrogates)")

    @model_validator(mode="after")
    def _one_source(self) -> SeriesInput:
        given = [k for k in ("handles", "data", "system") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of handles, data or system (got {given or 'none'})")
        return self


class DiscoveryResult(ToolResult):
    """Links found among the series, strongest first."""

    method: str
    series: list[str]
    n_time: int
    links: list[Link]
    cross_links: str = Field(description="links between different series, strongest first, "
                                         "as text ('none' if there are none)")
    truth: str = Field("", description="scores against the true graph, as text, when the "
                                       "data came from a benchmark system")
    warnings: list[str] = Field(default_factory=list)


def load_series(args: SeriesInput, ctx: ToolContext, tau_max: int
                ) -> tuple[np.ndarray, list[str], BenchmarkData | None]:
    """Checked (T, N) matrix, names, and the benchmark realisation when a system was asked."""
    bench = None
    if args.system:
        bench = make_system(args.system, T=args.T, seed=args.seed)
        x, names = bench.data, bench.names
    elif args.handles:
        x, names = series_from_handles(ctx, args.handles)
    else:
        x, names = series_from_lists(args.data, args.names)
    return check_series(x, names, tau_max), names, bench


def discovery_result(graph: LaggedGraph, n_time: int, ctx: ToolContext, title: str,
                     value_label: str, bench: BenchmarkData | None) -> DiscoveryResult:
    """Package a LaggedGraph: links table, graph figure, headline values and checks."""
    links = graph.links()
    fig = plot_graph(graph, ctx.figure_path(graph.method.replace("/", "_")), title, value_label)
    checks = [Check(name="p_values_in_unit_interval",
                    passed=all(0.0 <= lk.p_value <= 1.0 for lk in links),
                    detail="every reported p-value lies in [0, 1]"),
              Check(name="lags_within_range",
                    passed=all(0 <= lk.lag <= graph.tau_max for lk in links),
                    detail=f"every lag lies in 0..{graph.tau_max}")]
    truth = ""
    cross = [lk for lk in links if lk.source != lk.target]
    cross_links = "; ".join(f"{lk.source} {lk.kind} {lk.target} at lag {lk.lag} "
                            f"({value_label} {lk.value:+.2f}, p = {lk.p_value:.1g})"
                            for lk in cross) or "none"
    values = {"n_links": float(len(links)), "n_cross_links": float(len(cross)),
              "n_series": float(graph.n_vars), "n_time": float(n_time)}
    units = {"n_links": "count", "n_cross_links": "count", "n_series": "count",
             "n_time": "time steps"}
    if bench is not None:
        m = graph_metrics(bench.truth, graph.summary_adjacency(), graph.summary_score())
        defined = {f"truth_{k}": v for k, v in m.items() if k in METRICS and v == v}
        values.update(defined)  # NaN (e.g. AUROC without true links) is left out
        units.update(dict.fromkeys(defined, "1"))
        truth = ", ".join(f"{k.removeprefix('truth_').upper()} {v:.2f}"
                          for k, v in defined.items()) or "no true links to score"
    summary = (f"{graph.method}: {len(links)} significant links among {graph.n_vars} series"
               + (f"; strongest {links[0].source} -> {links[0].target} at lag {links[0].lag}"
                  if links else ""))
    return DiscoveryResult(summary=summary, values=values, units=units, figures=[str(fig)],
                           checks=checks, method=graph.method, series=graph.names,
                           n_time=n_time, links=links, cross_links=cross_links, truth=truth,
                           warnings=graph.notes)


class PcmciInput(SeriesInput):
    tau_max: int = Field(3, ge=1, le=60, description="largest lag tested (time steps)")
    tau_min: int = Field(1, ge=0, le=1, description="smallest lag: 1 = lagged links only, "
                                                     "0 = also contemporaneous links")
    test: CITest = Field("parcorr", description="conditional-independence test: 'parcorr' "
                         "(linear), 'cmiknn' (nonlinear, slow), 'gpdc' (nonlinear, smooth)")
    method: Literal["pcmci", "pcmciplus"] = Field(
        "pcmci", description="PCMCI (lagged links) or PCMCI+ (also orients lag-0 links)")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="significance level of a link "
                         "(after FDR correction when fdr is true)")
    fdr: bool = Field(True, description="Benjamini-Hochberg false-discovery-rate correction")
    pc_alpha: float | None = Field(None, gt=0, lt=1, description="significance level of the "
                                   "PC condition-selection step; null lets tigramite choose")
    max_conds_px: int | None = Field(
        None, ge=0, le=20, description="most parents of the driver conditioned on in the MCI "
        "test (null = all); 0 regains power for smooth, weakly coupled oscillators at some "
        "cost elsewhere (docs/causal.md)")


@tool("causal.pcmci", family="causal")
def pcmci(args: PcmciInput, ctx: ToolContext) -> DiscoveryResult:
    """Causal discovery among time series with PCMCI / PCMCI+ (tigramite).

    Finds lagged links X_i(t - lag) -> X_j(t) that survive conditioning on the other series'
    pasts, so indirect links and common drivers are removed. Returns the links table (source,
    target, lag in time steps, MCI partial correlation or CMI value, FDR-corrected p-value) and
    a graph figure. Use ParCorr for roughly linear dependence, cmiknn or gpdc for nonlinear.
    Assumes stationarity and no hidden common drivers.
    """
    x, names, bench = load_series(args, ctx, args.tau_max)
    graph = run_pcmci(x, names, tau_max=args.tau_max, tau_min=args.tau_min, test=args.test,
                      method=args.method, alpha=args.alpha, fdr=args.fdr,
                      pc_alpha=args.pc_alpha, max_conds_px=args.max_conds_px, seed=args.seed)
    label = "MCI partial correlation" if args.test == "parcorr" else "MCI statistic"
    return discovery_result(graph, len(x), ctx, f"{args.method.upper()} ({args.test})", label,
                            bench)


class GrangerInput(SeriesInput):
    max_lag: int = Field(3, ge=1, le=60, description="largest VAR order tried (time steps)")
    criterion: Literal["aic", "bic", "hqic", "fpe"] = Field(
        "aic", description="information criterion that picks the VAR order")
    mode: Literal["multivariate", "pairwise"] = Field(
        "multivariate", description="'multivariate': one VAR of all series, conditional tests "
        "(recommended); 'pairwise': bivariate tests, which also report indirect links")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="significance level of a link")
    fdr: bool = Field(True, description="Benjamini-Hochberg correction over all pairs")


@tool("causal.granger", family="causal")
def granger(args: GrangerInput, ctx: ToolContext) -> DiscoveryResult:
    """Granger causality among time series (statsmodels).

    'multivariate' fits one VAR (order by information criterion) and F-tests whether the lags
    of X_i improve the prediction of X_j given all other series. 'pairwise' tests each pair
    alone and is only a baseline: it reports indirect and common-driver links (a warning says
    so). Links are reported at the lag with the largest VAR coefficient; the p-value is the
    joint test over all lags. Linear, stationary dynamics assumed.
    """
    x, names, bench = load_series(args, ctx, args.max_lag)
    run = var_granger if args.mode == "multivariate" else pairwise_granger
    graph = run(x, names, max_lag=args.max_lag, criterion=args.criterion, alpha=args.alpha,
                fdr=args.fdr)
    return discovery_result(graph, len(x), ctx, f"Granger ({args.mode})", "VAR coefficient",
                            bench)


class KoopmanInput(SeriesInput):
    lags: int = Field(3, ge=1, le=20, description="delay-embedding depth = largest lag "
                                                  "(time steps)")
    n_features: int = Field(100, ge=10, le=1000, description="random Fourier observables "
                                                             "per dictionary")
    n_surrogates: int = Field(99, ge=19, le=2000, description="time-shift surrogates per pair")
    conditional: bool = Field(False, description="also give the target model all other "
                              "series (removes indirect links; slower)")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="significance level of a link")
    fdr: bool = Field(True, description="Benjamini-Hochberg correction over all pairs")


@tool("causal.koopman", family="causal")
def koopman(args: KoopmanInput, ctx: ToolContext) -> DiscoveryResult:
    """Koopman-operator (EDMD) causality for nonlinear time series.

    Lifts delay vectors into random Fourier observables and asks, for every ordered pair, how
    much the cause's observables reduce the one-step error of the target's linear (Koopman)
    dynamics. Significance against time-shift surrogates of the cause, so uncoupled
    oscillators come out clean. value = log error-variance reduction beyond the surrogate
    median; direction-specific. Bivariate by default (indirect links possible).
    """
    x, names, bench = load_series(args, ctx, args.lags)
    graph = koopman_causality(x, names, lags=args.lags, n_features=args.n_features,
                              n_surrogates=args.n_surrogates, conditional=args.conditional,
                              alpha=args.alpha, fdr=args.fdr, seed=args.seed)
    return discovery_result(graph, len(x), ctx, "Koopman causality",
                            "log error-variance reduction", bench)


class DriversInput(BaseModel):
    target: str = Field(description="the index to explain: a bundled series key or alias "
                        "(e.g. 'nino3', 'air', 'soi') or a session handle")
    candidates: list[str] | None = Field(
        None, min_length=1, description="candidate drivers (bundled keys or session handles); "
        "default every other bundled series at the target's frequency")
    tau_max: int = Field(6, ge=1, le=24, description="largest lead tested (steps of the common "
                         "frequency, e.g. months)")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="significance level (after FDR)")
    max_abs_corr: float = Field(0.8, gt=0, lt=1, description="a candidate whose lag-0 |r| with "
                                "the target or a kept candidate exceeds this is left out as a "
                                "near-duplicate")


class DriversResult(DiscoveryResult):
    target: str
    drivers: list[Link] = Field(description="links into the target, strongest first")
    left_out: list[str] = Field(description="candidates dropped as near-duplicates, and why")
    frequency: str
    start: str
    end: str


def _open_series(name: str, ctx: ToolContext) -> xr.DataArray:
    """The session series ``name`` if there is one, else the bundled series ``name``."""
    return time_series(ctx, name) if name in ctx.store else find_bundled(name).open()


@tool("causal.drivers", family="causal")
def drivers(args: DriversInput, ctx: ToolContext) -> DriversResult:
    """What leads a climate index? Which candidate series drive it, and at which lead.

    Puts the target and the candidates (default: all bundled series at its frequency) on their
    common period, removes each calendar month's mean and the linear trend, leaves out
    near-duplicates (e.g. the ONI beside Nino-3.4), runs PCMCI (ParCorr, FDR) and reports the
    links into the target with lag (steps of the common frequency), MCI partial correlation
    and p-value; values ``lead_<source>`` (steps) and ``mci_<source>`` give each driver's
    strongest link. A hidden common driver can still explain a link.
    """
    target = _open_series(args.target, ctx)
    key = target.attrs.get("dataset_id", args.target)
    if args.candidates is None:
        freq = target.attrs.get("frequency")
        names = [k for k, s in BUNDLED.items() if s.frequency == freq and k != key]
    else:
        names = [c for c in args.candidates if c != args.target]
    if not names:
        raise ToolError(f"no candidate drivers for {key!r}; name some with candidates "
                        f"(bundled keys or session series)")
    search = find_drivers(target, [_open_series(n, ctx) for n in names], [key, *names],
                          tau_max=args.tau_max, alpha=args.alpha,
                          max_abs_corr=args.max_abs_corr)
    base = discovery_result(search.graph, search.n_time, ctx,
                            f"What leads {key}", "MCI partial correlation", None)
    units = LAG_UNIT[search.frequency]
    found = "; ".join(f"{lk.source} leads by {lk.lag} {units[:-1] if lk.lag == 1 else units} "
                      f"(MCI {lk.value:+.2f}, p = {lk.p_value:.2g})" for lk in search.drivers)
    summary = (f"{key}, {search.start} to {search.end} ({search.frequency}): "
               + (found or f"no candidate leads it at alpha {args.alpha:g}")
               + (f"; left out as near-duplicates: {', '.join(search.left_out)}"
                  if search.left_out else ""))
    values, value_units = dict(base.values), dict(base.units)
    for lk in reversed(search.drivers):  # the strongest link of each source is written last
        values[f"lead_{lk.source}"], value_units[f"lead_{lk.source}"] = float(lk.lag), units
        values[f"mci_{lk.source}"], value_units[f"mci_{lk.source}"] = lk.value, "1"
    return DriversResult(**{**base.model_dump(), "summary": summary, "values": values,
                            "units": value_units}, target=key,
                         drivers=search.drivers, left_out=search.left_out,
                         frequency=search.frequency, start=search.start, end=search.end)


class BenchmarkInput(BaseModel):
    systems: list[SystemName] = Field(
        ["linear_var", "coupled_logistic", "rossler", "rossler_uncoupled", "lorenz96"],
        min_length=1, description="benchmark systems with known graphs")
    methods: list[MethodName] = Field(
        ["pcmci", "granger_var", "granger_pairwise"], min_length=1,
        description="methods to compare, each at its default settings")
    T: int = Field(1000, ge=100, le=20_000, description="length of each realisation (steps)")
    n_realizations: int = Field(3, ge=1, le=50, description="independent runs per system")
    tau_max: int = Field(3, ge=1, le=10, description="largest lag (time steps) for all methods")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="significance level (after FDR)")
    seed: int = Field(0, ge=0, description="seed of the first realisation")
    rossler_couplings: list[float] = Field(
        [], max_length=8, description="also run the Rossler network at these x-coupling "
        "strengths (rows 'rossler c=<value>'; the default system uses 0.15); shows where "
        "conditioning pays and where weak coupling makes it cost power")

    @field_validator("rossler_couplings")
    @classmethod
    def _couplings(cls, values: list[float]) -> list[float]:
        if any(not 0.0 <= c <= 0.5 for c in values):
            raise ValueError("rossler_couplings must lie in [0, 0.5] (0.2 already partly "
                             "synchronises the oscillators)")
        return values


class BenchmarkRow(BaseModel):
    system: str
    method: str
    auroc: float
    auprc: float
    f1: float
    tpr: float
    fpr: float
    tpr_at_fpr5: float = Field(description="true-positive rate at false-positive rate <= 0.05")
    seconds: float = Field(description="wall time per realisation (s)")


class BenchmarkResult(ToolResult):
    rows: list[BenchmarkRow]
    table: str = Field(description="the rows as a markdown table")
    comparison: str = Field("", description="per system, PCMCI's TPR at FPR <= 0.05 against "
                            "pairwise Granger's: higher, tie or lower")


@tool("causal.benchmark", family="causal", long_running=True)
def benchmark(args: BenchmarkInput, ctx: ToolContext) -> BenchmarkResult:
    """Score causal-discovery methods on systems with known causal graphs.

    Systems: linear VAR with a random sparse graph, coupled logistic maps, a network of five
    coupled Rossler oscillators (chain and fork, coupling 0.15; ``rossler_couplings`` sweeps the
    coupling), a weakly coupled Rossler chain, uncoupled Rossler oscillators, Lorenz-96,
    tigramite's tutorial process. Metrics over the summary graph (i -> j at any lag,
    self-links excluded): AUROC, AUPRC, F1 / TPR / FPR at the method's default threshold, and
    TPR at FPR <= 0.05 (methods compared at a common false-positive rate). Returns a table
    (NaN/'-' where undefined: no true links) and, per system, whether PCMCI's TPR at FPR <= 0.05
    is higher than pairwise Granger's (the classic result), a tie or lower, when both ran.
    """
    settings = {"T": args.T, "n_realizations": args.n_realizations, "tau_max": args.tau_max,
                "alpha": args.alpha, "seed": args.seed}
    rows = run_benchmark(list(args.systems), list(args.methods), **settings)
    rows += rossler_coupling_sweep(list(args.rossler_couplings), list(args.methods), **settings)
    values = {f"{r['system']}.{r['method']}.{m}": float(r[m])
              for r in rows for m in ("auroc", "tpr", "fpr", "tpr_at_fpr5")}
    finite = {k: v for k, v in values.items() if v == v}
    checks = [Check(name="rates_in_unit_interval",
                    passed=all(0.0 <= v <= 1.0 for v in finite.values()),
                    detail="every defined rate and area lies in [0, 1]")]
    table = markdown_table(rows)
    verdicts = classic_comparison(rows)
    comparison = "; ".join(f"{system}: PCMCI {verdict}" for system, verdict in verdicts.items())
    summary = (f"{len(args.methods)} methods on {len(args.systems)} systems, "
               f"{args.n_realizations} realisations of T={args.T}"
               + (f"; TPR at FPR <= 0.05, PCMCI vs pairwise Granger: {comparison}"
                  if comparison else ""))
    return BenchmarkResult(summary=summary, values=finite, units={k: "1" for k in finite},
                           checks=checks, rows=[BenchmarkRow(**r) for r in rows], table=table,
                           comparison=comparison)


class FieldDriversInput(BaseModel):
    field: str | None = Field(None, description="handle of a gridded DataArray (time, lat, lon),"
                              " ideally anomalies (seasonal cycle removed)")
    target: str | None = Field(None, description="handle of the target index (DataArray over "
                               "the same time axis)")
    synthetic_lag: int | None = Field(None, ge=1, le=12, description="instead of handles: a "
                                      "synthetic field whose planted precursor region leads "
                                      "the target by this many steps")
    reduction: Literal["boxes", "eofs"] = Field("boxes", description="'boxes': area-weighted "
                                                "means over a lat-lon grid of regions; 'eofs': "
                                                "leading principal components")
    n_lat_boxes: int = Field(3, ge=1, le=12, description="regions along latitude")
    n_lon_boxes: int = Field(6, ge=1, le=24, description="regions along longitude")
    n_eofs: int = Field(6, ge=1, le=30, description="principal components kept")
    tau_max: int = Field(6, ge=1, le=24, description="largest lead tested (time steps)")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="significance level (after FDR)")
    seed: int = Field(0, ge=0, description="seed of the synthetic field")

    @model_validator(mode="after")
    def _source(self) -> FieldDriversInput:
        if self.synthetic_lag is None and not (self.field and self.target):
            raise ValueError("give field and target handles, or synthetic_lag for the demo")
        return self


@tool("causal.field_drivers", family="causal")
def field_drivers(args: FieldDriversInput, ctx: ToolContext) -> FieldDriversResult:
    """Find where in a gridded field (time, lat, lon) precursors of a target index sit.

    Reduces the field to regional indices (lat-lon boxes, area-weighted) or EOF principal
    components, runs PCMCI (ParCorr, FDR) on them together with the target, and maps the
    significant links into the target back onto the grid: a map of precursor regions coloured
    by link strength and labelled with their lead (time steps). The regional indices are left
    in the session as '<field>_regions'.
    """
    if args.synthetic_lag is not None and not args.field:
        from climcopilot.tools.causal.fields import planted_precursor
        field, target, _ = planted_precursor(lag=args.synthetic_lag, seed=args.seed)
        name = "synthetic"
    else:
        field, target, name = ctx.get(args.field), ctx.get(args.target), args.field
    if not hasattr(field, "dims") or not {"time", "lat", "lon"} <= set(field.dims):
        raise ToolError(f"{args.field!r} must be a DataArray with dims (time, lat, lon)")
    return find_field_drivers(field, target, ctx, name, reduction=args.reduction,
                              n_boxes=(args.n_lat_boxes, args.n_lon_boxes),
                              n_eofs=args.n_eofs, tau_max=args.tau_max, alpha=args.alpha)
