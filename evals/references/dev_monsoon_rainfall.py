"""Reference for the dev tasks on summer-monsoon (JJAS) All-India rainfall: the wettest and
driest seasons and the JJAS correlations with Nino-3 and the SOI.

JJAS means of the monthly anomalies of the Torrence & Compo (1998) file (wtc_test_data_nino_
even.csv, column ``air``, 1871-2003; units as the catalog states them, mm per month), read with
pandas (dev_package_files.py); nothing from climcopilot. Runs in about a second.
"""

import pandas as pd
from dev_package_files import corr, season_means, soi, torrence_compo
from dev_report import report

JJAS = (6, 7, 8, 9)
rain = season_means(torrence_compo("air"), JJAS)
ranked = rain.sort_values()
report("dev_air_wettest_jjas_year", "year_of_max", float(ranked.index[-1]),
       f"{rain.size} seasons 1871-2003; wettest four "
       + ", ".join(f"{y} {v:+.1f}" for y, v in ranked.tail(4).iloc[::-1].items()))
report("dev_air_driest_jjas_followup", "year_of_min", float(ranked.index[0]),
       "driest four " + ", ".join(f"{y} {v:+.1f}" for y, v in ranked.head(4).items()))

both = pd.concat([rain, season_means(torrence_compo("nino"), JJAS)], axis=1).dropna()
report("dev_air_nino3_jjas_corr", "r", corr(both.iloc[:, 0], both.iloc[:, 1]),
       f"JJAS rainfall vs JJAS Nino-3, {len(both)} seasons")

both = pd.concat([rain, season_means(soi(), JJAS)], axis=1, join="inner").dropna()
monthly = pd.concat([torrence_compo("air"), soi()], axis=1, join="inner").dropna()
report("dev_air_soi_jjas_corr_terse", "r", corr(both.iloc[:, 0], both.iloc[:, 1]),
       f"JJAS rainfall vs JJAS SOI, {len(both)} seasons {both.index[0]}-{both.index[-1]}; "
       f"all months instead: {corr(*monthly.to_numpy().T):+.4f}")
