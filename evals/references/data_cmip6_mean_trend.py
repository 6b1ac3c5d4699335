"""Reference for data_cmip6_mean_trend (and data_cmip6_fastest_since_1980): the CMIP6 sample's
models' trends of air temperature at 1000 hPa over a period, and their mean.

Usage: ``python data_cmip6_mean_trend.py [FIRST LAST]`` (default 1950 2014).

Reads every monthly (Amon) historical ta file of esmvaltool-sample-data directly with netCDF4
(cftime dates for any calendar); per model: the 1000 hPa level, cells at the netCDF default
fill (9.97e36, below ground) masked, cos(latitude)-weighted mean over the few grid points,
calendar-year means of the monthly values FIRST-LAST, numpy.polyfit slope. Nothing from
climcopilot, xarray or intake is imported. Prints the model count, the largest trend and the
mean of the trends (K per decade).
"""

import sys
from collections import defaultdict
from pathlib import Path

import esmvaltool_sample_data
import netCDF4
import numpy as np

first, last = (int(y) for y in sys.argv[1:3]) if len(sys.argv) > 2 else (1950, 2014)
root = Path(esmvaltool_sample_data.__file__).parent / "data" / "timeseries" / "CMIP6"
files = defaultdict(list)
for path in root.rglob("ta_Amon_*_historical_*.nc"):
    files[path.name.split("_")[2]].append(path)

trends = {}
for model, paths in sorted(files.items()):
    sums: dict[int, list[float]] = defaultdict(list)
    for path in sorted(paths):
        with netCDF4.Dataset(path) as ds:
            time = ds["time"]
            dates = netCDF4.num2date(time[:], time.units, getattr(time, "calendar", "standard"))
            plev = np.asarray(ds["plev"][:], dtype=float)
            ta = np.ma.filled(ds["ta"][:, int(np.argmin(abs(plev - 100000.0)))].astype(float),
                              np.nan)  # (time, lat, lon)
            lat = np.asarray(ds["lat"][:], dtype=float)
        ta[np.abs(ta) > 1e30] = np.nan
        w = np.broadcast_to(np.cos(np.deg2rad(lat))[:, None], ta.shape[1:])
        for date, field in zip(dates, ta):
            ok = np.isfinite(field)
            if first <= date.year <= last and ok.any():
                sums[date.year].append(float((field[ok] * w[ok]).sum() / w[ok].sum()))
    years = np.array(sorted(sums), dtype=float)
    annual = np.array([np.mean(sums[int(y)]) for y in years])
    trends[model] = 10 * np.polyfit(years, annual, 1)[0]

top = max(trends, key=trends.get)
low = min(trends, key=trends.get)
print(f"{first}-{last}: {len(trends)} models; smallest trend {low} {trends[low]:.4f}; "
      f"largest trend {top} {trends[top]:.4f}; mean of trends "
      f"{np.mean(list(trends.values())):.4f} (K per decade)")
