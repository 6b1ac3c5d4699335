"""Model-versus-reference statistics: bias, RMSE, (pattern) correlation and the Taylor (2001)
statistics (standard deviation ratio, centred RMS difference), cos-latitude weighted on grids.

Taylor's identity holds for the centred statistics: ``crmse**2 = sf**2 + sr**2 - 2 sf sr r``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.regions import area_weights
from climcopilot.tools.datamodel.timeaxis import get_dataarray
from climcopilot.tools.viz.taylor import taylor_figure


@dataclass(frozen=True)
class FieldStats:
    """Statistics of a candidate against a reference, in the data's units (ratios in 1)."""

    bias: float
    rmse: float
    correlation: float
    std_candidate: float
    std_reference: float
    std_ratio: float
    centred_rmse: float


def field_stats(candidate: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> FieldStats:
    """Weighted statistics over the points where both are finite (arrays of one shape)."""
    ok = np.isfinite(candidate) & np.isfinite(reference) & (weights > 0)
    if ok.sum() < 3:
        raise ToolError("fewer than 3 points where candidate and reference both have data")
    f, r, w = candidate[ok], reference[ok], weights[ok] / weights[ok].sum()
    fm, rm = np.dot(w, f), np.dot(w, r)
    sf, sr = np.sqrt(np.dot(w, (f - fm) ** 2)), np.sqrt(np.dot(w, (r - rm) ** 2))
    corr = float(np.dot(w, (f - fm) * (r - rm)) / (sf * sr)) if sf * sr > 0 else float("nan")
    return FieldStats(bias=float(fm - rm), rmse=float(np.sqrt(np.dot(w, (f - r) ** 2))),
                 correlation=corr, std_candidate=float(sf), std_reference=float(sr),
                 std_ratio=float(sf / sr) if sr > 0 else float("nan"),
                 centred_rmse=float(np.sqrt(np.dot(w, ((f - fm) - (r - rm)) ** 2))))


def _weights(da: xr.DataArray) -> np.ndarray:
    if "lat" in da.coords or "latitude" in da.coords:
        return area_weights(da).broadcast_like(da).values
    return np.ones(da.shape)


class CompareInput(BaseModel):
    handle: str = Field(description="handle of candidates along `dim` (e.g. models), fields "
                                    "or series on one common grid/time axis")
    reference: str | None = Field(None, description="handle of the reference (observations); "
                                                    "default: the mean over `dim`")
    dim: str = Field("model", description="dimension that lists the candidates")


class CompareResult(ToolResult):
    statistics: dict[str, dict[str, float]]
    best: str
    worst: str
    reference_name: str


@tool("analysis.compare", family="analysis")
def compare(args: CompareInput, ctx: ToolContext) -> CompareResult:
    """Compare candidates (e.g. CMIP6 models) with a reference: bias, RMSE, pattern
    correlation, Taylor statistics and a Taylor diagram; ranks candidates by RMSE."""
    models = get_dataarray(ctx, args.handle, need_time=False).load()
    if args.dim not in models.dims:
        raise ToolError(f"{args.handle!r} has no dimension {args.dim!r} (dims: {models.dims})")
    if args.reference:
        reference = get_dataarray(ctx, args.reference, need_time=False).load()
        ref_name = args.reference
    else:
        reference, ref_name = models.mean(args.dim), f"{args.dim} mean"
    models, reference = xr.align(models, reference, join="inner",
                                 exclude=[args.dim] if args.dim not in reference.dims else [])
    if reference.size == 0 or models.sizes[args.dim] == 0:
        raise ToolError("candidates and reference share no coordinates; regrid or align them")
    ref = reference.values
    stats = {}
    for name in models[args.dim].values:
        cand = models.sel({args.dim: name})
        stats[str(name)] = field_stats(cand.transpose(*reference.dims).values, ref,
                                 _weights(reference))
    rmse = {k: s.rmse for k, s in stats.items()}
    best, worst = min(rmse, key=rmse.get), max(rmse, key=rmse.get)
    units = models.attrs.get("units", "?")
    figure = taylor_figure(ctx, stats, f"{models.attrs.get('long_name', args.handle)} vs "
                                       f"{ref_name}", units)
    identity = max(abs(s.centred_rmse**2 - (s.std_candidate**2 + s.std_reference**2 - 2
                                             * s.std_candidate * s.std_reference
                                             * s.correlation)) for s in stats.values())
    return CompareResult(
        summary=f"{len(stats)} {args.dim}s vs {ref_name}: lowest RMSE {rmse[best]:.3g} {units} "
                f"({best}), highest {rmse[worst]:.3g} ({worst}); mean correlation "
                f"{np.nanmean([s.correlation for s in stats.values()]):.2f}",
        values={"best_rmse": rmse[best], "worst_rmse": rmse[worst],
                "mean_correlation": float(np.nanmean([s.correlation for s in stats.values()])),
                "mean_abs_bias": float(np.mean([abs(s.bias) for s in stats.values()]))},
        units={"best_rmse": units, "worst_rmse": units, "mean_correlation": "1",
               "mean_abs_bias": units},
        figures=[figure],
        checks=[Check(name="Taylor identity", passed=bool(identity < 1e-6 * max(
            1.0, max(s.std_reference for s in stats.values()) ** 2)),
            detail=f"largest residual {identity:.2g}")],
        statistics={k: asdict(s) for k, s in stats.items()}, best=best, worst=worst,
        reference_name=ref_name)
