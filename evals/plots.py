"""Plots of evaluation reports (PNG): pass rates per family and level, and the passes' steps
and wall time task by task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)


def plot_pass_rates(runs: list[tuple[str, dict[str, Any]]], path: Path) -> Path:
    """Pass rate per family and per level: one bar per pass of each (label, report)."""
    bars = [(f"{name}, pass {n}" if len(report["passes"]) > 1 else name, one["summary"])
            for name, report in runs for n, one in enumerate(report["passes"], start=1)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, group in zip(axes, ("by_family", "by_level")):
        keys = sorted({k for _, s in bars for k in s[group]})
        width = 0.8 / len(bars)
        for i, (name, summary) in enumerate(bars):
            rates = [summary[group].get(k, {}).get("pass_rate", 0.0) for k in keys]
            ax.bar([x + i * width for x in range(len(keys))], rates, width, label=name)
        names = [f"level {k}" for k in keys] if group == "by_level" else keys
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(keys))], names)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("pass rate")
        ax.set_title("per " + group.removeprefix("by_"))
    axes[0].legend(fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_passes(report: dict[str, Any], path: Path) -> Path:
    """Steps and wall time (s) of every task, first pass against last pass."""
    passes = [report["passes"][0]] + report["passes"][1:][-1:]
    tasks = [r["task_id"] for r in passes[0]["runs"]]
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 0.45 * len(tasks)), 7),
                             constrained_layout=True, sharex=True)
    width = 0.8 / len(passes)
    for ax, metric, unit in zip(axes, ("steps", "wall_s"), ("steps", "wall time (s)")):
        for i, one in enumerate(passes):
            values = {r["task_id"]: r[metric] for r in one["runs"]}
            name = "first pass" if i == 0 else "last pass"
            ax.bar([x + i * width for x in range(len(tasks))],
                   [values.get(t, 0) for t in tasks], width, label=name)
        ax.set_ylabel(unit)
    axes[0].legend(fontsize="small")
    axes[1].set_xticks([x + 0.4 - width / 2 for x in range(len(tasks))], tasks, rotation=70,
                       ha="right", fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
