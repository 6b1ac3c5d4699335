"""Connectors to remote data, for machines with a network: ERA5 through the Copernicus CDS
(``cdsapi``), CMIP6 through an intake-esm catalog of cloud Zarr stores (default: Pangeo's on
Google Cloud), and files of Hugging Face datasets (default: ClimSim low-res).

Their client packages are optional and imported only when called; without the package, the
credentials or a network, a tool stops with one line saying what is missing and how to get
it. Downloads go to the session's workspace and are registered in the session's catalog.
Nothing here runs unless a tool is called: no download happens at import or test time.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel, Field

from climcopilot.tools.base import ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.data.catalog import CatalogEntry, save_registered
from climcopilot.tools.data.opening import check_budget, normalise, subset

PANGEO_CMIP6 = "https://storage.googleapis.com/cmip6/pangeo-cmip6.json"
_NETWORK_ERRORS = ("ConnectionError", "Timeout", "gaierror", "OfflineModeIsEnabled",
                   "NewConnectionError", "MaxRetryError", "URLError", "ClientConnectorError")


def require(module: str, install: str) -> ModuleType:
    """Import an optional client package, or a ToolError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ToolError(f"{module} is not installed; `pip install {install}`") from None


def is_network_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a failure to reach a server."""
    seen: BaseException | None = exc
    while seen is not None:
        if any(n in type(seen).__name__ for n in _NETWORK_ERRORS) or isinstance(
                seen, ConnectionError | TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def remote_failure(service: str, exc: Exception) -> ToolError:
    """A one-line ToolError for a failed remote call: no network, or what the server said."""
    if is_network_error(exc):
        return ToolError(f"cannot reach {service} (no network here?); run this where the "
                         "internet is reachable, or use the bundled data (data.search)")
    return ToolError(f"{service} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")


def downloads(ctx: ToolContext) -> Path:
    folder = ctx.workspace / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class DownloadResult(ToolResult):
    path: str
    entry: CatalogEntry


def _register(ctx: ToolContext, path: Path, key: str, source: str,
              license_: str) -> CatalogEntry:
    from climcopilot.tools.data.access import describe

    entry = describe(path, key, license_).model_copy(update={"source": source})
    save_registered(ctx.workspace, [entry])
    return entry


class Era5Input(BaseModel):
    variable: str = Field(description="CDS variable name, e.g. '2m_temperature'")
    years: list[int] = Field(min_length=1, max_length=85, description="years, 1940 onwards")
    months: list[int] = Field(default_factory=lambda: list(range(1, 13)),
                              description="months 1-12")
    area: list[float] | None = Field(None, description="[north, west, south, east] in degrees")
    dataset: str = Field("reanalysis-era5-single-levels-monthly-means",
                         description="CDS dataset name")
    name: str = Field("era5", description="catalog key of the downloaded file")


@tool("data.fetch_era5", family="data", downloads=True, writes_files=True)
def fetch_era5(args: Era5Input, ctx: ToolContext) -> DownloadResult:
    """Download ERA5 (monthly means by default) from the Copernicus Climate Data Store with
    cdsapi (needs network and CDS credentials) and register the NetCDF file in the catalog."""
    cdsapi = require("cdsapi", "cdsapi")
    if not (os.environ.get("CDSAPI_KEY") or (Path.home() / ".cdsapirc").exists()):
        raise ToolError("no CDS credentials: put 'url' and 'key' in ~/.cdsapirc or set "
                        "CDSAPI_URL and CDSAPI_KEY (https://cds.climate.copernicus.eu/how-to-api)")
    request = {"product_type": ["monthly_averaged_reanalysis"], "variable": [args.variable],
               "year": [str(y) for y in args.years],
               "month": [f"{m:02d}" for m in args.months], "time": ["00:00"],
               "data_format": "netcdf", "download_format": "unarchived"}
    if args.area:
        request["area"] = args.area
    target = downloads(ctx) / f"{args.name}.nc"
    try:
        cdsapi.Client(quiet=True).retrieve(args.dataset, request, str(target))
    except Exception as exc:
        target.unlink(missing_ok=True)
        raise remote_failure("the Copernicus Climate Data Store", exc) from None
    entry = _register(ctx, target, args.name, f"ERA5 {args.dataset} via cdsapi",
                      "Copernicus licence (ERA5)")
    return DownloadResult(summary=f"ERA5 {args.variable} saved to {target} and registered as "
                                  f"{args.name!r}", path=str(target), entry=entry)


class Cmip6CloudInput(BaseModel):
    source_id: str = Field(description="CMIP6 model, e.g. 'CESM2'")
    experiment_id: str = Field("historical", description="CMIP6 experiment")
    table_id: str = Field("Amon", description="CMIP6 table")
    variable_id: str = Field("tas", description="CMIP6 variable")
    member_id: str = Field("r1i1p1f1", description="ensemble member")
    catalog_url: str = Field(PANGEO_CMIP6, description="intake-esm catalog JSON (URL or path)")
    start: str | None = Field(None, description="first date kept")
    end: str | None = Field(None, description="last date kept")
    region: str | None = Field(None, description="named region or box")
    budget_mb: float = Field(500.0, gt=0, description="largest request in MB")
    handle: str = Field("cmip6_cloud", description="session name of the result")


class Cmip6CloudResult(ToolResult):
    handle: str
    dims: dict[str, int]


@tool("data.open_cmip6_cloud", family="data", downloads=True)
def open_cmip6_cloud(args: Cmip6CloudInput, ctx: ToolContext) -> Cmip6CloudResult:
    """Open one CMIP6 model run from an intake-esm catalog of cloud Zarr stores (Pangeo's by
    default; needs network, intake-esm and gcsfs), lazily, within a size budget."""
    intake = require("intake", "intake-esm gcsfs")
    try:
        store = intake.open_esm_datastore(args.catalog_url)
        found = store.search(source_id=args.source_id, experiment_id=args.experiment_id,
                             table_id=args.table_id, variable_id=args.variable_id,
                             member_id=args.member_id)
        datasets = found.to_dataset_dict(xarray_open_kwargs={"consolidated": True},
                                         storage_options={"token": "anon"}, progressbar=False)
    except Exception as exc:
        raise remote_failure("the CMIP6 cloud catalog", exc) from None
    if not datasets:
        raise ToolError(f"no {args.source_id} {args.experiment_id} {args.table_id} "
                        f"{args.variable_id} {args.member_id} in {args.catalog_url}")
    ds = normalise(next(iter(datasets.values())))
    da = subset(ds[args.variable_id], args.start, args.end, args.region)
    check_budget(da, args.budget_mb)
    ctx.store[args.handle] = da
    return Cmip6CloudResult(summary=f"opened {args.source_id} {args.variable_id} "
                                    f"{dict(da.sizes)} (lazy) as {args.handle!r}",
                            handles=[args.handle], handle=args.handle,
                            dims={str(k): int(v) for k, v in da.sizes.items()})


class HfFileInput(BaseModel):
    filename: str = Field(description="file inside the repository, e.g. "
                                      "'train/0001-02/E3SM-MMF.mli.0001-02-01-00000.nc'")
    repo_id: str = Field("LEAP/ClimSim_low-res", description="Hugging Face dataset repository")
    revision: str | None = Field(None, description="branch, tag or commit")
    name: str = Field("climsim", description="catalog key of the downloaded file")


@tool("data.fetch_hf_file", family="data", downloads=True, writes_files=True)
def fetch_hf_file(args: HfFileInput, ctx: ToolContext) -> DownloadResult:
    """Download one NetCDF file of a Hugging Face dataset (ClimSim low-res by default; needs
    network and huggingface_hub) and register it in the catalog."""
    hub = require("huggingface_hub", "huggingface_hub")
    try:
        path = Path(hub.hf_hub_download(repo_id=args.repo_id, filename=args.filename,
                                        repo_type="dataset", revision=args.revision,
                                        local_dir=str(downloads(ctx) / args.name)))
    except Exception as exc:
        raise remote_failure(f"Hugging Face ({args.repo_id})", exc) from None
    entry = _register(ctx, path, args.name, f"{args.repo_id}/{args.filename} on Hugging Face",
                      "CC BY 4.0 (ClimSim)" if "ClimSim" in args.repo_id else "see the "
                      "dataset card")
    return DownloadResult(summary=f"{args.filename} saved to {path} and registered as "
                                  f"{args.name!r}", path=str(path), entry=entry)
