"""EOF / principal component analysis of a (time, lat, lon) field with sqrt(cos latitude)
weights, so that variance fractions are area-weighted; missing cells (land) are left out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.analysis.regions import area_weights, lat_lon_names
from climcopilot.tools.analysis.timeaxis import get_dataarray
from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool


@dataclass(frozen=True)
class EofAnalysis:
    """``patterns`` (mode, lat, lon) as covariance maps in the field's units per unit PC;
    ``pcs`` (time, mode) standardised to unit variance; ``variance_fraction`` of all modes."""

    patterns: xr.DataArray
    pcs: xr.DataArray
    variance_fraction: np.ndarray


def eof_analysis(field: xr.DataArray, n_modes: int) -> EofAnalysis:
    """EOFs of ``field`` (dims time, lat, lon) about its time mean."""
    lat, lon = lat_lon_names(field)
    field = field.transpose("time", lat, lon)
    anomalies = field - field.mean("time")
    weights = np.sqrt(area_weights(field)).broadcast_like(field.isel(time=0)).values.ravel()
    x = anomalies.values.reshape(field.sizes["time"], -1)
    ok = np.all(np.isfinite(x), axis=0) & (weights > 0)
    if ok.sum() < 2 or x.shape[0] < 3:
        raise ToolError("an EOF analysis needs at least 3 times and 2 grid cells without gaps")
    u, s, vt = np.linalg.svd(x[:, ok] * weights[ok], full_matrices=False)
    variance = s**2
    k = min(n_modes, s.size)
    pcs = u[:, :k] * np.sqrt(x.shape[0] - 1)  # unit variance
    maps = np.full((k, x.shape[1]), np.nan)
    maps[:, ok] = (pcs.T @ x[:, ok]) / (x.shape[0] - 1)  # covariance with each PC
    shape = (k, field.sizes[lat], field.sizes[lon])
    modes = np.arange(1, k + 1)
    patterns = xr.DataArray(maps.reshape(shape), dims=("mode", lat, lon),
                            coords={"mode": modes, lat: field[lat], lon: field[lon]},
                            attrs={"units": field.attrs.get("units", "?"),
                                   "long_name": f"EOF of {field.attrs.get('long_name', '')}"})
    pcs_da = xr.DataArray(pcs, dims=("time", "mode"),
                          coords={"time": field["time"], "mode": modes},
                          attrs={"units": "1", "long_name": "principal component"})
    return EofAnalysis(patterns, pcs_da, variance / variance.sum())


class EofInput(BaseModel):
    handle: str = Field(description="handle of a (time, lat, lon) field, e.g. SST anomalies")
    n_modes: int = Field(3, ge=1, le=50, description="number of modes kept")


class EofResult(ToolResult):
    variance_fractions: list[float]


@tool("analysis.eof", family="analysis")
def eof(args: EofInput, ctx: ToolContext) -> EofResult:
    """EOF/PCA of a field with area weighting: each mode's share of variance, the patterns
    ('<handle>_eofs', covariance maps) and PCs ('<handle>_pcs', unit variance)."""
    da = get_dataarray(ctx, args.handle)
    extra = [d for d in da.dims if d not in ("time", *lat_lon_names(da))]
    if extra:
        raise ToolError(f"{args.handle!r} has extra dims {extra}; select one level/member")
    result = eof_analysis(da.load(), args.n_modes)
    names = [f"{args.handle}_eofs", f"{args.handle}_pcs"]
    ctx.store.update(zip(names, (result.patterns, result.pcs)))
    fractions = result.variance_fraction
    k = result.pcs.sizes["mode"]
    values = {f"eof{i + 1}_variance_fraction": float(fractions[i]) for i in range(k)}
    figure = _plot(ctx, result, da)
    return EofResult(
        summary=f"EOF1 explains {100 * fractions[0]:.1f} % of the variance of {args.handle}"
                + "".join(f", EOF{i + 1} {100 * fractions[i]:.1f} %" for i in range(1, k)),
        values={**values, "n_modes_total": float(fractions.size)},
        units={**{n: "1" for n in values}, "n_modes_total": "1"},
        handles=names, figures=[figure],
        checks=[Check(name="variance fractions sum to 1 over all modes",
                      passed=bool(abs(fractions.sum() - 1) < 1e-9)),
                Check(name="fractions decrease", passed=bool(np.all(np.diff(fractions) <= 1e-12)))],
        variance_fractions=[float(f) for f in fractions[:k]])


def _plot(ctx: ToolContext, result: EofAnalysis, field: xr.DataArray) -> str:
    from matplotlib.figure import Figure

    from climcopilot.tools.viz.maps import draw_map

    fig = Figure(figsize=(8, 6.5))
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 2))
    units = field.attrs.get("units", "?")
    draw_map(top, result.patterns.sel(mode=1), f"EOF1 ({units} per unit PC)")
    share = 100 * result.variance_fraction[0]
    top.set_title(f"EOF1 of {field.attrs.get('long_name', field.name)} ({share:.1f} % of "
                  "variance)", fontsize=10)
    bottom.plot(result.pcs["time"].values, result.pcs.sel(mode=1).values, marker="o", ms=3)
    bottom.axhline(0, color="0.6", lw=0.8)
    bottom.set_xlabel("time (year)")
    bottom.set_ylabel("PC1 (standardised, 1)")
    fig.tight_layout()
    path = ctx.figure_path(f"eof-{field.name}")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return str(path)
