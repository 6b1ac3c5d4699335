"""From gridded fields to drivers: reduce (time, lat, lon) to components, discover, map back."""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, Field

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult
from climcopilot.tools.causal.pcmci import run_pcmci
from climcopilot.tools.causal.plots import plot_precursor_map
from climcopilot.tools.causal.series_table import check_series


class Precursor(BaseModel):
    """A component of the field that drives the target at a lead (its region or pattern peak)."""

    component: str
    lag: int = Field(description="lead of the component over the target (time steps)")
    value: float = Field(description="MCI partial correlation")
    p_value: float = Field(description="FDR-corrected p-value")
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


class FieldDriversResult(ToolResult):
    """Precursors of the target in the field, strongest first."""

    reduction: str
    precursors: list[Precursor]
    components: list[str]


def _anomalies(field: xr.DataArray) -> xr.DataArray:
    return field - field.mean("time")


def box_indices(field: xr.DataArray, n_lat: int, n_lon: int) -> xr.DataArray:
    """Area-weighted (cos lat) mean anomalies over an n_lat x n_lon grid of boxes.

    Returns (time, component) with coords lat_min/lat_max/lon_min/lon_max (degrees) per box;
    boxes without any finite value are dropped.
    """
    anom = _anomalies(field)
    lat_groups = np.array_split(np.arange(field.sizes["lat"]), n_lat)
    lon_groups = np.array_split(np.arange(field.sizes["lon"]), n_lon)
    series, bounds, names = [], [], []
    for a, li in enumerate(lat_groups):
        for b, lj in enumerate(lon_groups):
            box = anom.isel(lat=li, lon=lj)
            w = np.cos(np.deg2rad(box["lat"])).broadcast_like(box.isel(time=0))
            mean = box.weighted(w.fillna(0)).mean(("lat", "lon"), skipna=True)
            if not np.isfinite(mean.values).any():
                continue
            series.append(mean.values)
            lat, lon = box["lat"].values, box["lon"].values
            bounds.append((lat.min(), lat.max(), lon.min(), lon.max()))
            names.append(f"box{a}{b}")
    bounds_arr = np.array(bounds, dtype=float)
    return xr.DataArray(np.column_stack(series), dims=("time", "component"),
                        coords={"time": field["time"], "component": names,
                                "lat_min": ("component", bounds_arr[:, 0]),
                                "lat_max": ("component", bounds_arr[:, 1]),
                                "lon_min": ("component", bounds_arr[:, 2]),
                                "lon_max": ("component", bounds_arr[:, 3])})


def eof_components(field: xr.DataArray, n_eofs: int) -> tuple[xr.DataArray, xr.DataArray]:
    """Leading EOFs of the sqrt(cos lat)-weighted anomalies.

    Returns PCs (time, component), standardised, and patterns (component, lat, lon) in field
    units per standard deviation of the PC; grid points with any NaN are left out.
    """
    anom = _anomalies(field).transpose("time", "lat", "lon")
    w = np.sqrt(np.cos(np.deg2rad(anom["lat"].values)))[:, None]
    flat = (anom.values * w).reshape(anom.sizes["time"], -1)
    keep = np.isfinite(flat).all(axis=0)
    if keep.sum() < n_eofs:
        raise ToolError(f"only {keep.sum()} grid points have no NaN; cannot take {n_eofs} EOFs")
    u, s, vt = np.linalg.svd(flat[:, keep], full_matrices=False)
    k = min(n_eofs, len(s))
    pcs = u[:, :k] * s[:k]
    std = pcs.std(axis=0)
    patterns = np.full((k, flat.shape[1]), np.nan)
    patterns[:, keep] = vt[:k] * std[:, None]
    names = [f"eof{m + 1}" for m in range(k)]
    pc_da = xr.DataArray(pcs / std, dims=("time", "component"),
                         coords={"time": field["time"], "component": names})
    pat_da = xr.DataArray(patterns.reshape(k, *anom.shape[1:]) / w[None],
                          dims=("component", "lat", "lon"),
                          coords={"component": names, "lat": anom["lat"], "lon": anom["lon"]})
    return pc_da, pat_da


def _pattern_bounds(pattern: xr.DataArray) -> tuple[float, float, float, float]:
    """Lat/lon extent of the grid points loading at least half the pattern's peak |value|."""
    strong = np.abs(pattern) >= 0.5 * float(np.nanmax(np.abs(pattern)))
    lat = pattern["lat"].where(strong.any("lon"), drop=True).values
    lon = pattern["lon"].where(strong.any("lat"), drop=True).values
    return float(lat.min()), float(lat.max()), float(lon.min()), float(lon.max())


def find_field_drivers(field: xr.DataArray, target: xr.DataArray, ctx: ToolContext, name: str,
                       reduction: str = "boxes", n_boxes: tuple[int, int] = (3, 6),
                       n_eofs: int = 6, tau_max: int = 6,
                       alpha: float = 0.05) -> FieldDriversResult:
    """Reduce the field, run PCMCI on [components, target], map links into the target.

    PCMCI runs with ParCorr and a fixed pc_alpha of 0.05 (the AIC search over pc_alpha costs
    ~10x more with tens of components); links are FDR-corrected at ``alpha``.
    """
    if target.ndim != 1 or "time" not in target.dims:
        raise ToolError("the target must be a 1-D series along 'time'")
    if target.sizes["time"] != field.sizes["time"]:
        raise ToolError(f"field has {field.sizes['time']} time steps and target "
                        f"{target.sizes['time']}; select a common period first")
    patterns = None
    if reduction == "boxes":
        comps = box_indices(field, *n_boxes)
    else:
        comps, patterns = eof_components(field, n_eofs)
    names = [str(c) for c in comps["component"].values]
    x = check_series(np.column_stack([comps.values, target.values]), [*names, "target"],
                     tau_max)
    graph = run_pcmci(x, [*names, "target"], tau_max=tau_max, alpha=alpha, pc_alpha=0.05)
    precursors = []
    for link in graph.links():
        if link.target != "target" or link.source == "target":
            continue
        if patterns is None:
            c = comps.sel(component=link.source)
            box = (float(c.lat_min), float(c.lat_max), float(c.lon_min), float(c.lon_max))
        else:
            box = _pattern_bounds(patterns.sel(component=link.source))
        precursors.append(Precursor(component=link.source, lag=link.lag, value=link.value,
                                    p_value=link.p_value, lat_min=box[0], lat_max=box[1],
                                    lon_min=box[2], lon_max=box[3]))
    handle = f"{name}_regions" if reduction == "boxes" else f"{name}_pcs"
    ctx.store[handle] = comps
    fig = plot_precursor_map(field, precursors, patterns, ctx.figure_path(f"{name}_precursors"),
                             f"Precursors of the target in {name} ({reduction})")
    values, units = {"n_precursors": float(len(precursors))}, {"n_precursors": "count"}
    if precursors:
        best = precursors[0]
        values.update({"best_lag": float(best.lag), "best_value": best.value,
                       "best_lat": (best.lat_min + best.lat_max) / 2,
                       "best_lon": (best.lon_min + best.lon_max) / 2})
        units.update({"best_lag": "time steps", "best_value": "1", "best_lat": "degrees_north",
                      "best_lon": "degrees_east"})
    summary = (f"{len(precursors)} precursor components; strongest {precursors[0].component} "
               f"leads by {precursors[0].lag} steps" if precursors else
               "no component of the field significantly leads the target")
    checks = [Check(name="leads_within_range",
                    passed=all(1 <= p.lag <= tau_max for p in precursors),
                    detail=f"every lead lies in 1..{tau_max} steps")]
    return FieldDriversResult(summary=summary, values=values, units=units, handles=[handle],
                              figures=[str(fig)], checks=checks, reduction=reduction,
                              precursors=precursors, components=names)


def planted_precursor(lag: int = 3, T: int = 480, seed: int = 0
                      ) -> tuple[xr.DataArray, xr.DataArray, dict[str, object]]:
    """A synthetic anomaly field (time, lat, lon) with a precursor region and a follower region.

    Grid: 5 deg x 10 deg, lat -57.5..57.5, lon 0..350; every cell carries AR(1) noise (0.5,
    unit variance). A signal s(t) (AR(1) 0.3) is added over lat 25..45 N, lon 130..170 E; the
    target is y(t) = 0.4 y(t-1) + 0.6 s(t - lag) + noise. Over lat 45..25 S, lon 250..290 E the
    field follows the target two steps later (a region that correlates with the target but
    does not drive it). Returns field, target and the truth {region, lag, follower}.
    """
    rng = np.random.default_rng(seed)
    lat = np.arange(-57.5, 60.0, 5.0)
    lon = np.arange(0.0, 360.0, 10.0)
    burn = 50
    n = T + burn
    noise = rng.standard_normal((n, lat.size, lon.size))
    field = np.zeros_like(noise)
    s, y = np.zeros(n), np.zeros(n)
    eps = rng.standard_normal((n, 2))
    for t in range(1, n):
        field[t] = 0.5 * field[t - 1] + np.sqrt(0.75) * noise[t]
        s[t] = 0.3 * s[t - 1] + eps[t, 0]
        y[t] = 0.4 * y[t - 1] + (0.6 * s[t - lag] if t >= lag else 0.0) + eps[t, 1]
    pre = (slice(None), (lat >= 25) & (lat <= 45), (lon >= 130) & (lon <= 170))
    field[pre[0], pre[1][:, None] & pre[2][None, :]] += s[:, None]
    fol = ((lat >= -45) & (lat <= -25))[:, None] & ((lon >= 250) & (lon <= 290))[None, :]
    field[2:, fol] += 0.8 * y[:-2, None]
    time = np.arange(T)
    field_da = xr.DataArray(field[burn:], dims=("time", "lat", "lon"),
                            coords={"time": time, "lat": lat, "lon": lon}, name="field",
                            attrs={"units": "1", "long_name": "synthetic anomaly"})
    target = xr.DataArray(y[burn:], dims="time", coords={"time": time}, name="target")
    truth = {"region": (25.0, 45.0, 130.0, 170.0), "lag": lag,
             "follower": (-45.0, -25.0, 250.0, 290.0)}
    return field_da, target, truth
