"""Taylor (2001) diagrams: standard deviation (radius) and correlation (angle) of candidates
against a reference, with centred-RMS-difference arcs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from climcopilot.tools.base import ToolContext
from climcopilot.tools.viz.figures import save_figure


def taylor_figure(ctx: ToolContext, stats: Mapping, title: str, units: str) -> str:
    """Save a Taylor diagram of ``stats`` ({name: FieldStats}) and return its path."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 6))
    ax = fig.add_subplot(projection="polar")
    ref = next(iter(stats.values())).std_reference
    radius = 1.5 * max([ref, *(s.std_candidate for s in stats.values())])
    ax.set_thetalim(0, np.pi / 2)
    ax.set_rlim(0, radius)
    ticks = np.array([0, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99, 1.0])
    ax.set_xticks(np.arccos(ticks), [f"{t:g}" for t in ticks])
    ax.text(np.pi / 4 + 0.05, radius * 1.12, "correlation", rotation=-45, ha="center")
    ax.set_ylabel(f"standard deviation ({units})", labelpad=24)
    theta = np.linspace(0, np.pi / 2, 100)
    for level in np.linspace(0.25, 1.5, 6) * ref:  # centred RMS difference arcs
        x, y = ref + level * np.cos(np.linspace(0, np.pi, 100)), level * np.sin(
            np.linspace(0, np.pi, 100))
        r, th = np.hypot(x, y), np.arctan2(y, x)
        keep = r <= radius
        ax.plot(th[keep], r[keep], color="0.8", lw=0.6)
    ax.plot(theta, np.full_like(theta, ref), "k--", lw=0.7)
    ax.plot([0], [ref], "k*", ms=12, label="reference")
    for i, (name, s) in enumerate(stats.items()):
        ax.plot(np.arccos(np.clip(s.correlation, 0, 1)), s.std_candidate, ls="none",
                color=f"C{i % 10}", marker="osD^v<>p"[i // 10 % 8], ms=5, label=name)
    ax.legend(fontsize=5.5, ncol=2, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    ax.set_title(f"Taylor diagram: {title}", fontsize=10)
    return save_figure(fig, ctx.figure_path("taylor"))
