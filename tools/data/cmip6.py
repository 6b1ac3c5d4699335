"""The CMIP6 sample shipped by ``esmvaltool-sample-data`` as an intake-esm catalog.

The package holds real CMIP6 ``historical`` files (air temperature ``ta`` on two pressure
levels over a small north-polar box, monthly and daily) from 46 models in the CMIP6 directory
layout ``activity/institution/source/experiment/member/table/variable/grid/version/file``.
:func:`sample_collection` writes an ESM-collection JSON + CSV over them (one row per file);
:func:`open_models` / :func:`open_member` open models' files, joined along time, through
intake-esm.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import dask
import pandas as pd
import xarray as xr

from climcopilot.tools.base import ToolError

SAMPLE_LICENSE = "CC BY-SA 4.0 (data, via esmvaltool-sample-data; CMIP6 terms of use)"
COLUMNS = ("activity_id", "institution_id", "source_id", "experiment_id", "member_id",
           "table_id", "variable_id", "grid_label", "version")


def sample_root() -> Path:
    """The ``CMIP6`` folder inside the installed esmvaltool-sample-data package."""
    spec = importlib.util.find_spec("esmvaltool_sample_data")
    if spec is None or spec.origin is None:
        raise ToolError("esmvaltool-sample-data is not installed; "
                        "`pip install esmvaltool-sample-data`")
    return Path(spec.origin).parent / "data" / "timeseries" / "CMIP6"


def scan_cmip6_tree(root: Path) -> pd.DataFrame:
    """One row per NetCDF file under a CMIP6 directory tree: the facets, time range, path."""
    rows = []
    for path in sorted(root.rglob("*.nc")):
        parts = path.relative_to(root).parts
        if len(parts) != len(COLUMNS) + 1:
            continue
        row = dict(zip(COLUMNS, parts[:-1]))
        row["time_range"] = path.stem.rsplit("_", 1)[-1]
        row["path"] = str(path)
        rows.append(row)
    if not rows:
        raise ToolError(f"no CMIP6-layout NetCDF files under {root}")
    return pd.DataFrame(rows)


def write_collection(df: pd.DataFrame, folder: Path, name: str) -> Path:
    """Write an ESM-collection (intake-esm) JSON + CSV describing ``df``; returns the JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / f"{name}.csv"
    df.to_csv(csv, index=False)
    spec = {
        "esmcat_version": "0.1.0",
        "id": name,
        "description": f"{name}: CMIP6 files, one row per file",
        "catalog_file": csv.name,
        "attributes": [{"column_name": c, "vocabulary": ""} for c in COLUMNS],
        "assets": {"column_name": "path", "format": "netcdf"},
        "aggregation_control": {
            "variable_column_name": "variable_id",
            "groupby_attrs": ["source_id", "experiment_id", "table_id", "grid_label"],
            "aggregations": [
                {"type": "union", "attribute_name": "variable_id"},
                {"type": "join_new", "attribute_name": "member_id",
                 "options": {"coords": "minimal", "compat": "override"}},
                {"type": "join_existing", "attribute_name": "time_range",
                 "options": {"dim": "time", "coords": "minimal", "compat": "override"}},
            ],
        },
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(spec, indent=1))
    return path


def sample_collection(folder: Path) -> Path:
    """The ESM-collection JSON over the CMIP6 sample, written under ``folder`` once."""
    path = folder / "cmip6-sample.json"
    if not path.exists():
        write_collection(scan_cmip6_tree(sample_root()), folder, "cmip6-sample")
    return path


def open_esm_datastore(collection: Path):
    """An intake-esm datastore over a local ESM-collection JSON."""
    try:
        import intake
    except ImportError:
        raise ToolError("intake-esm is not installed; `pip install intake-esm`") from None
    try:
        return intake.open_esm_datastore(str(collection))
    except Exception as exc:
        raise ToolError(f"{collection} is not a readable ESM-collection catalog: "
                        f"{type(exc).__name__}: {exc}") from None


def open_models(collection: Path, table_id: str = "Amon", variable_id: str = "ta",
                source_ids: list[str] | None = None) -> dict[str, xr.Dataset]:
    """Each model's files for ``variable_id`` in ``table_id`` joined along time (lazy, dask),
    by source_id; all models unless ``source_ids`` is given."""
    store = open_esm_datastore(collection)
    query = {"table_id": table_id, "variable_id": variable_id}
    if source_ids:
        query["source_id"] = source_ids
    found = store.search(**query)
    if len(found.df) == 0:
        known = sorted(store.df.query("table_id == @table_id")["source_id"].unique())
        raise ToolError(f"no {table_id} {variable_id} files for {source_ids or 'any model'}; "
                        f"models: {', '.join(known)}")
    # intake-esm opens datasets on a thread pool; netCDF4/HDF5 is not thread-safe there
    # (segfaults), so each model is opened by its own call, files one after another.
    out: dict[str, xr.Dataset] = {}
    for source in sorted(found.df["source_id"].unique()):
        with warnings.catch_warnings(), dask.config.set(scheduler="synchronous"):
            warnings.simplefilter("ignore")
            datasets = found.search(source_id=source).to_dataset_dict(
                xarray_open_kwargs={"decode_times": xr.coders.CFDatetimeCoder(use_cftime=True),
                                    "chunks": {}},
                threaded=False, progressbar=False)
        if len(datasets) != 1:
            raise ToolError(f"{source} {table_id} {variable_id} splits into {len(datasets)} "
                            "datasets (grids or experiments); narrow the search")
        out[source] = next(iter(datasets.values()))
    return dict(sorted(out.items()))


def open_member(collection: Path, source_id: str, table_id: str = "Amon",
                variable_id: str = "ta") -> xr.Dataset:
    """One model's files for ``variable_id`` in ``table_id``, joined along time (lazy, dask)."""
    return open_models(collection, table_id, variable_id, [source_id])[source_id]
