"""Plans composed from the question spec over the typed tools: open -> cut to the period and
season -> transforms in order -> the statistic asked -> a figure (series and fields); one
experiment or a sweep with every stated setting (data assimilation); one run of a system
with its parameters (dynamical systems). A condition no step can apply is named with its
reason (``Plan.not_applied``), never dropped."""

from __future__ import annotations

import re
from typing import Any

from climcopilot.agent.brains.offline.plans import Plan, PlannedStep, ref
from climcopilot.agent.spec import QuestionSpec, term_label
from climcopilot.tools.da.inputs import ENSEMBLE_METHODS, INFLATED_METHODS, ROTATED_METHODS
from climcopilot.tools.data.vocabulary import SERIES

FREQUENCY = {s.key: s.frequency for s in SERIES}
PALEO = {s.key for s in SERIES if s.time_axis == "age_ka"}
SERIES_QUANTITIES = {"correlation", "lag_correlation", "trend", "rate", "seasonal_cycle",
                     "dominant_period", "autocorrelation", "extreme_year", "range", "mean",
                     "std", "variance", "median", "skewness", "percentile", "exceedance",
                     "period_difference", "causal_direction"}
SYSTEM_QUANTITIES = {"lyapunov_exponent", "kaplan_yorke_dimension", "doubling_time",
                     "exponent_sum", "mean", "std", "variance"}
DA_QUANTITIES = {"analysis_rmse", "method_comparison"}
STATISTIC = {"trend": "analysis.trend", "rate": "analysis.trend",
             "seasonal_cycle": "analysis.seasonal_cycle", "dominant_period": "analysis.spectrum",
             "autocorrelation": "analysis.autocorrelation", "extreme_year": "analysis.extremes",
             "range": "analysis.describe", "mean": "analysis.describe",
             "std": "analysis.describe", "variance": "analysis.describe",
             "median": "analysis.describe", "skewness": "analysis.describe",
             "percentile": "analysis.describe", "exceedance": "analysis.describe"}
AFTER_ALIGN = ("detrend", "anomalies", "standardize")
"""Transforms of two series applied after they are put on their common period, so that both
lose a trend (or a cycle, a mean) fitted over the same years."""
DA_DEFAULTS: dict[str, Any] = {"N": 20, "infl": 1.0, "Ko": 1000, "dko": 1, "obs_var": 1.0,
                               "xB": 0.02, "loc_rad": 4.0}
"""Sakov & Oke (2008)'s Lorenz-96 set-up, where a question leaves a setting open."""


class Composer:
    """Builds one question's plan; ``not_applied`` collects what it could not apply."""

    def __init__(self, spec: QuestionSpec) -> None:
        self.spec = spec
        self.steps: list[PlannedStep] = []
        self.not_applied: dict[str, str] = {}
        self.lines: list[str] = []
        self.after_align = False

    def add(self, name: str, tool: str, arguments: dict[str, Any], line: str) -> str:
        self.steps.append(PlannedStep(name=name, tool=tool, arguments=arguments))
        self.lines.append(line)
        return name

    # -- series ------------------------------------------------------------------------------
    def series(self, key: str, label: str) -> dict[str, Any]:
        """Open ``key``, cut it to the period and season, apply the transforms in order;
        returns the reference to the handle the last step produced."""
        spec = self.spec
        name = term_label("series", key)
        current = ref(self.add(f"open_{label}", "data.open_series", {"name": key},
                               f"Open {name} from the bundled data."))
        cut: dict[str, Any] = {}
        if len(spec.periods) == 1 and spec.quantity != "period_difference":
            if key in PALEO:
                self.not_applied[f"period {spec.periods[0].label()}"] = (
                    f"{name} is dated in ka BP, not calendar years")
            elif spec.periods[0].last is None or not self.after_align:  # a pair: see below
                period = spec.periods[0]
                cut.update({k: v for k, v in (("start", period.start), ("end", period.end),
                                              ("last_years", period.last)) if v is not None})
        if spec.season:
            if FREQUENCY[key] != "monthly":
                self.not_applied[f"season {spec.season}"] = (
                    f"{name} is {FREQUENCY[key]}: it has no months to select")
            else:
                cut.update(season=spec.season,
                           seasonal_mean="seasonal_mean" in spec.transforms)
        if spec.region:
            self.not_applied[f"region {spec.region}"] = (
                f"{name} is one index for a fixed region: it cannot be cut to another")
        if cut:
            what = ", ".join(f"{k} {v}" for k, v in cut.items() if k != "seasonal_mean")
            mean = " (one mean per season and year)" if cut.get("seasonal_mean") else ""
            current = ref(self.add(f"subset_{label}", "analysis.subset",
                                   {"handle": current, **cut}, f"Cut it to {what}{mean}."))
        for transform in spec.transforms:
            if not (self.after_align and transform in AFTER_ALIGN):
                current = self.transform(transform, key, label, current)
        return current

    def transform(self, transform: str, key: str, label: str,
                  current: dict[str, Any]) -> dict[str, Any]:
        name, frequency = term_label("series", key), FREQUENCY[key]
        kind, _, size = transform.partition(":")
        if kind == "seasonal_mean":
            return current  # done by the season cut
        if kind in ("annual_mean", "anomalies") and frequency == "annual":
            return current  # already annual: no months to average or a cycle to remove
        if kind in ("annual_mean", "anomalies") and key in PALEO:
            self.not_applied[transform] = f"{name} is dated in ka BP, not calendar months"
            return current
        if kind == "annual_mean":
            return ref(self.add(f"annual_{label}", "analysis.annual_mean", {"handle": current},
                                "Average it per calendar year."))
        if kind == "detrend":
            return ref(self.add(f"detrend_{label}", "analysis.detrend", {"handle": current},
                                "Remove its linear trend."))
        if kind == "anomalies":
            return ref(self.add(f"anomalies_{label}", "analysis.anomalies", {"handle": current},
                                "Remove its mean seasonal cycle (one mean per calendar "
                                "month)."))
        if kind == "standardize":
            return ref(self.add(f"standard_{label}", "analysis.standardize",
                                {"handle": current}, "Standardise it (zero mean, unit "
                                                     "standard deviation)."))
        if kind == "running_mean":
            window = int(size)
            if self.spec.window_unit == "year" and frequency == "monthly":
                window *= 12
            return ref(self.add(f"smooth_{label}", "analysis.running_mean",
                                {"handle": current, "window": window},
                                f"Smooth it with a centred {window}-step running mean."))
        self.not_applied[transform] = "no tool applies this transform"
        return current

    def statistic_of_one(self, key: str) -> None:
        spec = self.spec
        handle = self.series(key, "a")
        quantity = spec.quantity or "mean"
        tool = STATISTIC[quantity] if quantity != "period_difference" else \
            "analysis.period_difference"
        arguments: dict[str, Any] = {"handle": handle}
        if quantity == "dominant_period":
            arguments["min_period"] = 1.0
        if quantity == "autocorrelation":
            arguments["lag"] = spec.lag or 1
        if quantity == "period_difference":
            years = spec.years if len(spec.years) == 4 else [2011, 2020, 1850, 1900]
            if len(spec.periods) == 1 and len(spec.years) == 2:  # "from 1960 to 2000"
                first, last = spec.years
                years = [last, last, first, first]
            elif len(spec.years) not in (0, 4):
                self.not_applied["periods"] = ("a change needs two periods (four years); "
                                               "compared 2011-2020 with 1850-1900")
            arguments["years"] = years
        if quantity == "extreme_year" and FREQUENCY[key] in ("monthly", "weekly") and \
                "seasonal_mean" not in spec.transforms and "annual_mean" not in spec.transforms:
            arguments["annual"] = self.extreme_of_years(key)
        if quantity == "exceedance":
            arguments["threshold"] = spec.settings["threshold"]
        if quantity == "percentile":
            if "percentile" in spec.settings:
                arguments["percentile"] = spec.settings["percentile"]
            else:
                self.not_applied["percentile"] = "say which one, e.g. the 95th percentile"
        self.add("stat", tool, arguments, f"Compute the {quantity.replace('_', ' ')}.")
        self.add("plot", "viz.line_plot", {"handles": [handle]}, "Plot it.")

    def extreme_of_years(self, key: str) -> bool:
        """Whether the extreme asked is of calendar years (the default: 'the warmest year',
        'the wettest'), not of single time steps ('the highest monthly value'); single steps
        of a weekly series are weeks, so 'monthly' is then named as not applied."""
        text = self.spec.text
        if re.search(r"\byears?\b|\bannual|\bdecades?\b", text) or not re.search(
                r"\bmonth(?:ly|s)?\b|\bweek(?:ly|s)?\b|\bvalues?\b|\bsingle\b", text):
            return True
        if FREQUENCY[key] == "weekly" and re.search(r"\bmonth(?:ly|s)?\b", text):
            self.not_applied["monthly values"] = (f"{term_label('series', key)} is weekly; "
                                                  "its weekly values were compared")
        return False

    def statistic_of_two(self, a: str, b: str) -> None:
        spec = self.spec
        self.after_align = True  # trends and cycles are removed over the common period
        first, second = self.series(a, "a"), self.series(b, "b")
        self.add("align", "analysis.align", {"a": first, "b": second},
                 "Put both on a common time axis over their overlap.")
        pair = [ref("align", 0), ref("align", 1)]
        last = spec.periods[0].last if len(spec.periods) == 1 else None
        if last is not None:  # the last years of the common period, the same for both
            pair = [ref(self.add(f"last_{label}", "analysis.subset",
                                 {"handle": handle, "last_years": last},
                                 f"Cut it to the last {last} years of the common period."))
                    for label, handle in (("a", pair[0]), ("b", pair[1]))]
        for transform in [t for t in spec.transforms if t in AFTER_ALIGN]:
            pair = [self.transform(transform, key, label, handle)
                    for key, label, handle in ((a, "a2", pair[0]), (b, "b2", pair[1]))]
        if spec.quantity == "causal_direction":
            stated = {k: v for k, v in spec.settings.items() if k in ("alpha", "mode", "method")}
            if spec.causal_tool == "causal.granger":
                lags = spec.settings.get("max_lag", 6)
                self.add("stat", "causal.granger", {"handles": pair, "max_lag": lags,
                                                    **stated},
                         f"Test Granger causality both ways (lags 1 to {lags} steps).")
            else:
                lags = spec.settings.get("tau_max", 6)
                self.add("stat", "causal.pcmci", {"handles": pair, "tau_max": lags,
                                                  "pc_alpha": 0.05, **stated},
                         f"Run PCMCI (lags 1 to {lags} steps), conditioning on both series' "
                         "pasts.")
        else:
            lag = {"lag": spec.lag, "max_lag": max(12, spec.lag)} if spec.lag else {}
            self.add("stat", "analysis.lag_correlation",
                     {"a": pair[0], "b": pair[1], "max_lag": 12, **lag},
                     "Correlate them at lags up to 12 steps, with a p-value from the "
                     "effective sample size.")
        self.add("plot", "viz.line_plot", {"handles": pair}, "Plot both.")

    # -- fields ------------------------------------------------------------------------------
    def field(self, key: str) -> dict[str, Any]:
        spec = self.spec
        arguments: dict[str, Any] = {"dataset": key, "handle": "field"}
        if key == "north_atlantic_z500_djf":
            arguments["level"] = 500
        if spec.region:
            arguments["region"] = spec.region
        if len(spec.periods) == 1 and spec.periods[0].last is not None:
            self.not_applied[f"period {spec.periods[0].label()}"] = (
                "a field is cut by years: name them (e.g. 1991-2020)")
        elif len(spec.periods) == 1:
            period = spec.periods[0]
            arguments.update({k: str(v) for k, v in (("start", period.start),
                                                      ("end", period.end)) if v is not None})
        self.add("open_field", "data.open_field", arguments,
                 f"Open {term_label('field', key)}.")
        self.add("eof", "analysis.eof", {"handle": "field", "n_modes": 3},
                 "Compute its EOFs with area weighting.")
        return ref("eof", 2)  # handles: eofs, pcs, pc1, pc2, ...

    def pc_correlation(self, field: str, series: str) -> None:
        spec = self.spec
        pc1 = self.field(field)
        saved = spec.periods
        self.spec = spec.model_copy(update={"periods": []})  # the field's period rules
        index = self.series(series, "b")
        self.spec = spec.model_copy(update={"periods": saved})
        self.add("align", "analysis.align", {"a": pc1, "b": index},
                 "Put the first principal component and the index on common years.")
        self.add("stat", "analysis.lag_correlation",
                 {"a": ref("align", 0), "b": ref("align", 1), "max_lag": 2},
                 "Correlate them.")
        self.add("plot", "viz.line_plot", {"handles": [ref("align", 0), ref("align", 1)]},
                 "Plot both.")

    # -- models ------------------------------------------------------------------------------
    def system_run(self) -> None:
        spec = self.spec
        params = {k: v for k, v in spec.system_params.items()}
        system = spec.system or "lorenz96"
        if spec.quantity in ("mean", "std", "variance"):
            self.add("stat", "emulators.simulate",
                     {"system": system, **params, "duration": 100, "members": 4},
                     f"Simulate {term_label('dynamical_system', system)} for 100 time units "
                     "(4 members) after spin-up and take its long-run statistics.")
        else:
            self.add("stat", "emulators.lyapunov", {"system": system, **params},
                     f"Compute the Lyapunov spectrum of "
                     f"{term_label('dynamical_system', system)} (QR method).")

    def assimilation(self) -> None:
        spec = self.spec
        system = spec.system or "lorenz96"
        settings = {k: v for k, v in spec.settings.items() if k != "component"}
        scored = settings.pop("scored_cycles", None)
        if scored is not None:  # cycles first..last: the run ends there, scored from first
            settings.setdefault("Ko", scored[1] + 1)
            if "dt" in settings:
                settings["burn_in"] = round(scored[0] * settings.get("dko", 1) * settings["dt"],
                                            12)
            else:
                self.not_applied[f"cycles {scored[0]} to {scored[1]}"] = (
                    "the burn-in is in model time: state the time step (dt)")
        common = {"system": system,
                  **({"system_params": spec.system_params} if spec.system_params else {}),
                  **{k: settings.get(k, DA_DEFAULTS[k]) for k in ("Ko", "dko", "obs_var",
                                                                  "xB")},
                  **{k: settings[k] for k in ("obs_sites", "dt", "burn_in", "obs_operator",
                                              "cold_start") if k in settings}}
        if spec.quantity == "method_comparison" and len(spec.methods) >= 2:
            self.add("stat", "da.sweep", {
                **common, "methods": spec.methods, "Ns": [settings.get("N", 40)],
                "infls": [settings["infl"]] if "infl" in settings else [1.02, 1.06],
                "seeds": [0, 1, 2], "rot": bool(settings.get("rot", True)),
                **({"loc_rad": settings["loc_rad"]} if "loc_rad" in settings else {})},
                "Run the twin experiments for each method (three seeds, on Dask) and rank "
                "them by median analysis RMSE.")
            return
        method = spec.methods[0] if spec.methods else "etkf"
        own = {"N": settings.get("N", DA_DEFAULTS["N"])} if method in ENSEMBLE_METHODS else {}
        if method in INFLATED_METHODS:
            own["infl"] = settings.get("infl", DA_DEFAULTS["infl"])
        if method in ROTATED_METHODS:
            own["rot"] = bool(settings.get("rot", False))
        if method == "letkf":
            own["loc_rad"] = settings.get("loc_rad", DA_DEFAULTS["loc_rad"])
        if method == "4dvar" and "lag" in settings:
            own["lag"] = settings["lag"]
        for name in sorted(set(settings) & {"N", "infl", "rot", "loc_rad"} - set(own)):
            self.not_applied[f"{name} = {settings[name]}"] = f"{method} does not take {name}"
        self.add("stat", "da.twin_experiment", {**common, "method": method, **own, "seed": 0},
                 f"Run one {method} twin experiment with the stated set-up and report its "
                 "analysis RMSE.")

    # -- tipping points ----------------------------------------------------------------------
    def ricker(self) -> dict[str, Any]:
        """Simulate the Ricker map with its harvesting ramp (the question's settings)."""
        args = {k: v for k, v in self.spec.settings.items()
                if k in ("tmax", "F_start", "F_end", "seed", "r", "k", "h")}
        self.add("ricker", "analysis.simulate_ricker", args,
                 "Simulate the harvested Ricker map with the harvesting ramped through its "
                 "fold (and find the fold from the noise-free map).")
        return ref("ricker", 0)

    def early_warning(self) -> None:
        """Early-warning signals before a transition: of the simulated Ricker map, or of a
        series (a paleo record cut to the ages the question names)."""
        spec = self.spec
        ews = {k: v for k, v in spec.settings.items()
               if k in ("transition", "detrend", "span", "bandwidth", "window")}
        if spec.bifurcation_system:
            handle = self.ricker()
        else:
            key = spec.series[0]
            handle = ref(self.add("open_a", "data.open_series", {"name": key},
                                  f"Open {term_label('series', key)} from the bundled data."))
            if "ages" in spec.settings and key in PALEO:
                oldest, youngest = spec.settings["ages"]
                handle = ref(self.add("subset_a", "analysis.subset",
                                      {"handle": handle, "oldest_ka": oldest,
                                       "youngest_ka": youngest},
                                      f"Cut it to {oldest:g}-{youngest:g} ka BP."))
            elif len(spec.periods) == 1 and key not in PALEO:
                period = spec.periods[0]
                cut = {k: v for k, v in (("start", period.start), ("end", period.end),
                                         ("last_years", period.last)) if v is not None}
                handle = ref(self.add("subset_a", "analysis.subset", {"handle": handle, **cut},
                                      f"Cut it to {period.label()}."))
        self.add("stat", "analysis.early_warning", {"handle": handle, **ews},
                 "Detrend it, then trend the rolling variance, coefficient of variation, lag-1 "
                 "autocorrelation and skewness up to the transition (Kendall tau), against "
                 "phase-randomised surrogates.")

    # -- the plan ----------------------------------------------------------------------------
    def plan(self) -> Plan | None:
        """The composed plan, or None when composition does not cover this question (a
        recipe may)."""
        spec, quantity = self.spec, self.spec.quantity
        if quantity == "pc_correlation" and spec.fields and spec.series:
            self.pc_correlation(spec.fields[0], spec.series[0])
        elif quantity == "eof_share" and spec.fields:
            self.field(spec.fields[0])
        elif quantity in SERIES_QUANTITIES and len(spec.series) >= 2 and quantity in (
                "correlation", "lag_correlation", "causal_direction"):
            self.statistic_of_two(spec.series[0], spec.series[1])
        elif quantity in SERIES_QUANTITIES - {"correlation", "lag_correlation",
                                              "causal_direction"} and spec.series:
            self.statistic_of_one(spec.series[0])
        elif quantity in SYSTEM_QUANTITIES and spec.system and not spec.series \
                and not spec.methods:
            self.system_run()
        elif quantity in DA_QUANTITIES:
            self.assimilation()
        elif quantity == "early_warning" and (spec.series or spec.bifurcation_system):
            self.early_warning()
        elif quantity == "fold" and spec.bifurcation_system:
            self.ricker()
        elif quantity == "parameter_inference" and spec.system:
            self.add("stat", "emulators.infer_parameters",
                     {"system": spec.system, **spec.settings},
                     "Simulate a noisy, sparse record of "
                     f"{term_label('dynamical_system', spec.system)} and recover its parameters "
                     "through the solver (L-BFGS on RK4 windows, Laplace standard errors) or by "
                     "ensemble Kalman inversion.")
        elif quantity == "generative_emulator" and spec.system:
            self.add("stat", "emulators.generative_emulator", dict(spec.system_params),
                     "Train a conditional Gaussian emulator of Lorenz-96 (mean and spread by "
                     "ring convolutions), forecast ensembles from perturbed starts and score "
                     "spread-skill and CRPS at 1 Lyapunov time against the deterministic "
                     "emulator, and the small-scale energy after 10.")
        elif quantity in ("closure_sweep", "closure_uncertainty") and spec.system:
            sweep = quantity == "closure_sweep"
            self.add("stat", f"emulators.{quantity}",
                     {**spec.settings, **({"n_workers": 2} if sweep else {})},
                     "Run hybrid online runs over the design choices (loss, dropout, memory, "
                     "normalisation; seeds) on Dask and rank offline against online error."
                     if sweep else "Train an ensemble closure with memory, score its 90 % "
                     "predictive intervals on held-out tendencies, and test low-, high- and "
                     "multi-fidelity closures at a forcing outside training.")
        elif quantity in ("joint_closure", "constrained_closure") and spec.system:
            tool = f"emulators.{quantity}"
            self.add("stat", tool, {},
                     "Learn the two-scale Lorenz-96 closure "
                     + ("jointly with the forcing through the solver, then forecast online "
                        "beside the closure trained offline." if quantity == "joint_closure"
                        else "with its energy budget closed by construction, beside one "
                             "penalised in the loss."))
        elif quantity == "extreme_forecast" and spec.system:
            self.add("stat", "emulators.extreme_forecast",
                     {"system": spec.system, **spec.system_params, **spec.settings},
                     f"Forecast {term_label('dynamical_system', spec.system)} with an ensemble "
                     "from perturbed starts and score the mean and the power mean of the "
                     "members as predictors of local-quantile exceedances.")
        else:
            return None
        for condition in spec.unsupported:
            self.not_applied[condition] = "no tool computes it"
        return Plan(lines=self.lines, steps=self.steps, answer=quantity or "",
                    key=plan_key(spec), not_applied=self.not_applied)


def plan_key(spec: QuestionSpec) -> str:
    """What a composed answer is about, independent of wording: the quantity, the subjects
    and every condition (the memory key of its finding)."""
    parts = [spec.quantity or "", ",".join(spec.subjects()),
             ";".join(p.label() for p in spec.periods), spec.season or "",
             ",".join(spec.transforms), f"lag={spec.lag}" if spec.lag is not None else "",
             ",".join(f"{k}={v}" for k, v in sorted({**spec.settings,
                                                     **spec.system_params}.items()))]
    return "composed|" + "|".join(parts)


def compose(spec: QuestionSpec) -> Plan | None:
    """The plan composed from ``spec``, or None when no composition covers it."""
    return Composer(spec).plan()
