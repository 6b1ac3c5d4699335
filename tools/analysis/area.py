"""Area-weighted (cos latitude) regional means of fields, and the standard regional indices
(Niño-1+2, 3, 3.4, 4) built from them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.regions import REGIONS, area_mean, parse_region, select_region
from climcopilot.tools.datamodel.steps import with_step
from climcopilot.tools.datamodel.timeaxis import annual_means, get_dataarray


class RegionalMeanInput(BaseModel):
    handle: str = Field(description="handle of a field with lat/lon (and usually time)")
    region: str = Field("global", description=f"named region ({', '.join(REGIONS)}) or "
                                              "'lat_min,lat_max,lon_min,lon_max'")
    anomalies: bool = Field(False, description="subtract each calendar month's mean first "
                                               "(a standard index, e.g. Niño-3.4 anomaly)")
    annual: bool = Field(False, description="average to calendar-year means")
    out: str | None = Field(None, description="handle of the result; default "
                                              "'<handle>_<region>'")


class RegionalMeanResult(ToolResult):
    handle: str
    n_cells: int


@tool("analysis.regional_mean", family="analysis")
def regional_mean(args: RegionalMeanInput, ctx: ToolContext) -> RegionalMeanResult:
    """Area-weighted (cos latitude) mean of a field over a region: a regional series or a
    standard index (nino12, nino3, nino34, nino4 with anomalies=true)."""
    da = get_dataarray(ctx, args.handle, need_time=False)
    box = parse_region(args.region)
    cut = select_region(da, box)
    series = area_mean(cut)
    if args.anomalies:
        if "time" not in series.dims:
            raise ToolError("anomalies need a time dimension")
        series = (series.groupby("time.month") - series.groupby("time.month").mean("time")
                  ).drop_vars("month")
    if args.annual:
        series = annual_means(series)
    series = with_step(series.load(), f"{args.region} area mean", attrs_from=da).assign_attrs(
        long_name=f"{da.attrs.get('long_name', da.name)} {args.region} mean"
        + (" anomaly" if args.anomalies else ""))
    if args.anomalies:
        series = with_step(series, "seasonal cycle removed (whole-record base)")
    if args.annual:
        series = with_step(series, "annual mean per year")
    name = args.out or f"{args.handle}_{args.region.replace(',', '_')}"
    series.name = name
    ctx.store[name] = series
    cells = cut.sizes[next(d for d in cut.dims if d in ("lat", "latitude"))] * cut.sizes[
        next(d for d in cut.dims if d in ("lon", "longitude"))]
    mean = float(series.mean())
    return RegionalMeanResult(
        summary=f"{args.region} area-weighted mean of {args.handle} over {cells} cells "
                f"stored as {name!r} ({dict(series.sizes)})",
        values={"mean": mean}, units={"mean": da.attrs.get("units", "?")}, handles=[name],
        checks=[Check(name="finite", passed=bool(series.notnull().any()))],
        handle=name, n_cells=int(cells))

