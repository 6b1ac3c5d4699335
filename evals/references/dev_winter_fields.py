"""Reference for the dev tasks on the eofs example fields: the leading EOF of North Atlantic
DJF 500 hPa height over sub-periods, and how the first principal component of Pacific NDJFM
SST anomalies tracks the NDJFM-mean Nino-3.4 and Nino-3 indices.

eofs.standard.Eof (Dawson 2016) on the files read with netCDF4, sqrt(cos(latitude)) weights
as in eofs' examples; each winter is labelled by the year of its January (the files' time
stamps). The PC's sign is fixed so that EOF1 loads positively in the Nino-3 box (5S-5N,
150W-90W; El Nino positive, the usual convention). Nothing from climcopilot. Runs in ~2 s.
"""

import netCDF4
import numpy as np
import pandas as pd
from dev_package_files import (
    corr,
    eofs_file,
    oni_table,
    season_means,
    torrence_compo,
)
from dev_report import report
from eofs.standard import Eof


def read(name: str, variable: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(field (time, lat, lon) with NaN for missing cells, lat, lon, January year)."""
    with netCDF4.Dataset(eofs_file(name)) as ds:
        field = np.ma.filled(ds[variable][:].astype(float), np.nan)
        t = ds["time"]
        years = np.array([d.year for d in netCDF4.num2date(t[:], t.units)])
        return (field.reshape(field.shape[0], *field.shape[-2:]),
                np.asarray(ds["latitude"][:], float), np.asarray(ds["longitude"][:], float),
                years)


def weights(lat: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(np.cos(np.deg2rad(lat)), 0, None))[:, np.newaxis]


z, lat, _, years = read("hgt_djf.nc", "z")
whole = Eof(z, weights=weights(lat)).varianceFraction(neigs=1)[0]
for task, keep in (("dev_z500_eof1_1960_1999_terse", (years >= 1960) & (years <= 1999)),
                   ("dev_z500_eof1_before_1980_followup", years < 1980)):
    fraction = Eof(z[keep], weights=weights(lat)).varianceFraction(neigs=2)
    report(task, "eof1_variance_fraction", float(fraction[0]),
           f"{keep.sum()} winters {years[keep][0]}-{years[keep][-1]}; EOF2 {fraction[1]:.4f}; "
           f"all 65 winters {whole:.4f}")

sst, lat, lon, years = read("sst_ndjfm_anom.nc", "sst")
solver = Eof(sst, weights=weights(lat))
pattern = solver.eofsAsCovariance(neofs=1)[0]
nino3_box = (np.abs(lat)[:, None] <= 5) & (lon[None, :] >= 210) & (lon[None, :] <= 270)
sign = np.sign(np.nanmean(np.where(nino3_box, pattern, np.nan)))
pc1 = pd.Series(sign * solver.pcs(npcs=1)[:, 0], index=years)
NDJFM = (11, 12, 1, 2, 3)
for task, index in (("dev_pacific_pc1_nino34", oni_table("NINO34_ANOM")),
                    ("dev_pacific_pc1_nino3_followup", torrence_compo("nino"))):
    both = pd.concat([pc1, season_means(index, NDJFM)], axis=1, join="inner").dropna()
    report(task, "r", corr(both.iloc[:, 0], both.iloc[:, 1]),
           f"PC1 vs NDJFM means, {len(both)} winters {both.index[0]}-{both.index[-1]}")
