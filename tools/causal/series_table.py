"""Turning tool inputs (session handles or inline arrays) into a checked (T, N) matrix."""

from __future__ import annotations

import numpy as np
import xarray as xr

from climcopilot.tools.base import ToolContext, ToolError


def min_length(n_vars: int, tau_max: int) -> int:
    """Shortest record (time steps) that leaves enough samples for the widest lagged regression.

    The largest conditioning set has ``n_vars * (tau_max + 1)`` lagged regressors, and
    ``tau_max`` steps are lost at the start; 10 more samples keep the tests meaningful.
    """
    return tau_max + n_vars * (tau_max + 1) + 10


def check_series(x: np.ndarray, names: list[str], tau_max: int) -> np.ndarray:
    """Return ``x`` (T, N) as float64 after checking it; a ToolError says what is wrong."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ToolError(f"need at least 2 series as a (time, variable) table, got shape {x.shape}")
    if len(names) != x.shape[1]:
        raise ToolError(f"got {len(names)} names for {x.shape[1]} series; give one name each")
    if len(set(names)) != len(names):
        raise ToolError(f"series names must be unique, got {names}")
    bad = [n for n, col in zip(names, x.T, strict=True) if not np.isfinite(col).all()]
    if bad:
        raise ToolError(f"series {bad} contain NaN or inf; fill or drop the gaps first "
                        f"(e.g. interpolate_na or dropna on a common period)")
    flat = [n for n, col in zip(names, x.T, strict=True)
            if col.std() <= 1e-12 * (1.0 + np.abs(col).mean())]
    if flat:
        raise ToolError(f"series {flat} are constant and carry no information; drop them")
    need = min_length(x.shape[1], tau_max)
    if x.shape[0] < need:
        raise ToolError(f"series have {x.shape[0]} time steps but {x.shape[1]} variables with "
                        f"tau_max={tau_max} need at least {need}; lower tau_max, use fewer "
                        f"variables or a longer record")
    return x


def _columns(obj: object, handle: str) -> list[tuple[str, xr.DataArray]]:
    """Split a session object into named 1-D series along ``time``."""
    if isinstance(obj, xr.Dataset):
        return [(str(k), obj[k]) for k in obj.data_vars]
    if isinstance(obj, xr.DataArray):
        if obj.ndim == 1:
            return [(handle, obj)]
        if obj.ndim == 2 and "time" in obj.dims:
            other = next(d for d in obj.dims if d != "time")
            return [(f"{handle}[{v}]", obj.sel({other: v})) for v in obj[other].values]
        raise ToolError(f"{handle!r} has dims {obj.dims}; reduce it to series along 'time' "
                        f"(e.g. with causal.field_drivers for a gridded field)")
    raise ToolError(f"{handle!r} is a {type(obj).__name__}, not an xarray DataArray/Dataset")


def series_from_handles(ctx: ToolContext, handles: list[str]) -> tuple[np.ndarray, list[str]]:
    """(T, N) matrix and names from session objects that share one time axis."""
    cols: list[tuple[str, xr.DataArray]] = []
    for h in handles:
        cols.extend(_columns(ctx.get(h), h))
    for name, da in cols:
        if "time" not in da.dims:
            raise ToolError(f"series {name!r} has no 'time' dimension (dims {da.dims})")
    first_name, first = cols[0]
    for name, da in cols[1:]:
        if da.sizes["time"] != first.sizes["time"] or (
                "time" in da.coords and "time" in first.coords
                and not np.array_equal(da["time"].values, first["time"].values)):
            raise ToolError(f"series {first_name!r} ({first.sizes['time']} steps) and {name!r} "
                            f"({da.sizes['time']} steps) are not on the same time axis; select "
                            f"a common period first (e.g. .sel(time=slice(start, end)))")
    x = np.column_stack([np.asarray(da.values, dtype=float) for _, da in cols])
    return x, [n for n, _ in cols]


def series_from_lists(data: list[list[float]], names: list[str] | None) -> tuple[np.ndarray,
                                                                                  list[str]]:
    """(T, N) matrix from N inline series of equal length."""
    lengths = [len(s) for s in data]
    if len(set(lengths)) > 1:
        raise ToolError(f"inline series have different lengths {lengths}; give N series of "
                        f"equal length (one list per variable)")
    names = names or [f"X{i}" for i in range(len(data))]
    return np.asarray(data, dtype=float).T, list(names)
