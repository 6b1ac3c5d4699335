"""causal.field_drivers: reductions, and the planted precursor is found at its lead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from climcopilot.tools.base import ToolContext
from climcopilot.tools.causal.fields import box_indices, eof_components, planted_precursor
from climcopilot.tools.registry import get_tool


def _grid_field(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, dims=("time", "lat", "lon"),
                        coords={"time": np.arange(values.shape[0]),
                                "lat": np.linspace(-60, 60, values.shape[1]),
                                "lon": np.linspace(0, 350, values.shape[2])})


def test_box_mean_of_uniform_field_is_the_series():
    s = np.sin(np.arange(50.0))
    field = _grid_field(np.broadcast_to(s[:, None, None], (50, 6, 8)).copy())
    boxes = box_indices(field, 2, 4)
    assert boxes.sizes["component"] == 8
    np.testing.assert_allclose(boxes.values, np.repeat((s - s.mean())[:, None], 8, axis=1),
                               atol=1e-12)


def test_eof1_recovers_a_single_pattern():
    rng = np.random.default_rng(0)
    pattern = rng.standard_normal((5, 7))
    pc = rng.standard_normal(200)
    field = _grid_field(pc[:, None, None] * pattern[None])
    pcs, patterns = eof_components(field, 2)
    corr = np.corrcoef(pcs.sel(component="eof1"), pc)[0, 1]
    assert abs(corr) > 0.999
    np.testing.assert_allclose(np.abs(patterns.sel(component="eof1").values),
                               np.abs(pattern) * pc.std(), rtol=1e-6)


def test_planted_precursor_region_and_lag(tmp_path):
    lag = 4
    field, target, truth = planted_precursor(lag=lag, seed=1)
    ctx = ToolContext(workspace=tmp_path, store={"sst": field, "index": target})
    result = get_tool("causal.field_drivers").run(
        {"field": "sst", "target": "index", "tau_max": 6}, ctx)
    best = result.precursors[0]
    lat0, lat1, lon0, lon1 = truth["region"]
    assert best.lag == lag
    assert best.lat_min <= lat0 and lat1 <= best.lat_max  # the box holds the planted region
    assert best.lon_min <= lon0 and lon1 <= best.lon_max
    f_lat0, f_lat1, f_lon0, f_lon1 = truth["follower"]
    for p in result.precursors:  # the region that only follows the target is not a driver
        assert not (p.lat_min <= f_lat0 and f_lat1 <= p.lat_max
                    and p.lon_min <= f_lon0 and f_lon1 <= p.lon_max)
    assert "sst_regions" in ctx.store and Path(result.figures[0]).exists()
    assert result.values["best_lag"] == lag


def test_eof_reduction_finds_the_lead(tmp_path):
    result = get_tool("causal.field_drivers").run(
        {"synthetic_lag": 3, "reduction": "eofs", "n_eofs": 4},
        ToolContext(workspace=tmp_path))
    assert result.precursors and result.precursors[0].lag == 3
