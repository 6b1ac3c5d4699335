"""The data tools: search the catalog, register local data, open a dataset lazily."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.data.catalog import (
    CatalogEntry,
    all_entries,
    collection_entries,
    find_entry,
    save_registered,
    search,
)
from climcopilot.tools.data.cmip6 import open_esm_datastore
from climcopilot.tools.data.opening import (
    check_budget,
    normalise,
    open_entry,
    open_path,
    pick_variable,
    subset,
)
from climcopilot.tools.datamodel.steps import with_step
from climcopilot.tools.datamodel.timeaxis import month_label


class SearchInput(BaseModel):
    query: str = Field("", description="words to look for in names, variables, sources")
    variable: str | None = Field(None, description="variable name (e.g. 'ta', 'sst') or "
                                                   "words of its long name")
    start: int | None = Field(None, description="first year the data must cover", ge=1, le=3000)
    end: int | None = Field(None, description="last year the data must cover", ge=1, le=3000)
    region: str | None = Field(None, description="named region (global, nino34, arctic, ...) "
                                                 "or 'lat_min,lat_max,lon_min,lon_max'")
    limit: int = Field(10, ge=1, le=200, description="most entries returned")


class SearchResult(ToolResult):
    entries: list[CatalogEntry]


@tool("data.search", family="data")
def search_catalog(args: SearchInput, ctx: ToolContext) -> SearchResult:
    """Search the data catalog (bundled series and fields, the CMIP6 sample, registered data)
    by words, variable, period and region; each entry gives its source, license, units, span."""
    hits = search(all_entries(ctx.workspace), args.query, args.variable, args.start, args.end,
                  args.region)
    entries = [e for _, e in hits[: args.limit]]
    listing = "; ".join(e.key for e in entries[:5])
    return SearchResult(summary=f"{len(hits)} datasets match" + (f": {listing}" if hits else
                                                                  "; loosen the filters"),
                        values={"n_matches": float(len(hits))}, units={"n_matches": "1"},
                        entries=entries)


class RegisterInput(BaseModel):
    path: str = Field(description="a NetCDF file, a folder of NetCDF files, a .zarr store, "
                                  "or an intake-esm collection JSON")
    name: str | None = Field(None, description="catalog key; default the file or folder name")
    license: str = Field("unknown (user data)", description="license of the data")


class RegisterResult(ToolResult):
    entries: list[CatalogEntry]


@tool("data.register", family="data")
def register(args: RegisterInput, ctx: ToolContext) -> RegisterResult:
    """Add local data (NetCDF file or folder, Zarr store, intake-esm collection) to this
    session's catalog so that data.search finds it and data.open_field opens it."""
    path = Path(args.path).expanduser().resolve()
    if path.suffix == ".json":
        store = open_esm_datastore(path)
        missing = {"source_id", "experiment_id", "table_id", "variable_id",
                   "time_range"} - set(store.df.columns)
        if missing:
            raise ToolError(f"{path.name} lacks CMIP6 columns {sorted(missing)}; only CMIP6-"
                            "style collections are supported")
        entries = collection_entries(store.df, str(path), args.license)
    else:
        entries = [describe(path, args.name or path.stem, args.license)]
    save_registered(ctx.workspace, entries)
    return RegisterResult(summary=f"registered {len(entries)} dataset(s) from {path.name}: "
                                  f"{', '.join(e.key for e in entries[:5])}",
                          values={"n_registered": float(len(entries))},
                          units={"n_registered": "1"}, entries=entries)


def describe(path: Path, key: str, license_: str) -> CatalogEntry:
    """A catalog entry for a NetCDF file/folder or Zarr store, from its metadata only."""
    with normalise(open_path(path)) as ds:
        variables = {str(v): str(ds[v].attrs.get("units", "?")) for v in ds.data_vars
                     if "bnds" not in str(v) and "bounds" not in str(v)}
        if not variables:
            raise ToolError(f"{path.name} holds no data variables")
        start = end = "0001-01"
        frequency = "no time axis"
        if "time" in ds.coords and ds.sizes.get("time", 0):
            t = ds["time"].values
            start, end = (month_label(t[0]), month_label(t[-1]))
            frequency = f"{ds.sizes['time']} time steps"
        region = None
        if "lat" in ds.coords and "lon" in ds.coords:
            lon = ds["lon"].values % 360
            region = (float(ds["lat"].min()), float(ds["lat"].max()), float(np.min(lon)),
                      float(np.max(lon)))
        title = str(ds.attrs.get("title", key))
    return CatalogEntry(key=key, title=title, kind="directory" if path.is_dir() else "file",
                        variables=variables, start=start, end=end, frequency=frequency,
                        region=region, source=f"local data at {path}", license=license_,
                        keywords=[str(ds[v].attrs.get("long_name", "")) for v in variables],
                        location=str(path))


class OpenFieldInput(BaseModel):
    dataset: str = Field(description="catalog key from data.search (e.g. 'pacific_sst_ndjfm', "
                                     "'cmip6.CESM2.historical.Amon.ta', 'hadcrut5')")
    variable: str | None = Field(None, description="variable name; default the dataset's first")
    start: str | None = Field(None, description="first date kept, 'YYYY[-MM[-DD]]'")
    end: str | None = Field(None, description="last date kept, 'YYYY[-MM[-DD]]'")
    region: str | None = Field(None, description="named region or "
                                                 "'lat_min,lat_max,lon_min,lon_max' (deg E)")
    level: float | None = Field(None, description="vertical level in the data's units "
                                                  "(CMIP6 plev: Pa, e.g. 100000)")
    member: str | None = Field(None, description="ensemble member id, e.g. 'r1i1p1f1'")
    budget_mb: float = Field(500.0, gt=0, description="largest request, in MB, allowed")
    handle: str | None = Field(None, description="session name; default the dataset key")


class OpenFieldResult(ToolResult):
    handle: str
    dims: dict[str, int]
    variable_units: str
    start: str
    end: str
    source: str
    license: str


@tool("data.open_field", family="data")
def open_field(args: OpenFieldInput, ctx: ToolContext) -> OpenFieldResult:
    """Open a catalog dataset lazily (dask), CF-decoded, cut to a period, region, level and
    member; a request over budget_mb is refused with its size before anything loads."""
    entry = find_entry(ctx.workspace, args.dataset)
    ds = open_entry(entry, ctx.workspace)
    try:
        da = subset(pick_variable(ds, entry, args.variable), args.start, args.end, args.region,
                    args.level, args.member)
        if "time" in da.dims and da.sizes["time"] == 0:
            raise ToolError(f"no time steps between {args.start} and {args.end}")
        size_mb = check_budget(da, args.budget_mb)
    except Exception:
        ds.close()
        raise
    units = str(da.attrs.get("units", entry.variables.get(str(da.name), "?")))
    da = da.assign_attrs(units=units, source=entry.source, license=entry.license,
                         dataset_id=entry.key)
    first = last = ""
    if "time" in da.dims:
        first, last = month_label(da["time"].values[0]), month_label(da["time"].values[-1])
        if args.start or args.end:
            da = with_step(da, f"{first} to {last}")
    if args.region:
        da = with_step(da, f"region {args.region}")
    handle = args.handle or entry.key
    ctx.store[handle] = da
    checks = [Check(name="units known", passed=units != "?", detail=units)]
    return OpenFieldResult(
        summary=f"opened {entry.key} {da.name} {dict(da.sizes)} ({size_mb:.2f} MB, lazy) as "
                f"{handle!r}",
        values={"size_mb": size_mb}, units={"size_mb": "MB"}, handles=[handle],
        checks=checks, handle=handle, dims={str(k): int(v) for k, v in da.sizes.items()},
        variable_units=units, start=first, end=last, source=entry.source,
        license=entry.license)

