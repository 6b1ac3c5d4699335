"""Reference for data_nino12_trend: least-squares slope of the monthly Nino-1+2 SST, 1950-2010.

Reads statsmodels' elnino table with pandas and fits a line with numpy.polyfit (time as year
+ (month - 1) / 12; a constant shift such as mid-month leaves the slope unchanged); nothing
from climcopilot is imported. Prints degC per decade.
"""

import numpy as np
from statsmodels.datasets import elnino

table = elnino.load_pandas().data.set_index("YEAR")
years = np.repeat(table.index.to_numpy(float), 12) + np.tile(np.arange(12) / 12, len(table))
slope = np.polyfit(years, table.to_numpy().ravel(), 1)[0]
print(f"trend {10 * slope:.4f} degC per decade ({years.size} months)")
