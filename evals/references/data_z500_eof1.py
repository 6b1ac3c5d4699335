"""Reference for data_z500_eof1: the variance fraction of the first EOF of North Atlantic
winter (DJF) 500 hPa geopotential height, eofs' example field hgt_djf.nc.

Uses the eofs package's own solver (eofs.standard.Eof, Dawson 2016) on the file read with
netCDF4, with its documented sqrt(cos(latitude)) weights, as in eofs' NAO example; nothing
from climcopilot is imported. Prints the first three variance fractions.
"""

from pathlib import Path

import eofs
import netCDF4
import numpy as np
from eofs.standard import Eof

path = Path(eofs.__file__).parent / "examples" / "example_data" / "hgt_djf.nc"
with netCDF4.Dataset(path) as ds:
    z = np.asarray(ds["z"][:, 0], dtype=float)  # (time, latitude, longitude), the 500 hPa level
    lat = np.asarray(ds["latitude"][:], dtype=float)
weights = np.sqrt(np.clip(np.cos(np.deg2rad(lat)), 0, None))[:, np.newaxis]
fractions = Eof(z, weights=weights).varianceFraction(neigs=3)
print(f"{z.shape[0]} winters; variance fractions {', '.join(f'{f:.4f}' for f in fractions)}")
