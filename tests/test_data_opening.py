"""Opening lazily with CF decoding, subsetting, the size budget, the intake-esm aggregation of
yearly CMIP6 files, and bad requests that leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import cftime
import netCDF4
import numpy as np
import pytest

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data.access import open_field
from climcopilot.tools.data.cmip6 import open_member, sample_collection, sample_root
from climcopilot.tools.data.ensemble import cmip6_ensemble


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def test_open_field_is_lazy_keeps_units_and_subsets(ctx: ToolContext) -> None:
    result = open_field.run({"dataset": "pacific_sst_ndjfm", "start": "1980", "end": "1999",
                             "region": "nino34", "handle": "sst"}, ctx)
    da = ctx.store["sst"]
    assert da.chunks is not None  # dask-backed: nothing loaded yet
    assert result.variable_units == "K" and da.attrs["units"] == "K"
    assert result.dims == {"time": 20, "lat": 2, "lon": 10}  # 5-degree cells inside 5S-5N
    assert float(da.lat.min()) >= -5 and float(da.lon.min()) >= 190
    assert "GPL" in result.license and result.start == "1980-01"


def test_intake_esm_joins_a_models_yearly_files_along_time(tmp_path: Path) -> None:
    collection = sample_collection(tmp_path / "cat")
    ds = open_member(collection, "AWI-CM-1-1-MR")  # 65 yearly files, 1950-2014
    files = sorted((sample_root() / "CMIP" / "AWI").rglob("ta_Amon_*.nc"))
    assert len(files) == 65 and ds.sizes["time"] == 65 * 12
    assert isinstance(ds["time"].values[0], cftime.datetime)  # CF calendar kept
    # independent route: read each file with netCDF4 and concatenate along time
    direct = np.concatenate([netCDF4.Dataset(f)["ta"][:].filled(np.nan) for f in files])
    np.testing.assert_array_equal(ds["ta"].squeeze("member_id").values, direct)
    assert ds["ta"].attrs["units"] == "K"


def test_cmip6_noleap_model_opens_with_its_calendar(ctx: ToolContext) -> None:
    open_field.run({"dataset": "cmip6.CESM2.historical.Amon.ta", "level": 100000,
                    "start": "2000", "end": "2000-12", "handle": "cesm2"}, ctx)
    time = ctx.store["cesm2"]["time"].values
    assert time[0].calendar == "noleap" and len(time) == 12
    values = ctx.store["cesm2"].values  # K; CESM2 masks some 1000 hPa cells (NaN here)
    assert np.isfinite(values).sum() > 12
    assert 180 < np.nanmin(values) and np.nanmax(values) < 320


def test_default_netcdf_fill_is_masked(ctx: ToolContext) -> None:
    # FGOALS-g3 files carry the netCDF default fill (9.97e36) below ground without _FillValue
    open_field.run({"dataset": "cmip6.FGOALS-g3.historical.Amon.ta", "level": 100000,
                    "handle": "fg"}, ctx)
    values = ctx.store["fg"].values
    assert np.nanmax(values) < 400 and np.isnan(values).any()


@pytest.mark.parametrize("args, message", [
    ({"dataset": "pacific_sst_ndjfm", "variable": "tas"}, "unknown variable 'tas'"),
    ({"dataset": "pacific_sst_ndjfm", "region": "atlantis"}, "unknown region"),
    ({"dataset": "pacific_sst_ndjfm", "region": "north_atlantic"}, "no grid cells"),
    ({"dataset": "pacific_sst_ndjfm", "start": "1800", "end": "1850"}, "outside the data"),
    ({"dataset": "pacific_sst_ndjfm", "budget_mb": 0.05}, "over the 0.05 MB budget"),
    ({"dataset": "cmip6.CESM2.historical.Amon.ta", "level": 50000}, "no level 50000"),
    ({"dataset": "cmip6.CESM2.historical.Amon.ta", "member": "r9i1p1f1"}, "no member"),
    ({"dataset": "no_such_data"}, "unknown dataset"),
])
def test_bad_requests_are_clear_and_leave_nothing(ctx: ToolContext, args: dict,
                                                  message: str) -> None:
    with pytest.raises(ToolError, match=message) as err:
        open_field.run(args, ctx)
    assert "\n" not in str(err.value)
    assert ctx.store == {}


def test_budget_refusal_gives_size_and_suggestion(ctx: ToolContext) -> None:
    with pytest.raises(ToolError) as err:
        open_field.run({"dataset": "north_atlantic_z500_djf", "budget_mb": 0.1}, ctx)
    # 65 x 1 x 29 x 49 float64 = 0.74 MB, computed here independently of the tool
    assert f"{65 * 29 * 49 * 8 / 1e6:,.1f} MB" in str(err.value)
    assert "narrow the period" in str(err.value) and ctx.store == {}


def test_cmip6_ensemble_of_two_models(ctx: ToolContext) -> None:
    result = cmip6_ensemble.run({"models": ["CESM2", "MIROC6"], "years": "[1990, 1999]"},
                                ctx)
    da = ctx.store["cmip6"]
    assert da.dims == ("model", "time") and da.sizes["time"] == 10
    assert result.models == ["CESM2", "MIROC6"]
    # independent route for CESM2 1990: netCDF4 read, 1000 hPa, cos-lat weights, 12 months
    path = next((sample_root() / "CMIP" / "NCAR" / "CESM2").rglob("ta_Amon_*.nc"))
    with netCDF4.Dataset(path) as nc:
        months = slice((1990 - 1850) * 12, (1991 - 1850) * 12)
        ta = nc["ta"][months, 0].filled(np.nan)  # (12, lat, lon), plev[0] = 100000 Pa
        w = np.cos(np.deg2rad(nc["lat"][:]))[:, None] * np.ones(ta.shape[2])
        ok = np.isfinite(ta)  # masked cells are skipped, month by month
        monthly = [(m[k] * w[k]).sum() / w[k].sum() for m, k in zip(ta, ok) if k.any()]
        expected = np.mean(monthly)
    assert float(da.sel(model="CESM2").isel(time=0)) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ToolError, match="budget"):
        cmip6_ensemble.run({"models": ["CESM2"], "budget_mb": 0.001, "handle": "x"}, ctx)
    with pytest.raises(ToolError, match="within 1850-2014"):
        cmip6_ensemble.run({"years": [2000, 2050], "handle": "x"}, ctx)
    assert "x" not in ctx.store
    one_year = cmip6_ensemble.run({"models": ["MIROC6"], "years": [2010], "handle": "y"}, ctx)
    assert (one_year.start, one_year.end) == (2010, 2014) and ctx.store["y"].sizes["time"] == 5


@pytest.mark.slow  # a kernel start; the messages themselves are tested in-process above
def test_over_budget_through_the_cli_is_one_line(home: Path) -> None:
    from conftest import run_cli

    proc = run_cli("tools", "run", "data.open_field", "--args",
                   '{"dataset": "north_atlantic_z500_djf", "budget_mb": 0.1}')
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "over the 0.1 MB budget" in proc.stderr
