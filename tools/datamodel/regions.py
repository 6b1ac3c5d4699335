"""Named regions, region selection on (lat, lon) grids, and cos-latitude area weights.

Regions are ``(lat_min, lat_max, lon_min, lon_max)`` in degrees north / east with longitudes
in 0-360; a region may cross the Greenwich meridian (``lon_min > lon_max``). Grids may use
-180..180 or 0..360 longitudes and either latitude order.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from climcopilot.tools.base import ToolError

Region = tuple[float, float, float, float]

REGIONS: dict[str, Region] = {
    "global": (-90.0, 90.0, 0.0, 360.0),
    "nino12": (-10.0, 0.0, 270.0, 280.0),
    "nino3": (-5.0, 5.0, 210.0, 270.0),
    "nino34": (-5.0, 5.0, 190.0, 240.0),
    "nino4": (-5.0, 5.0, 160.0, 210.0),
    "tropics": (-23.5, 23.5, 0.0, 360.0),
    "northern_hemisphere": (0.0, 90.0, 0.0, 360.0),
    "southern_hemisphere": (-90.0, 0.0, 0.0, 360.0),
    "arctic": (66.5, 90.0, 0.0, 360.0),
    "antarctic": (-90.0, -66.5, 0.0, 360.0),
    "north_pacific": (20.0, 65.0, 120.0, 260.0),
    "north_atlantic": (20.0, 80.0, 280.0, 360.0),
}
"""Niño boxes as defined by NOAA CPC (Trenberth 1997); the others are conventional bands."""


def parse_region(region: str | list[float] | None) -> Region | None:
    """A named region, or ``"lat_min,lat_max,lon_min,lon_max"`` / a 4-list; None stays None."""
    if region is None:
        return None
    if isinstance(region, str):
        key = region.strip().lower().replace("-", "").replace(".", "").replace(" ", "_")
        key = {"nino1+2": "nino12", "nino1_2": "nino12"}.get(key, key)
        if key in REGIONS:
            return REGIONS[key]
        try:
            parts = [float(p) for p in region.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 4:
            raise ToolError(f"unknown region {region!r}; use one of {', '.join(REGIONS)} or "
                            "'lat_min,lat_max,lon_min,lon_max'")
        region = parts
    if len(region) != 4:
        raise ToolError("a region box needs 4 numbers: lat_min, lat_max, lon_min, lon_max")
    lat0, lat1, lon0, lon1 = (float(v) for v in region)
    if not (-90 <= lat0 < lat1 <= 90):
        raise ToolError(f"latitudes must satisfy -90 <= lat_min < lat_max <= 90, got "
                        f"{lat0}, {lat1}")
    full = lon1 - lon0 >= 360
    return lat0, lat1, (0.0 if full else lon0 % 360), (360.0 if full else lon1 % 360 or 360.0)


def lat_lon_names(da: xr.DataArray | xr.Dataset) -> tuple[str, str]:
    """Names of the latitude and longitude coordinates (``lat``/``latitude``, ...)."""
    lat = next((n for n in ("lat", "latitude", "nav_lat", "y") if n in da.coords), None)
    lon = next((n for n in ("lon", "longitude", "nav_lon", "x") if n in da.coords), None)
    if lat is None or lon is None:
        raise ToolError("the data has no latitude/longitude coordinates; a region or area "
                        "mean needs a (lat, lon) grid")
    return lat, lon


def on_grid(da: xr.DataArray, handle: str, *keep: str) -> xr.DataArray:
    """``da`` with only lat, lon and ``keep`` (e.g. 'time') left: dims of length 1 (a single
    pressure level) are dropped; a ToolError names any other extra dim."""
    allowed = (*keep, *lat_lon_names(da))
    single = [d for d in da.dims if d not in allowed and da.sizes[d] == 1]
    da = da.squeeze(single, drop=True)
    extra = [d for d in da.dims if d not in allowed]
    if extra:
        raise ToolError(f"{handle!r} has extra dims {extra}; select one level/member")
    return da


def select_region(da: xr.DataArray, region: Region) -> xr.DataArray:
    """The grid cells whose centres fall inside ``region``; a ToolError if there are none."""
    lat, lon = lat_lon_names(da)
    lat0, lat1, lon0, lon1 = region
    lons = da[lon] % 360
    inside_lon = (lons >= lon0) & (lons <= lon1) if lon0 <= lon1 else (lons >= lon0) | (
        lons <= lon1)
    inside_lat = (da[lat] >= lat0) & (da[lat] <= lat1)
    out = da.isel({lat: np.flatnonzero(inside_lat.values),
                   lon: np.flatnonzero(inside_lon.values)})
    if out.sizes[lat] == 0 or out.sizes[lon] == 0:
        raise ToolError(f"no grid cells inside region lat {lat0}..{lat1}, lon {lon0}..{lon1}; "
                        f"the data covers lat {float(da[lat].min()):g}..{float(da[lat].max()):g},"
                        f" lon {float(da[lon].min()):g}..{float(da[lon].max()):g}")
    return out


def area_weights(da: xr.DataArray) -> xr.DataArray:
    """cos(latitude) weights on ``da``'s latitude coordinate (1-D, sum not normalised)."""
    lat, _ = lat_lon_names(da)
    return np.cos(np.deg2rad(da[lat])).clip(min=0.0)


def area_mean(da: xr.DataArray) -> xr.DataArray:
    """The cos-latitude weighted mean over latitude and longitude (missing cells skipped)."""
    lat, lon = lat_lon_names(da)
    out = da.weighted(area_weights(da).fillna(0)).mean((lat, lon))
    return out.assign_attrs(da.attrs)
