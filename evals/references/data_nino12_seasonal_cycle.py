"""Reference for data_nino12_seasonal_cycle: the mean seasonal cycle of the Nino-1+2 SST.

Reads statsmodels' elnino table (one row per year, one column per month) with pandas, removes
the centred 2x12-month moving average (the classical decomposition's trend) and averages the
deviations by calendar month; nothing from climcopilot is imported. Prints the months of
maximum and minimum and the peak-to-trough amplitude (degC).
"""

import numpy as np
import pandas as pd
from statsmodels.datasets import elnino

table = elnino.load_pandas().data.set_index("YEAR")
sst = pd.Series(table.to_numpy().ravel(),
                index=pd.date_range(f"{int(table.index[0])}-01", periods=table.size, freq="MS"))
weights = np.r_[0.5, np.ones(11), 0.5] / 12  # centred 2x12 moving average
trend = pd.Series(np.convolve(sst.to_numpy(), weights, mode="same"), index=sst.index)
trend.iloc[:6] = trend.iloc[-6:] = np.nan
cycle = (sst - trend).groupby(sst.index.month).mean()
print(cycle.round(3).to_dict())
print(f"month of max {cycle.idxmax()}, month of min {cycle.idxmin()}, "
      f"amplitude {cycle.max() - cycle.min():.3f} degC")
