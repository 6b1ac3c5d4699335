"""Two-series diagnostics against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climcopilot.tools.analysis.series import align, lagged_correlations
from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.registry import get_tool


def monthly(values: np.ndarray, start: str = "1950-01", name: str = "x") -> xr.DataArray:
    time = pd.date_range(start, periods=len(values), freq="MS")
    return xr.DataArray(values, coords={"time": time}, dims="time", name=name,
                        attrs={"units": "1", "frequency": "monthly"})


def test_lagged_correlations_match_pandas_shift() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(300), rng.standard_normal(300)
    r = lagged_correlations(a, b, 3)
    for k in range(-3, 4):  # r(k) = corr(a(t), b(t+k)), computed by pandas instead
        expected = pd.Series(a).corr(pd.Series(b).shift(-k))
        assert r[k + 3] == pytest.approx(expected, abs=1e-12)


def test_a_known_lead_is_found(tmp_path) -> None:
    rng = np.random.default_rng(1)
    driver = rng.standard_normal(400)
    follower = np.roll(driver, 5) + 0.3 * rng.standard_normal(400)  # lags the driver by 5
    ctx = ToolContext(workspace=tmp_path, store={"d": monthly(driver, name="d"),
                                                 "f": monthly(follower, name="f")})
    res = get_tool("analysis.lag_correlation").run({"a": "d", "b": "f", "max_lag": 8}, ctx)
    assert res.values["best_lag"] == 5 and res.values["r_at_best_lag"] > 0.9
    # White noise: the effective sample size is close to n (Bretherton et al. 1999).
    assert abs(res.values["n_eff"] / res.values["n"] - 1) < 0.15


def test_align_averages_monthly_to_annual_over_the_overlap() -> None:
    months = monthly(np.arange(36.0), start="2000-01")
    years = xr.DataArray([10.0, 20.0, 30.0], dims="time", name="y",
                         coords={"time": pd.date_range("2001-01", periods=3, freq="YS")},
                         attrs={"frequency": "annual"})
    a, b, freq = align(months, years)
    assert freq == "annual"
    # 2001 and 2002 overlap; the mean of months 12..23 is 17.5 and of 24..35 is 29.5.
    assert a.values.tolist() == [17.5, 29.5] and b.values.tolist() == [10.0, 20.0]


def test_bad_series_are_refused(tmp_path) -> None:
    ctx = ToolContext(workspace=tmp_path, store={"c": monthly(np.ones(100)),
                                                 "x": monthly(np.arange(100.0)),
                                                 "short": monthly(np.arange(12.0))})
    lag = get_tool("analysis.lag_correlation")
    with pytest.raises(ToolError, match="constant"):
        lag.run({"a": "c", "b": "x"}, ctx)
    with pytest.raises(ToolError, match="too few"):
        lag.run({"a": "short", "b": "x", "max_lag": 12}, ctx)
    with pytest.raises(ToolError, match="no object named 'nope'"):
        lag.run({"a": "nope", "b": "x"}, ctx)
