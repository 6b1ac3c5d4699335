"""Figures state the settings they show: the label text saved in each PNG (title, axis labels,
legend, colour bar) names the period, season and transforms of the data, and its units."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from series_tools import run

from climcopilot.tools.base import ToolContext, ToolError


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws")


def labels(path: str) -> str:
    """The label text a saved figure carries (PNG text chunks), read back from the file."""
    with Image.open(path) as image:
        return image.text["Description"]


def test_line_plot_names_period_season_transform_and_units(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="air")
    run(ctx, "analysis.subset", handle="air", start=1951, end=2000, season="JJAS",
        seasonal_mean=True, out="monsoon")
    run(ctx, "analysis.detrend", handle="monsoon")
    figure = run(ctx, "viz.line_plot", handles=["monsoon_detrended"],
                 title="Indian monsoon").figures[0]
    text = labels(figure)
    for part in ("Indian monsoon", "1951-2000", "JJAS mean per year", "linear trend removed",
                 "(mm month-1)", "time (year)"):
        assert part in text, (part, text)
    assert Path(figure).stat().st_size > 10_000


def test_two_series_with_different_steps_label_each_in_the_legend(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="nino3")
    run(ctx, "data.open_series", name="soi")
    run(ctx, "analysis.subset", handle="nino3", start=1951, end=2000, out="n3")
    run(ctx, "analysis.running_mean", handle="soi", window=5)
    text = labels(run(ctx, "viz.line_plot", handles=["n3", "soi_rm5"]).figures[0])
    assert "Nino-3 SST anomaly [1951-2000]" in text
    assert "Southern Oscillation Index [5-month running mean]" in text


def test_paleo_plot_and_spectrum_say_age_axis_and_interpolation(ctx: ToolContext) -> None:
    run(ctx, "data.open_series", name="epica_co2")
    run(ctx, "analysis.subset", handle="epica_co2", oldest_ka=400, youngest_ka=0, out="co2")
    text = labels(run(ctx, "viz.line_plot", handles=["co2"]).figures[0])
    assert "age (ka BP)" in text and "400-0 ka BP" in text and "(ppm)" in text
    spec = labels(run(ctx, "analysis.spectrum", handle="co2", min_period=5).figures[0])
    assert "period (kyr)" in spec and "interpolated linearly to an even" in spec
    run(ctx, "data.open_series", name="soi")
    with pytest.raises(ToolError, match="cannot plot paleo records"):
        run(ctx, "viz.line_plot", handles=["co2", "soi"])


def test_map_and_lag_correlation_figures_carry_settings(ctx: ToolContext) -> None:
    run(ctx, "data.open_field", dataset="pacific_sst_ndjfm", start="1980", end="1999",
        region="nino34", handle="sst")
    text = labels(run(ctx, "viz.map_plot", handle="sst").figures[0])
    assert "1980-01 to 1999-01" in text and "region nino34" in text and "time mean" in text
    run(ctx, "data.open_series", name="nino3")
    run(ctx, "data.open_series", name="soi")
    run(ctx, "analysis.subset", handle="nino3", season="DJF", seasonal_mean=True, out="w")
    run(ctx, "analysis.subset", handle="soi", season="DJF", seasonal_mean=True, out="s")
    lag = labels(run(ctx, "analysis.lag_correlation", a="w", b="s", max_lag=2).figures[0])
    assert "DJF mean per year" in lag and "lag (years)" in lag


def test_a_model_calendar_series_plots_against_decimal_years(ctx: ToolContext) -> None:
    import cftime
    import numpy as np
    import xarray as xr

    time = [cftime.DatetimeNoLeap(1990 + k // 12, k % 12 + 1, 15) for k in range(36)]
    ctx.store["m"] = xr.DataArray(np.sin(np.arange(36.0)), dims="time", coords={"time": time},
                                  attrs={"units": "K", "long_name": "model series"})
    figure = run(ctx, "viz.line_plot", handles=["m"]).figures[0]
    assert "model series (K)" in labels(figure)
