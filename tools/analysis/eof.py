"""EOF / principal component analysis of a (time, lat, lon) field with sqrt(cos latitude)
weights, so that variance fractions are area-weighted; missing cells (land) are left out.

Sign convention: each mode's sign is chosen so that its pattern is positive at a stated point
(``positive_at``), or else where the pattern is largest in magnitude; a PC then rises when
the field looks like its pattern there. Each PC is also stored as a series handle
('<handle>_pc1', ...) that the series tools take (align, lag_correlation, trend, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.datamodel.regions import area_weights, lat_lon_names, on_grid
from climcopilot.tools.datamodel.steps import described, with_step
from climcopilot.tools.datamodel.timeaxis import frequency_of, get_dataarray
from climcopilot.tools.viz.figures import save_figure


@dataclass(frozen=True)
class EofAnalysis:
    """``patterns`` (mode, lat, lon) as covariance maps in the field's units per unit PC;
    ``pcs`` (time, mode) standardised to unit variance; ``variance_fraction`` of all modes."""

    patterns: xr.DataArray
    pcs: xr.DataArray
    variance_fraction: np.ndarray


def eof_analysis(field: xr.DataArray, n_modes: int,
                 positive_at: tuple[float, float] | None = None) -> EofAnalysis:
    """EOFs of ``field`` (dims time, lat, lon) about its time mean; each mode's sign makes its
    pattern positive at ``positive_at`` (lat, lon; the nearest cell with data) or, without
    it, where the pattern is largest in magnitude."""
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
    sign = np.sign(_reference_values(maps, ok, field, lat, lon, positive_at))
    sign[sign == 0] = 1.0
    pcs, maps = pcs * sign, maps * sign[:, None]
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


def _reference_values(maps: np.ndarray, ok: np.ndarray, field: xr.DataArray, lat: str,
                      lon: str, positive_at: tuple[float, float] | None) -> np.ndarray:
    """Each pattern's value at the sign reference: the cell with data nearest
    ``positive_at``, else the pattern's largest-magnitude cell; shape (mode,)."""
    if positive_at is None:
        idx = np.nanargmax(np.abs(maps), axis=1)
        return maps[np.arange(maps.shape[0]), idx]
    la, lo = np.meshgrid(field[lat].values, field[lon].values % 360, indexing="ij")
    dist = (la.ravel() - positive_at[0]) ** 2 + (
        (lo.ravel() - positive_at[1] % 360 + 180) % 360 - 180) ** 2
    dist[~ok] = np.inf
    return maps[:, int(np.argmin(dist))]


class EofInput(BaseModel):
    handle: str = Field(description="handle of a (time, lat, lon) field, e.g. SST anomalies")
    n_modes: int = Field(3, ge=1, le=50, description="number of modes kept")
    positive_at: str | None = Field(
        None, description="'lat,lon' where every pattern is made positive (e.g. '0,250' for "
        "the east Pacific); default: where each pattern is largest in magnitude")


class EofResult(ToolResult):
    variance_fractions: list[float]
    sign_convention: str


@tool("analysis.eof", family="analysis")
def eof(args: EofInput, ctx: ToolContext) -> EofResult:
    """EOF/PCA of a field with area weighting: each mode's share of variance, the patterns
    ('<handle>_eofs', covariance maps) and PCs ('<handle>_pcs', unit variance)."""
    da = get_dataarray(ctx, args.handle)
    da = on_grid(da, args.handle, "time")
    point = _point(args.positive_at)
    result = eof_analysis(da.load(), args.n_modes, point)
    names = [f"{args.handle}_eofs", f"{args.handle}_pcs"]
    ctx.store.update(zip(names, (result.patterns, result.pcs)))
    convention = (f"each pattern positive at the cell nearest {args.positive_at} (lat, lon)"
                  if point else "each pattern positive where it is largest in magnitude")
    k = result.pcs.sizes["mode"]
    pc_names = [f"{args.handle}_pc{i + 1}" for i in range(k)]
    for i, name in enumerate(pc_names):
        ctx.store[name] = _pc_series(result.pcs.sel(mode=i + 1), da, i + 1, name, convention)
    fractions = result.variance_fraction
    values = {f"eof{i + 1}_variance_fraction": float(fractions[i]) for i in range(k)}
    figure = _plot(ctx, result, da)
    return EofResult(
        summary=f"EOF1 explains {100 * fractions[0]:.1f} % of the variance of {args.handle}"
                + "".join(f", EOF{i + 1} {100 * fractions[i]:.1f} %" for i in range(1, k))
                + f"; PCs stored as series {', '.join(pc_names)} (sign: {convention})",
        values={**values, "n_modes_total": float(fractions.size)},
        units={**{n: "1" for n in values}, "n_modes_total": "1"},
        handles=[*names, *pc_names], figures=[figure],
        checks=[Check(name="variance fractions sum to 1 over all modes",
                      passed=bool(abs(fractions.sum() - 1) < 1e-9)),
                Check(name="fractions decrease", passed=bool(np.all(np.diff(fractions) <= 1e-12)))],
        variance_fractions=[float(f) for f in fractions[:k]], sign_convention=convention)


def _point(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise ToolError(f"positive_at {text!r} is not 'lat,lon' (degrees), e.g. '0,250'"
                        ) from None
    if not -90 <= lat <= 90:
        raise ToolError(f"positive_at latitude {lat:g} is outside -90..90")
    return lat, lon


def _pc_series(pc: xr.DataArray, field: xr.DataArray, mode: int, name: str,
               convention: str) -> xr.DataArray:
    """One principal component as a series handle, named and labelled."""
    series = pc.drop_vars("mode").rename(name)
    series.attrs = {**field.attrs, "units": "1",
                    "long_name": f"PC{mode} of {field.attrs.get('long_name', field.name)}",
                    "frequency": frequency_of(field), "sign_convention": convention}
    return with_step(series, f"EOF{mode} principal component (standardised; {convention})")


def _plot(ctx: ToolContext, result: EofAnalysis, field: xr.DataArray) -> str:
    from matplotlib.figure import Figure

    from climcopilot.tools.viz.maps import draw_map

    fig = Figure(figsize=(8, 6.5))
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 2))
    units = field.attrs.get("units", "?")
    draw_map(top, result.patterns.sel(mode=1), f"EOF1 ({units} per unit PC)")
    share = 100 * result.variance_fraction[0]
    top.set_title(f"EOF1 of {described(field)} ({share:.1f} % of "
                  "variance)", fontsize=10)
    bottom.plot(result.pcs["time"].values, result.pcs.sel(mode=1).values, marker="o", ms=3)
    bottom.axhline(0, color="0.6", lw=0.8)
    bottom.set_xlabel("time (year)")
    bottom.set_ylabel("PC1 (standardised, 1)")
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path(f"eof-{field.name}"))
