"""Open catalog entries lazily (xarray + dask), decode CF (cftime calendars), subset by time,
region, level and member, and refuse requests larger than a size budget before loading.

Coordinates are normalised to ``lat``/``lon``; units stay in each variable's ``units``
attribute. Nothing is loaded until a diagnostic needs it, and a refused or failed request
leaves no open file and nothing in the session.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from climcopilot.tools.base import ToolError
from climcopilot.tools.data.bundled import BUNDLED
from climcopilot.tools.data.catalog import CMIP6_SAMPLE, CatalogEntry
from climcopilot.tools.data.cmip6 import open_member, sample_collection
from climcopilot.tools.datamodel.regions import parse_region, select_region

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")
VERTICAL_NAMES = ("plev", "lev", "level", "pressure", "height", "depth")
MEMBER_NAMES = ("member_id", "member", "realization", "number", "ensemble")
_DECODE = {"decode_times": xr.coders.CFDatetimeCoder(use_cftime=None), "chunks": {}}


def open_path(path: Path) -> xr.Dataset:
    """A NetCDF file, a Zarr store, or a folder of NetCDF files (joined by coordinates),
    lazily; a ToolError names the file that is missing, not NetCDF/Zarr, or corrupt."""
    if not path.exists():
        raise ToolError(f"{path} does not exist")
    if path.is_dir() and (path.suffix == ".zarr" or (path / ".zgroup").exists()
                          or (path / "zarr.json").exists()):
        return _guarded(path, lambda: xr.open_zarr(path, decode_times=_DECODE["decode_times"]))
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in NETCDF_SUFFIXES)
        if not files:
            raise ToolError(f"{path} holds no NetCDF (.nc) files or Zarr stores")
        for f in files:  # a clear error for the first bad file, before any join
            open_path(f).close()
        return _guarded(path, lambda: xr.open_mfdataset(
            files, combine="by_coords", parallel=False, **_DECODE))
    if path.suffix not in NETCDF_SUFFIXES:
        raise ToolError(f"{path.name} is not a NetCDF file (expected {', '.join(NETCDF_SUFFIXES)}"
                        " or a .zarr folder)")
    return _guarded(path, lambda: xr.open_dataset(path, **_DECODE))


def _guarded(path: Path, opener) -> xr.Dataset:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return opener()
    except ToolError:
        raise
    except Exception as exc:
        raise ToolError(f"{path.name} is not a readable NetCDF/Zarr dataset (corrupt or another "
                        f"format): {type(exc).__name__}: {str(exc)[:120]}") from None


NETCDF_DEFAULT_FILL = 9.969209968386869e36
"""The netCDF library's default fill for floats: missing data when no _FillValue is set."""


def normalise(ds: xr.Dataset) -> xr.Dataset:
    """``latitude``/``longitude`` renamed to ``lat``/``lon``; float variables without a
    ``_FillValue`` get the netCDF default fill masked (CMIP6 files re-written without
    attributes keep 9.97e36 in cells below ground)."""
    names = {k: v for k, v in (("latitude", "lat"), ("longitude", "lon"))
             if k in ds.variables and v not in ds.variables}
    ds = ds.rename(names)
    for name, var in ds.data_vars.items():
        if var.dtype.kind == "f" and "_FillValue" not in var.encoding:
            ds[name] = var.where(abs(var) < 0.99 * NETCDF_DEFAULT_FILL).assign_attrs(var.attrs)
    return ds


def open_entry(entry: CatalogEntry, workspace: Path) -> xr.Dataset:
    """The entry's data as a lazy Dataset."""
    if entry.kind == "series":
        return BUNDLED[entry.key].open().to_dataset()
    if entry.kind == "collection":
        collection = (sample_collection(workspace / "catalog") if entry.location == CMIP6_SAMPLE
                      else Path(entry.location))
        return normalise(open_member(collection, entry.facets["source_id"],
                                     entry.facets["table_id"], entry.facets["variable_id"]))
    return normalise(open_path(Path(entry.location)))


def pick_variable(ds: xr.Dataset, entry: CatalogEntry, variable: str | None) -> xr.DataArray:
    """The requested data variable (default: the entry's only/first one)."""
    name = variable or next(iter(entry.variables))
    if name not in ds.data_vars:
        known = ", ".join(v for v in ds.data_vars if "bnds" not in v and "bounds" not in v)
        raise ToolError(f"unknown variable {name!r} in {entry.key}; it has: {known}")
    return ds[name]


def _years(da: xr.DataArray) -> tuple[int, int]:
    years = da["time"].dt.year
    return int(years[0]), int(years[-1])


def subset(da: xr.DataArray, start: str | None = None, end: str | None = None,
           region: str | list[float] | None = None, level: float | None = None,
           member: str | int | None = None) -> xr.DataArray:
    """``da`` cut to a period ('YYYY[-MM[-DD]]'), region, one level (in the vertical
    coordinate's units, nearest within 1 %) and one member; ToolErrors say what exists."""
    if (start or end) and "time" in da.dims:
        first, last = _years(da)
        lo = int(start[:4]) if start else first
        hi = int(end[:4]) if end else last
        if lo > hi:
            raise ToolError(f"start {start} is after end {end}")
        if hi < first or lo > last:
            raise ToolError(f"period {start or first}..{end or last} is outside the data, "
                            f"which spans {first}..{last}")
        da = da.sel(time=slice(start, end))
    box = parse_region(region)
    if box is not None:
        da = select_region(da, box)
    if level is not None:
        vertical = next((n for n in VERTICAL_NAMES if n in da.dims), None)
        if vertical is None:
            raise ToolError("this variable has no vertical coordinate; drop 'level'")
        levels = da[vertical].values.astype(float)
        i = int(np.argmin(np.abs(levels - level)))
        if abs(levels[i] - level) > 0.01 * max(abs(level), 1.0):
            raise ToolError(f"no level {level:g} {da[vertical].attrs.get('units', '')}; "
                            f"levels are {', '.join(f'{v:g}' for v in levels)}")
        da = da.isel({vertical: i})
    if member is not None:
        dim = next((n for n in MEMBER_NAMES if n in da.dims), None)
        if dim is None:
            raise ToolError("this variable has no member dimension; drop 'member'")
        values = [str(v) for v in da[dim].values]
        if str(member) not in values:
            raise ToolError(f"no member {member!r}; members are {', '.join(values)}")
        da = da.isel({dim: values.index(str(member))})
    for dim in MEMBER_NAMES:  # a single-member axis (intake-esm adds one) is dropped
        if dim in da.dims and da.sizes[dim] == 1:
            da = da.squeeze(dim, drop=True)
    return da


def check_budget(da: xr.DataArray, budget_mb: float) -> float:
    """Size of ``da`` in MB (not loaded); a ToolError with an estimate when over budget."""
    size_mb = da.nbytes / 1e6
    if size_mb > budget_mb:
        dims = ", ".join(f"{d}={n}" for d, n in da.sizes.items())
        raise ToolError(f"request is {size_mb:,.1f} MB ({dims}), over the {budget_mb:g} MB "
                        "budget; narrow the period, region, level or member, or raise "
                        "budget_mb")
    return size_mb
