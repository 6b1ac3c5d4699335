"""The data catalog: search by words, variable, period and region; registration of local
NetCDF data and intake-esm collections; bad files refused with nothing registered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data.access import register, search_catalog
from climcopilot.tools.data.catalog import builtin_entries, registered_entries
from climcopilot.tools.data.cmip6 import sample_root, scan_cmip6_tree, write_collection


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def small_field(path: Path, start: str = "2000-01-01", periods: int = 24) -> Path:
    time = pd.date_range(start, periods=periods, freq="MS")
    ds = xr.Dataset({"tas": (("time", "lat", "lon"), np.ones((periods, 3, 4), "f4"),
                             {"units": "K", "long_name": "near-surface air temperature"})},
                    coords={"time": time, "lat": [-10.0, 0.0, 10.0],
                            "lon": [200.0, 210.0, 220.0, 230.0]})
    ds.to_netcdf(path)
    return path


def test_every_builtin_entry_says_source_license_units_and_span() -> None:
    entries = builtin_entries()
    keys = {e.key for e in entries}
    assert {"co2", "hadcrut5", "pacific_sst_ndjfm", "north_atlantic_z500_djf"} <= keys
    cmip6 = {e.facets["source_id"] for e in entries if e.kind == "collection"}
    assert len(cmip6) == 46  # the sample's 46 models (42 with monthly data)
    for e in entries:
        assert e.source and e.license and e.variables
        assert all(u and u != "?" for u in e.variables.values()), e.key
        if e.time_axis == "age_ka":  # paleo records: an age span (ka BP) instead of dates
            assert e.age_span_ka[0] > e.age_span_ka[1] and e.start == e.end == ""
        else:
            assert e.start <= e.end and len(e.start) == 7


def test_search_by_words_variable_period_and_region(ctx: ToolContext) -> None:
    top = search_catalog.run({"query": "Pacific winter SST"}, ctx).entries[0]
    assert top.key == "pacific_sst_ndjfm"
    assert search_catalog.run({"query": "Mauna Loa"}, ctx).entries[0].key == "co2"
    ta = search_catalog.run({"variable": "ta", "start": 1950, "end": 2014, "region": "arctic",
                             "limit": 200}, ctx).entries
    assert ta and all("ta" in e.variables for e in ta)
    assert {e.facets.get("table_id") for e in ta} == {"Amon", "day"}
    # the sample's polar box is not in the tropics, and nothing covers the 1700s
    assert not search_catalog.run({"variable": "ta", "region": "tropics"}, ctx).entries
    assert not search_catalog.run({"query": "temperature", "end": 1700}, ctx).entries
    with pytest.raises(ToolError, match="unknown region"):
        search_catalog.run({"region": "atlantis"}, ctx)


def test_register_a_netcdf_folder_then_find_it(ctx: ToolContext, tmp_path: Path) -> None:
    folder = tmp_path / "mydata"
    folder.mkdir()
    small_field(folder / "a.nc", "2000-01-01")
    small_field(folder / "b.nc", "2002-01-01")
    result = register.run({"path": str(folder), "name": "my_tas"}, ctx)
    entry = result.entries[0]
    assert entry.variables == {"tas": "K"} and (entry.start, entry.end) == ("2000-01", "2003-12")
    assert entry.region == (-10.0, 10.0, 200.0, 230.0)
    assert search_catalog.run({"query": "my_tas"}, ctx).entries[0].key == "my_tas"
    assert [e.key for e in registered_entries(ctx.workspace)] == ["my_tas"]


def test_register_refuses_non_netcdf_and_corrupt_files(ctx: ToolContext, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not data")
    with pytest.raises(ToolError, match="not a NetCDF file"):
        register.run({"path": str(text)}, ctx)
    corrupt = tmp_path / "broken.nc"
    corrupt.write_bytes(b"CDF\x01" + b"\x00garbage" * 20)
    with pytest.raises(ToolError, match="broken.nc is not a readable NetCDF"):
        register.run({"path": str(corrupt)}, ctx)
    folder = tmp_path / "mixed"
    folder.mkdir()
    small_field(folder / "good.nc")
    (folder / "bad.nc").write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    with pytest.raises(ToolError, match="bad.nc"):
        register.run({"path": str(folder)}, ctx)
    with pytest.raises(ToolError, match="does not exist"):
        register.run({"path": str(tmp_path / "nowhere.nc")}, ctx)
    assert registered_entries(ctx.workspace) == []


def test_register_an_intake_esm_collection(ctx: ToolContext, tmp_path: Path) -> None:
    df = scan_cmip6_tree(sample_root())
    subset = df[df["source_id"].isin(["CESM2", "MIROC6"]) & (df["table_id"] == "Amon")]
    collection = write_collection(subset, tmp_path / "cat", "two-models")
    result = register.run({"path": str(collection), "license": "CC BY-SA 4.0"}, ctx)
    assert sorted(e.key for e in result.entries) == [
        "cmip6.CESM2.historical.Amon.ta", "cmip6.MIROC6.historical.Amon.ta"]
    miroc = next(e for e in result.entries if "MIROC6" in e.key)
    assert (miroc.start, miroc.end) == ("1950-01", "2014-12")


def test_register_and_open_a_zarr_store(ctx: ToolContext, tmp_path: Path) -> None:
    from climcopilot.tools.data.access import open_field

    store = tmp_path / "field.zarr"
    xr.open_dataset(small_field(tmp_path / "f.nc")).to_zarr(store, zarr_format=2)
    entry = register.run({"path": str(store)}, ctx).entries[0]
    assert entry.key == "field" and entry.variables == {"tas": "K"}
    opened = open_field.run({"dataset": "field", "start": "2000-06"}, ctx)
    assert opened.dims["time"] == 19 and ctx.store["field"].chunks is not None


@pytest.mark.parametrize(("typed", "key"), [
    ("Niño-1+2", "nino12"), ("nino 1+2", "nino12"), ("NINO-1+2", "nino12"),
    ("sunspot number", "sunspots"), ("solar cycle", "sunspots"),
    ("EPICA Dome C CO2", "epica_co2"), ("epica", "epica_co2"), ("LR04", "lr04"),
    ("benthic d18O", "lr04"), ("GISP2", "gisp2_d18o"), ("Dome C temperature",
                                                         "edc_temperature")])
def test_series_names_people_type(typed: str, key: str) -> None:
    from climcopilot.tools.data.bundled import find_bundled

    assert find_bundled(typed).key == key


@pytest.mark.parametrize("typed", ["z500", "Z500", "NAO", "North Atlantic Oscillation"])
def test_field_aliases_open_the_z500_field(ctx: ToolContext, typed: str) -> None:
    from climcopilot.tools.data.access import open_field

    assert open_field.run({"dataset": typed, "handle": "z"}, ctx).handle == "z"
    assert ctx.store["z"].attrs["dataset_id"] == "north_atlantic_z500_djf"


def test_paleo_entries_answer_words_not_calendar_years(ctx: ToolContext) -> None:
    hits = [e.key for e in search_catalog.run({"query": "EPICA"}, ctx).entries]
    assert {"epica_co2", "edc_temperature", "edc_dd"} <= set(hits)
    # a calendar-year filter asks for dated data: the age-axis records do not answer it
    dated = search_catalog.run({"query": "EPICA", "start": 1000}, ctx).entries
    assert all(e.time_axis == "time" for e in dated)
