"""Reference for the dev tasks on the monthly ENSO indices (SOI, Nino-3, Nino-3.4, ONI,
Nino-1+2): autocorrelations, correlations over sub-periods, after a running mean, of seasonal
means and of anomalies, and the warmest year of Nino-1+2.

pandas/numpy on the package files (dev_package_files.py); nothing from climcopilot. Series
are matched by calendar month; months where either is missing are dropped. Runs in a few
seconds: ``.venv/bin/python evals/references/dev_enso_indices.py``.
"""

import pandas as pd
from dev_package_files import (
    acf,
    corr,
    monthly_anomalies,
    nino12,
    oni_table,
    season_means,
    soi,
    torrence_compo,
)
from dev_report import report


def common(*series: pd.Series) -> pd.DataFrame:
    """The series side by side on the months (or years) they all cover."""
    return pd.concat(series, axis=1, join="inner").dropna()


SOI, NINO3, NINO34 = soi(), torrence_compo("nino"), oni_table("NINO34_ANOM")

report("dev_soi_acf_lag3_terse", "acf", acf(SOI.to_numpy(), 3),
       f"SOI, {SOI.size} months 1951-2019; lags 1, 2, 6: "
       + ", ".join(f"{acf(SOI.to_numpy(), k):.4f}" for k in (1, 2, 6)))
report("dev_nino34_acf_lag6", "acf", acf(NINO34.to_numpy(), 6),
       f"Nino-3.4 anomaly, {NINO34.size} months {NINO34.index[0]} to {NINO34.index[-1]} "
       f"(no gaps); lags 3, 5, 7, 12: "
       + ", ".join(f"{acf(NINO34.to_numpy(), k):.4f}" for k in (3, 5, 7, 12)))

per_year = NINO34.groupby(NINO34.index.year).agg(["mean", "count"])
annual = per_year.loc[per_year["count"] == 12, "mean"]
report("dev_nino34_annual_acf", "acf", acf(annual.to_numpy(), 1),
       f"calendar-year means of complete years {annual.index[0]}-{annual.index[-1]} "
       f"({annual.size}); the monthly lag-12 value is {acf(NINO34.to_numpy(), 12):+.3f}")

both = common(SOI, NINO34)
sub = both[(both.index.year >= 1971) & (both.index.year <= 1990)]
report("dev_soi_nino34_1971_1990_followup", "r", corr(sub[0], sub[1]),
       f"{len(sub)} months 1971-01 to 1990-12; whole overlap ({len(both)} months) "
       f"{corr(both[0], both[1]):+.4f}")

both = common(SOI, oni_table("ONI"))
report("dev_soi_oni_followup", "r", corr(both[0], both[1]),
       f"SOI vs ONI, {len(both)} months {both.index[0]} to {both.index[-1]}")

both = common(SOI, NINO3)
smooth = both.rolling(5, center=True).mean().dropna()
report("dev_soi_nino3_running_mean5", "r", corr(smooth[0], smooth[1]),
       f"centred 5-month means of the {len(both)} common months ({len(smooth)} left); "
       f"unsmoothed {corr(both[0], both[1]):+.4f}, 3-month "
       f"{corr(*both.rolling(3, center=True).mean().dropna().to_numpy().T):+.4f}")

raw12 = nino12()
both = common(monthly_anomalies(raw12), NINO3)
overlap_base = common(monthly_anomalies(raw12[raw12.index.year <= 2003]), NINO3)
unremoved = common(raw12, NINO3)
report("dev_nino12_anomaly_nino3_corr", "r", corr(both[0], both[1]),
       f"Nino-1+2 minus its calendar-month means (1950-2010) vs Nino-3, {len(both)} months; "
       f"climatology over the 1950-2003 overlap {corr(*overlap_base.to_numpy().T):+.4f}; "
       f"seasonal cycle left in {corr(*unremoved.to_numpy().T):+.4f}")

djf = common(season_means(SOI, (12, 1, 2)), season_means(NINO34, (12, 1, 2)))
report("dev_soi_nino34_djf_corr", "r", corr(djf.iloc[:, 0], djf.iloc[:, 1]),
       f"DJF means labelled by the January year, {len(djf)} winters "
       f"{djf.index[0]}-{djf.index[-1]} (the SOI starts in 1951-01, so DJF 1951 is incomplete)")

yearly = raw12.groupby(raw12.index.year).mean()
ranked = yearly.sort_values(ascending=False)
report("dev_nino12_warmest_year", "year_of_max", float(ranked.index[0]),
       "calendar-year means 1950-2010; top three "
       + ", ".join(f"{y} {v:.3f}" for y, v in ranked.head(3).items()))
report("dev_nino12_warmest_year", "max_value", float(ranked.iloc[0]),
       f"degC; the warmest single month is {raw12.idxmax()} ({raw12.max():.2f} degC)")
