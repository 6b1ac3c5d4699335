"""What leads one index? PCMCI over the index and candidate series on their common period."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from climcopilot.tools.analysis.series import align_all
from climcopilot.tools.base import ToolError
from climcopilot.tools.causal.graph import LaggedGraph, Link
from climcopilot.tools.causal.pcmci import run_pcmci
from climcopilot.tools.causal.series_table import check_series


@dataclass
class DriverSearch:
    """PCMCI over a target and its candidates, and the links into the target."""

    graph: LaggedGraph
    target: str
    drivers: list[Link]  # links into the target from other series, strongest first
    left_out: list[str]  # candidates dropped as near-duplicates, with the reason
    frequency: str
    start: str
    end: str
    n_time: int  # common time steps


def anomalies(da: xr.DataArray, frequency: str) -> np.ndarray:
    """Residual of a least-squares fit of a linear trend plus (monthly data) one mean per
    calendar month: the anomaly with seasonal cycle and trend removed together."""
    y = np.asarray(da.values, dtype=float)
    t = np.arange(y.size, dtype=float) / max(y.size - 1, 1)
    if frequency == "monthly":
        months = pd.DatetimeIndex(da["time"].values).month.to_numpy()
        design = np.column_stack([t, months[:, None] == np.arange(1, 13)]).astype(float)
    else:
        design = np.column_stack([t, np.ones_like(t)])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ coef


def drop_near_duplicates(x: np.ndarray, names: list[str], max_abs_corr: float
                         ) -> tuple[list[int], list[str]]:
    """Columns to keep, and why the others go: column 0 (the target) stays; each later column
    stays unless its lag-0 |r| with a kept column exceeds ``max_abs_corr``.

    Near-duplicates (Nino-3.4 and the ONI, r ~ 0.97) share their information, so conditioning
    one on the other leaves neither a detectable link.
    """
    r = np.corrcoef(x, rowvar=False)
    keep, reasons = [0], []
    for j in range(1, x.shape[1]):
        twin = next((k for k in keep if abs(r[j, k]) > max_abs_corr), None)
        if twin is None:
            keep.append(j)
        else:
            reasons.append(f"{names[j]} (|r| = {abs(r[j, twin]):.2f} with {names[twin]})")
    return keep, reasons


def find_drivers(target: xr.DataArray, candidates: list[xr.DataArray], names: list[str],
                 tau_max: int = 6, alpha: float = 0.05, max_abs_corr: float = 0.8
                 ) -> DriverSearch:
    """Which of ``candidates`` lead ``target``, and at which lag (steps of the common frequency).

    ``names`` names the target first, then the candidates. All series go on their coarsest
    common frequency and overlap; each becomes an anomaly (calendar-month means and linear
    trend removed, :func:`anomalies`); near-duplicates are dropped
    (:func:`drop_near_duplicates`); PCMCI (ParCorr, pc_alpha 0.05, FDR) runs on the rest.
    """
    aligned, freq = align_all([target, *candidates])
    x = np.column_stack([anomalies(da, freq) for da in aligned])
    keep, left_out = drop_near_duplicates(x, names, max_abs_corr)
    if len(keep) < 2:
        raise ToolError(f"every candidate duplicates {names[0]}: {'; '.join(left_out)}; name "
                        f"other candidates or raise max_abs_corr")
    kept = [names[k] for k in keep]
    x = check_series(x[:, keep], kept, tau_max)
    graph = run_pcmci(x, kept, tau_max=tau_max, alpha=alpha, pc_alpha=0.05)
    drivers = [lk for lk in graph.links() if lk.target == names[0] and lk.source != names[0]]
    t = pd.DatetimeIndex(aligned[0]["time"].values)
    return DriverSearch(graph=graph, target=names[0], drivers=drivers, left_out=left_out,
                        frequency=freq, start=f"{t[0]:%Y-%m}", end=f"{t[-1]:%Y-%m}",
                        n_time=len(t))
