"""The CMIP6 sample as a multi-model ensemble of regional annual-mean series.

Models sit on different grids, so each model is reduced on its own grid (cos-latitude
weighted mean over the region, one level, calendar-year means of any calendar) and the
series are stacked along a ``model`` dimension over the years every model covers.
"""

from __future__ import annotations

import xarray as xr
from pydantic import BaseModel, Field, field_validator

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.data.cmip6 import open_models, sample_collection
from climcopilot.tools.data.opening import normalise, subset
from climcopilot.tools.datamodel.regions import area_mean
from climcopilot.tools.datamodel.timeaxis import annual_means, years_in


def model_subset(ds: xr.Dataset, variable: str, start: int, end: int, region: str | None,
                 level: float | None) -> xr.DataArray:
    """One model's ``variable`` over ``start``..``end``, region and level (lazy)."""
    if variable not in ds.data_vars:
        raise ToolError(f"no variable {variable!r}")
    return subset(normalise(ds)[variable], str(start), str(end), region, level)


class Cmip6EnsembleInput(BaseModel):
    variable: str = Field("ta", description="CMIP6 variable_id (the sample holds 'ta')")
    table: str = Field("Amon", description="CMIP6 table_id ('Amon' monthly, 'day' daily)")
    years: list[int] = Field([1950, 2014], min_length=1, max_length=2,
                             description="[first, last] year, 1850-2014; one year: from it "
                                         "to 2014")

    _years = field_validator("years", mode="before")(years_in)

    @property
    def start(self) -> int:
        return self.years[0]

    @property
    def end(self) -> int:
        return self.years[-1] if len(self.years) == 2 else 2014
    level: float | None = Field(100000.0, description="pressure level in Pa (ta: 100000 or "
                                                      "92500); null when the variable has none")
    region: str | None = Field(None, description="region to average over; default the whole "
                                                 "sample grid")
    models: list[str] | None = Field(None, description="source_ids; default every model")
    budget_mb: float = Field(500.0, gt=0, description="largest total request in MB")
    handle: str = Field("cmip6", description="session name of the (model, time) result")


class Cmip6EnsembleResult(ToolResult):
    handle: str
    start: int
    end: int
    models: list[str]
    skipped: dict[str, str]


def reduce_models(datasets: dict[str, xr.Dataset], args: Cmip6EnsembleInput
                  ) -> tuple[dict[str, xr.DataArray], dict[str, str], float]:
    """Area-weighted annual means per model that covers the period, the models skipped (with
    why), and the MB read; a ToolError when none fits or the total is over budget."""
    cuts, skipped = {}, {}
    for name, ds in datasets.items():
        try:
            cut = model_subset(ds, args.variable, args.start, args.end, args.region, args.level)
        except ToolError as exc:
            skipped[name] = str(exc)
            continue
        years = cut["time"].dt.year
        if int(years.min()) > args.start or int(years.max()) < args.end:
            skipped[name] = f"covers only {int(years.min())}-{int(years.max())}"
            continue
        cuts[name] = cut
    if not cuts:
        raise ToolError(f"no model covers {args.start}-{args.end}: "
                        + "; ".join(f"{k}: {v}" for k, v in list(skipped.items())[:3]))
    total_mb = sum(c.nbytes for c in cuts.values()) / 1e6
    if total_mb > args.budget_mb:
        raise ToolError(f"request is {total_mb:,.1f} MB over {len(cuts)} models, over the "
                        f"{args.budget_mb:g} MB budget; pick fewer models or a shorter period")
    series = {name: annual_means(area_mean(cut.load())) for name, cut in cuts.items()}
    return series, skipped, total_mb


@tool("data.cmip6_ensemble", family="data")
def cmip6_ensemble(args: Cmip6EnsembleInput, ctx: ToolContext) -> Cmip6EnsembleResult:
    """Open every model of the bundled CMIP6 sample (intake-esm, yearly files joined along
    time) and reduce each to area-weighted annual means: a (model, time) ensemble."""
    if not 1850 <= args.start <= args.end <= 2014:
        raise ToolError(f"years {args.start}-{args.end} must be ordered and within 1850-2014, "
                        "the sample's historical period")
    datasets = open_models(sample_collection(ctx.workspace / "catalog"), args.table,
                           args.variable, args.models)
    try:
        series, skipped, total_mb = reduce_models(datasets, args)
        first = datasets[next(iter(series))][args.variable]
    finally:  # everything needed is loaded now: no file stays open, even after an error
        for ds in datasets.values():
            ds.close()
    stacked = xr.concat(list(series.values()), dim="model", join="inner").assign_coords(
        model=list(series))
    stacked = stacked.assign_attrs(
        units=first.attrs.get("units", "?"),
        long_name=f"{first.attrs.get('long_name', args.variable)}"
                  + (f" at {args.level / 100:g} hPa" if args.level else "")
                  + " (CMIP6 sample, area-weighted annual mean)",
        source="CMIP6 historical via esmvaltool-sample-data", frequency="annual").rename(
        args.handle)
    ctx.store[args.handle] = stacked
    return Cmip6EnsembleResult(
        summary=f"{len(series)} CMIP6 models, {args.start}-{args.end} annual means of "
                f"{args.variable} stored as {args.handle!r}"
                + (f"; skipped {len(skipped)}" if skipped else ""),
        values={"n_models": float(len(series)), "size_mb": total_mb},
        units={"n_models": "1", "size_mb": "MB"}, handles=[args.handle],
        checks=[Check(name="every year present", passed=bool(
            stacked.sizes["time"] == args.end - args.start + 1),
            detail=f"{stacked.sizes['time']} years")],
        handle=args.handle, start=args.start, end=args.end, models=list(series),
        skipped=skipped)
