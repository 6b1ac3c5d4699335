"""Bad input to the causal tools fails with one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.registry import get_tool

TOOLS = ["causal.pcmci", "causal.granger", "causal.koopman"]


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path)


def _series(n: int = 3, T: int = 200) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, T))


@pytest.mark.parametrize("name", TOOLS)
def test_constant_series(ctx, name):
    x = _series()
    x[1] = 2.5
    with pytest.raises(ToolError, match=r"\['X1'\] are constant"):
        get_tool(name).run({"data": x.tolist()}, ctx)


@pytest.mark.parametrize("name", TOOLS)
def test_nan(ctx, name):
    x = _series()
    x[2, 17] = np.nan
    with pytest.raises(ToolError, match=r"\['X2'\] contain NaN"):
        get_tool(name).run({"data": x.tolist()}, ctx)


def test_too_short_for_tau_max(ctx):
    with pytest.raises(ToolError, match="30 time steps but 3 variables with tau_max=8 need "
                                        "at least 45"):
        get_tool("causal.pcmci").run({"data": _series(T=30).tolist(), "tau_max": 8}, ctx)


def test_mismatched_inline_lengths(ctx):
    x = _series().tolist()
    x[0] = x[0][:150]
    with pytest.raises(ToolError, match=r"different lengths \[150, 200, 200\]"):
        get_tool("causal.granger").run({"data": x}, ctx)


def test_mismatched_handles(ctx):
    x = _series()
    ctx.store["a"] = xr.DataArray(x[0], dims="time", coords={"time": np.arange(200)})
    ctx.store["b"] = xr.DataArray(x[1, :180], dims="time", coords={"time": np.arange(180)})
    with pytest.raises(ToolError, match="not on the same time axis"):
        get_tool("causal.pcmci").run({"handles": ["a", "b"]}, ctx)


def test_unknown_handle_and_two_sources(ctx):
    with pytest.raises(ToolError, match="no object named 'nope'"):
        get_tool("causal.pcmci").run({"handles": ["nope"]}, ctx)
    with pytest.raises(ToolError, match="exactly one of handles, data or system"):
        get_tool("causal.pcmci").run({"data": _series().tolist(), "system": "rossler"}, ctx)


def test_field_without_grid_dims(ctx):
    ctx.store["f"] = xr.DataArray(_series(), dims=("x", "time"))
    ctx.store["t"] = xr.DataArray(_series()[0], dims="time")
    with pytest.raises(ToolError, match=r"dims \(time, lat, lon\)"):
        get_tool("causal.field_drivers").run({"field": "f", "target": "t"}, ctx)


def test_out_of_range_argument(ctx):
    with pytest.raises(ToolError, match="alpha"):
        get_tool("causal.pcmci").run({"data": _series().tolist(), "alpha": 0.9}, ctx)
