"""Figures of discovery results: the process graph, and maps of precursor lags."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tigramite import plotting as tp  # noqa: E402

from climcopilot.tools.causal.graph import LaggedGraph  # noqa: E402


def plot_graph(graph: LaggedGraph, path: Path, title: str, value_label: str) -> Path:
    """Process graph: nodes = series, arrows = significant links labelled with their lags."""
    marks = graph.kind if graph.kind is not None else np.where(graph.significant, "-->", "")
    marks = np.asarray(marks, dtype="<U3").copy()
    for i, j, tau in zip(*np.nonzero(marks == "-->"), strict=True):
        if tau == 0:
            marks[j, i, 0] = "<--"
    val = np.nan_to_num(graph.value)
    vmax = max(np.ceil(10 * float(np.abs(val[graph.significant]).max(initial=0.0))) / 10, 0.1)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    tp.plot_graph(graph=marks, val_matrix=val, var_names=graph.names, fig_ax=(fig, ax),
                  link_colorbar_label=value_label, node_colorbar_label=f"auto {value_label}",
                  vmin_edges=-vmax, vmax_edges=vmax, vmin_nodes=-vmax, vmax_nodes=vmax,
                  edge_ticks=vmax / 2, node_ticks=vmax / 2, show_autodependency_lags=False)
    fig.suptitle(title)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_precursor_map(field, precursors: list, patterns, path: Path, title: str) -> Path:
    """Map of precursor regions coloured by link strength and labelled with their lead.

    ``precursors`` carry lat/lon bounds, lag and value; with EOF ``patterns`` (component, lat,
    lon) the strongest precursor's pattern is drawn underneath.
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    lon, lat = field["lon"].values, field["lat"].values
    if patterns is not None and precursors:
        pat = patterns.sel(component=precursors[0].component)
        vmax = float(np.nanmax(np.abs(pat)))
        mesh = ax.pcolormesh(lon, lat, pat.values, cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                             shading="nearest")
        fig.colorbar(mesh, ax=ax, label=f"{precursors[0].component} loading (field units)")
    else:
        mesh = ax.pcolormesh(lon, lat, field.std("time").values, cmap="Greys",
                             shading="nearest", alpha=0.4)
        fig.colorbar(mesh, ax=ax, label="standard deviation (field units)")
    cmap = plt.get_cmap("RdBu_r")
    for p in precursors:
        colour = cmap(0.5 + 0.5 * np.clip(p.value, -1, 1))
        ax.add_patch(plt.Rectangle((p.lon_min, p.lat_min), p.lon_max - p.lon_min,
                                   p.lat_max - p.lat_min, facecolor=colour, alpha=0.6,
                                   edgecolor="k"))
        ax.text((p.lon_min + p.lon_max) / 2, (p.lat_min + p.lat_max) / 2,
                f"{p.component}\nlead {p.lag}\nr={p.value:+.2f}", ha="center", va="center",
                fontsize=8)
    if not precursors:
        ax.text(0.5, 0.5, "no significant precursor", transform=ax.transAxes, ha="center")
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    ax.set_title(title)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
