"""Reference for the dev tasks on Mauna Loa CO2: the rise per year over 1965-1995 and the
1980 mean.

pandas/numpy on statsmodels' weekly Keeling & Whorf (2004) record (dev_package_files.py);
nothing from climcopilot. Time is year + fraction of the year elapsed. Runs in a second.
"""

import numpy as np
from dev_package_files import co2_weekly, ols_slope
from dev_report import report

co2 = co2_weekly()
part = co2[(co2.index.year >= 1965) & (co2.index.year <= 1995)]
years = part.index.year + (part.index.day_of_year - 1) / np.where(part.index.is_leap_year,
                                                                 366, 365)
annual = co2.groupby(co2.index.year).mean().loc[1965:1995]
report("dev_co2_rate_1965_1995", "trend_per_year", ols_slope(years, part.to_numpy()),
       f"ppm per year, OLS of {part.size} weekly values; of the 31 calendar-year means "
       f"{ols_slope(annual.index, annual.to_numpy()):.4f}")

year = co2[co2.index.year == 1980]
report("dev_co2_mean_1980", "mean", float(year.mean()),
       f"ppm, {year.size} weekly values of 1980 (NOAA GML's Mauna Loa 1980 annual mean: 338.7)")
