"""Saving figures with their label text: every title, axis label, legend entry and colour-bar
label of a figure is written into the PNG's metadata (``Title`` and ``Description``), so a
reader, a test or the answer can state the settings a figure shows without parsing pixels."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure


def label_text(fig: Figure) -> list[str]:
    """Every non-empty text label of ``fig``: suptitle, then per axes its title, x and y
    labels and legend entries, then figure legends."""
    texts = [fig.get_suptitle()]
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
    for legend in fig.legends:
        texts += [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t]


def save_figure(fig: Figure, path: Path, dpi: int = 110) -> str:
    """Save ``fig`` as PNG at ``path`` with its labels in the metadata; returns the path."""
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    fig.savefig(path, dpi=dpi, bbox_inches="tight",
                metadata={"Title": titles[0] if titles else "",
                          "Description": " | ".join(label_text(fig))})
    return str(path)
