"""causal.drivers: what leads one index, among candidate series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.causal.drivers import anomalies
from climcopilot.tools.registry import get_tool

MONTHS = pd.date_range("1950-01-01", periods=600, freq="MS")


def _monthly(values: np.ndarray, name: str) -> xr.DataArray:
    return xr.DataArray(values, coords={"time": MONTHS}, dims="time", name=name,
                        attrs={"frequency": "monthly"})


def _ar1(rng: np.random.Generator, phi: float = 0.5) -> np.ndarray:
    x = np.zeros(MONTHS.size)
    for t in range(1, x.size):
        x[t] = phi * x[t - 1] + rng.standard_normal()
    return x


def test_planted_driver_found_and_its_twin_left_out(tmp_path):
    rng = np.random.default_rng(3)
    leader, other = _ar1(rng), _ar1(rng)
    target = np.zeros(MONTHS.size)
    for t in range(2, target.size):
        target[t] = 0.4 * target[t - 1] + 0.6 * leader[t - 2] + rng.standard_normal()
    twin = leader + 0.1 * rng.standard_normal(MONTHS.size)
    seasonal = 3 * np.sin(2 * np.pi * np.arange(MONTHS.size) / 12)  # removed as climatology
    store = {"y": _monthly(target + seasonal, "y"), "lead": _monthly(leader, "lead"),
             "other": _monthly(other, "other"), "twin": _monthly(twin, "twin")}
    result = get_tool("causal.drivers").run(
        {"target": "y", "candidates": ["lead", "other", "twin"]},
        ToolContext(workspace=tmp_path, store=store))
    assert [(lk.source, lk.lag) for lk in result.drivers] == [("lead", 2)]
    assert result.drivers[0].value > 0
    [reason] = result.left_out
    r = float(reason.removeprefix("twin (|r| = ").split()[0])
    assert reason.endswith("with lead)") and r == pytest.approx(
        abs(np.corrcoef(leader, twin)[0, 1]), abs=0.01)
    assert "lead leads by 2 months" in result.summary


def test_anomalies_remove_seasonal_cycle_and_trend():
    t = np.arange(MONTHS.size)
    cycle = np.tile(np.arange(12.0), MONTHS.size // 12)
    da = _monthly(0.01 * t + cycle, "x")
    assert np.abs(anomalies(da, "monthly")).max() < 1e-9


def test_soi_leads_nino12_with_negative_sign(tmp_path):
    """The SOI (Tahiti minus Darwin pressure) falls before and during El Nino: links from the
    SOI into a Nino SST index are negative."""
    result = get_tool("causal.drivers").run({"target": "nino12"},
                                            ToolContext(workspace=tmp_path))
    soi = [lk for lk in result.drivers if lk.source == "soi"]
    assert soi and all(lk.value < 0 for lk in soi)
    assert all(lk.target == "nino12" for lk in result.drivers)
    assert any(reason.startswith("oni (|r| = 0.9") for reason in result.left_out)


def test_bad_targets_are_one_line_errors(tmp_path):
    ctx = ToolContext(workspace=tmp_path, store={"copy": _monthly(np.arange(600.0) ** 0.5, "c")})
    with pytest.raises(ToolError, match="unknown dataset 'atlantis'"):
        get_tool("causal.drivers").run({"target": "atlantis"}, ctx)
    ctx.store["bare"] = ctx.store["copy"].copy(deep=True).assign_attrs(frequency=None)
    with pytest.raises(ToolError, match="no candidate drivers for 'bare'"):
        get_tool("causal.drivers").run({"target": "bare"}, ctx)  # no frequency, none named
    ctx.store["field"] = xr.DataArray(np.zeros((600, 2)), dims=("time", "lat"))
    with pytest.raises(ToolError, match="'field' is not a time series"):
        get_tool("causal.drivers").run({"target": "nino3", "candidates": ["field"]}, ctx)
    with pytest.raises(ToolError, match="every candidate duplicates copy"):
        get_tool("causal.drivers").run({"target": "copy", "candidates": ["copy2"]},
                                       ToolContext(workspace=tmp_path, store={
                                           "copy": ctx.store["copy"],
                                           "copy2": ctx.store["copy"] * 2 + 1}))
