"""One searchable catalog over bundled series, bundled fields, the CMIP6 sample, and the
directories, files and intake-esm collections a user registers.

Every :class:`CatalogEntry` says what it holds (variables with units), its span, region,
source and license. Registered entries live in the session's workspace
(``catalog/registered.json``), so they survive a kernel restart within a session.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from climcopilot.tools.base import ToolError
from climcopilot.tools.data.bundled import BUNDLED
from climcopilot.tools.data.cmip6 import SAMPLE_LICENSE, sample_root, scan_cmip6_tree
from climcopilot.tools.data.vocabulary import FIELDS
from climcopilot.tools.datamodel.regions import REGIONS, Region, parse_region
from climcopilot.tools.vocabulary import lookup, plain

Kind = Literal["series", "file", "directory", "collection"]
CMIP6_SAMPLE = "cmip6-sample"
"""``location`` of entries from the bundled CMIP6 sample (its collection is built on demand)."""

_SERIES_REGIONS: dict[str, Region] = {
    "soi": (-17.5, -12.4, 130.9, 210.4), "nino3": REGIONS["nino3"],
    "nino34": REGIONS["nino34"], "oni": REGIONS["nino34"], "nino12": REGIONS["nino12"],
    "air": (8.0, 37.0, 68.0, 97.0), "hadcrut5": REGIONS["global"],
    "co2": (19.5, 19.5, 204.4, 204.4), "epica_co2": (-75.1, -75.1, 123.35, 123.35),
    "edc_temperature": (-75.1, -75.1, 123.35, 123.35), "edc_dd": (-75.1, -75.1, 123.35, 123.35),
    "lr04": REGIONS["global"], "gisp2_d18o": (72.6, 72.6, 321.5, 321.5),
}
_STOPWORDS = {"the", "a", "an", "of", "in", "and", "or", "for", "with", "data", "dataset",
              "over", "from", "to", "by", "on", "at", "what", "which", "is"}


class CatalogEntry(BaseModel):
    """One dataset: ``variables`` maps names to units; ``start``/``end`` are 'YYYY-MM';
    ``region`` is (lat_min, lat_max, lon_min, lon_max), lon 0-360; ``facets`` select it
    inside a collection. A paleo record (``time_axis`` 'age_ka') has no calendar span:
    ``start``/``end`` are empty and ``age_span_ka`` is (oldest, youngest) in ka BP."""

    key: str
    title: str
    kind: Kind
    variables: dict[str, str]
    start: str
    end: str
    frequency: str
    region: tuple[float, float, float, float] | None
    source: str
    license: str
    keywords: list[str] = []
    location: str = ""
    facets: dict[str, str] = {}
    time_axis: Literal["time", "age_ka"] = "time"
    age_span_ka: tuple[float, float] | None = None

    def text(self) -> str:
        """Everything a word search looks at, plain lower case."""
        return plain(" ".join([self.key, self.title, *self.variables, *self.keywords,
                               self.source, *self.facets.values()]))


def bundled_series_entries() -> list[CatalogEntry]:
    out = []
    for s in BUNDLED.values():
        da = s.open()
        axis = da[da.dims[0]].values
        if s.time_axis == "age_ka":
            start = end = ""
            ages: tuple[float, float] | None = (float(axis[0]), float(axis[-1]))
        else:
            start, end = f"{pd.Timestamp(axis[0]):%Y-%m}", f"{pd.Timestamp(axis[-1]):%Y-%m}"
            ages = None
        out.append(CatalogEntry(
            key=s.key, title=s.long_name, kind="series", variables={s.key: s.units},
            start=start, end=end, frequency=s.frequency, region=_SERIES_REGIONS.get(s.key),
            source=s.source, license=s.license, keywords=list(s.aliases),
            time_axis=s.time_axis, age_span_ka=ages))
    return out


def eofs_example_entries() -> list[CatalogEntry]:
    """The two example fields of the ``eofs`` package (GPL-3.0)."""
    try:
        from eofs.examples import example_data_path
    except ImportError:
        return []
    license_ = "GPL-3.0 (eofs package example data)"
    return [
        CatalogEntry(
            key="pacific_sst_ndjfm", title="Pacific winter (NDJFM mean) SST anomalies",
            kind="file", variables={"sst": "K"}, start="1963-01", end="2012-01",
            frequency="annual (NDJFM means)", region=(-22.5, 62.5, 117.5, 262.5),
            source="NDJFM-mean SST anomalies on a 5-degree grid, example data of the eofs "
                   "package (Dawson 2016); the package does not name the upstream SST product",
            license=license_,
            keywords=["sea surface temperature", "sst", "pacific", "winter", "enso",
                      "el nino", "anomalies", "eof"],
            location=example_data_path("sst_ndjfm_anom.nc")),
        CatalogEntry(
            key="north_atlantic_z500_djf",
            title="North Atlantic winter (DJF mean) 500 hPa geopotential height",
            kind="file", variables={"z": "m"}, start="1948-01", end="2012-01",
            frequency="annual (DJF means)", region=(20.0, 90.0, 280.0, 40.0),
            source="DJF-mean 500 hPa geopotential height on a 2.5-degree grid, example data "
                   "of the eofs package (Dawson 2016); the package does not name the upstream "
                   "reanalysis; the North Atlantic Oscillation (NAO) is its leading EOF",
            license=license_,
            keywords=["geopotential height", "z500", "500 hpa", "north atlantic", "nao",
                      "north atlantic oscillation", "winter", "reanalysis", "eof"],
            location=example_data_path("hgt_djf.nc")),
    ]


def collection_entries(df: pd.DataFrame, location: str, license_: str,
                       regions: dict[str, Region] | None = None) -> list[CatalogEntry]:
    """One entry per (source_id, experiment_id, table_id, variable_id) of a CMIP6 table."""
    out = []
    keys = ["source_id", "experiment_id", "table_id", "variable_id"]
    for (source, experiment, table, variable), group in df.groupby(keys):
        ranges = group["time_range"].astype(str).str.split("-")
        start, end = ranges.str[0].min(), ranges.str[-1].max()
        out.append(CatalogEntry(
            key=f"cmip6.{source}.{experiment}.{table}.{variable}",
            title=f"CMIP6 {source} {experiment} {_CMIP6_NAMES.get(variable, variable)} "
                  f"{variable} ({table})", kind="collection",
            variables={variable: _CMIP6_UNITS.get(variable, "?")},
            start=f"{start[:4]}-{start[4:6]}", end=f"{end[:4]}-{end[4:6]}",
            frequency=_TABLE_FREQUENCY.get(table, table),
            region=(regions or {}).get(source), source=f"CMIP6 {group['institution_id'].iat[0]}"
            f" {source}, members {', '.join(sorted(group['member_id'].unique()))}",
            license=license_, keywords=["cmip6", "model"],
            location=location,
            facets={"source_id": source, "experiment_id": experiment, "table_id": table,
                    "variable_id": variable}))
    return out


_CMIP6_UNITS = {"ta": "K", "tas": "K", "ts": "K", "tos": "degC", "pr": "kg m-2 s-1",
                "psl": "Pa", "zg": "m", "ua": "m s-1", "va": "m s-1", "hus": "1"}
_CMIP6_NAMES = {"ta": "air temperature", "tas": "near-surface air temperature",
                "ts": "surface temperature", "tos": "sea surface temperature",
                "pr": "precipitation", "psl": "sea level pressure", "zg": "geopotential height",
                "ua": "eastward wind", "va": "northward wind", "hus": "specific humidity"}
_TABLE_FREQUENCY = {"Amon": "monthly", "day": "daily", "Omon": "monthly", "Lmon": "monthly"}


@lru_cache(maxsize=1)
def cmip6_sample_entries() -> tuple[CatalogEntry, ...]:
    """Entries for the bundled CMIP6 sample (empty if esmvaltool-sample-data is missing)."""
    try:
        df = scan_cmip6_tree(sample_root())
    except ToolError:
        return ()
    regions = {source: _file_region(Path(group["path"].iat[0]))
               for source, group in df.groupby("source_id")}
    return tuple(collection_entries(df, CMIP6_SAMPLE, SAMPLE_LICENSE, regions))


def _file_region(path: Path) -> Region | None:
    """The lat/lon box of a NetCDF file's grid, read from its coordinates only."""
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        names = nc.variables.keys()
        lat = next((n for n in ("lat", "latitude") if n in names), None)
        lon = next((n for n in ("lon", "longitude") if n in names), None)
        if lat is None or lon is None:
            return None
        la, lo = np.asarray(nc[lat][:], float), np.asarray(nc[lon][:], float) % 360
    return float(la.min()), float(la.max()), float(lo.min()), float(lo.max())


@lru_cache(maxsize=1)
def builtin_entries() -> tuple[CatalogEntry, ...]:
    """Everything that ships with the installed packages."""
    return (*bundled_series_entries(), *eofs_example_entries(), *cmip6_sample_entries())


def registry_file(workspace: Path) -> Path:
    return workspace / "catalog" / "registered.json"


def registered_entries(workspace: Path) -> list[CatalogEntry]:
    path = registry_file(workspace)
    if not path.exists():
        return []
    return [CatalogEntry.model_validate(e) for e in json.loads(path.read_text())]


def save_registered(workspace: Path, entries: list[CatalogEntry]) -> None:
    """Add ``entries`` (replacing same-key ones) to the session's registered catalog."""
    keep = {e.key: e for e in registered_entries(workspace)}
    keep.update({e.key: e for e in entries})
    path = registry_file(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([e.model_dump() for e in keep.values()], indent=1))


def all_entries(workspace: Path) -> list[CatalogEntry]:
    return [*builtin_entries(), *registered_entries(workspace)]


def find_entry(workspace: Path, key: str) -> CatalogEntry:
    """The entry called ``key`` (exact key, or an alias of a bundled series or field such as
    'Niño-1+2' or 'z500')."""
    entries = {e.key: e for e in all_entries(workspace)}
    if key in entries:
        return entries[key]
    term = lookup([*(s.term for s in BUNDLED.values()), *FIELDS], key)
    if term is not None and term.key in entries:
        return entries[term.key]
    raise ToolError(f"unknown dataset {key!r}; find keys with data.search")


def _overlaps(entry: CatalogEntry, start: int | None, end: int | None) -> bool:
    """Whether the entry covers part of the years ``start``-``end`` (CE); a year filter asks
    for calendar-time data, so paleo records (age axis) never match one."""
    if entry.time_axis == "age_ka":
        return start is None and end is None
    first, last = int(entry.start[:4]), int(entry.end[:4])
    return (start is None or last >= start) and (end is None or first <= end)


def _box_overlap(a: Region, b: Region) -> bool:
    if a[1] < b[0] or b[1] < a[0]:
        return False
    def spans(r: Region) -> list[tuple[float, float]]:
        return [(r[2], r[3])] if r[2] <= r[3] else [(r[2], 360.0), (0.0, r[3])]
    return any(x0 <= y1 and y0 <= x1 for x0, x1 in spans(a) for y0, y1 in spans(b))


def search(entries: list[CatalogEntry], query: str = "", variable: str | None = None,
           start: int | None = None, end: int | None = None,
           region: str | list[float] | None = None) -> list[tuple[float, CatalogEntry]]:
    """Entries that match every given filter, best first, with their word-match score.

    ``query``: words (each found word counts, twice in the key, title or variable names;
    stopwords ignored); ``variable``: a variable name
    or words of its long name; ``start``/``end``: years the data must overlap; ``region``:
    a named region or box the data must overlap.
    """
    words = [w for w in re.findall(r"[\w.+-]+", plain(query)) if w not in _STOPWORDS]
    box = parse_region(region)
    wanted = plain(variable) if variable else None
    hits = []
    for e in entries:
        text = e.text()
        if wanted and wanted not in e.variables and not re.search(
                rf"(?<!\w){re.escape(wanted)}(?!\w)", text):
            continue
        if not _overlaps(e, start, end):
            continue
        if box is not None and (e.region is None or not _box_overlap(e.region, box)):
            continue
        name = plain(" ".join([e.key, e.title, *e.variables]))
        score = sum(_word_in(w, name) + _word_in(w, text) for w in words)
        if words and score == 0:
            continue
        hits.append((score / max(2 * len(words), 1), e))
    hits.sort(key=lambda p: -p[0])
    return hits


def _word_in(word: str, text: str) -> float:
    return 1.0 if re.search(rf"(?<!\w){re.escape(word)}", text) else 0.0
