"""Reference for data_co2_trend: least-squares slope of the Mauna Loa CO2 record from 1959 on.

Reads the statsmodels copy of the Keeling & Whorf (2004) weekly record directly with pandas and
fits a straight line with numpy.polyfit (time as year + fraction of the year elapsed); nothing
from climcopilot is imported. Prints the slope in ppm per decade.
"""

import numpy as np
from statsmodels.datasets import co2

s = co2.load_pandas().data["co2"].dropna()
s = s[s.index >= "1959-01-01"]
t = s.index.year + (s.index.day_of_year - 1) / np.where(s.index.is_leap_year, 366, 365)
slope = np.polyfit(t, s.to_numpy(), 1)[0]
print(f"trend {10 * slope:.3f} ppm per decade ({len(s)} weekly values, {s.index[0]:%Y-%m-%d} "
      f"to {s.index[-1]:%Y-%m-%d})")
