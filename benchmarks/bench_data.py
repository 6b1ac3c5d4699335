"""Data figures: catalog search time, composed series pipelines, and opening + reducing the
full CMIP6 sample.

Run: `.venv/bin/python benchmarks/bench_data.py`. Prints a markdown table.

- search: building the catalog (first call in a new process: bundled series, eofs fields,
  the 46-model CMIP6 sample) and the median of 200 searches once built.
- pipelines (median of 5 in one process, after one warm-up): season means of a monthly index
  over its whole record (Nino-3 NDJFM, 1596 months), the chain open -> subset (period,
  JJAS means) -> detrend -> describe -> extremes -> line plot, and the spectrum of the EPICA
  CO2 record (1901 uneven samples interpolated to an even age grid).
- open + reduce: every file of the CMIP6 sample (326 files; tables Amon and day, 46 models)
  opened through intake-esm (each model's files joined along time) and reduced to
  area-weighted (cos latitude) annual means per model and level. "cold" is a new process
  with a new workspace (imports, collection JSON, first reads); "warm" repeats it in the
  same process. The OS page cache is not dropped (that needs root), so "cold" means a cold
  Python process, not cold disks.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

QUERIES = [{"query": "Pacific winter SST"}, {"query": "Mauna Loa"},
           {"variable": "ta", "start": 1950, "end": 2014, "region": "arctic"},
           {"query": "temperature", "region": "global"}]


def search_figures() -> dict[str, float]:
    from climcopilot.tools.data.catalog import builtin_entries, search

    started = time.perf_counter()
    entries = list(builtin_entries())
    build = time.perf_counter() - started
    times = []
    for i in range(200):
        q = QUERIES[i % len(QUERIES)]
        t0 = time.perf_counter()
        search(entries, **q)
        times.append(time.perf_counter() - t0)
    return {"entries": len(entries), "build_s": build,
            "search_ms": 1000 * statistics.median(times)}


PIPELINES = {
    "NDJFM means of Nino-3 (whole record)": [
        ("data.open_series", {"name": "nino3"}),
        ("analysis.subset", {"handle": "nino3", "season": "NDJFM", "seasonal_mean": True})],
    "open -> JJAS means 1951-2000 -> detrend -> describe -> extremes -> line plot": [
        ("data.open_series", {"name": "air"}),
        ("analysis.subset", {"handle": "air", "start": 1951, "end": 2000, "season": "JJAS",
                             "seasonal_mean": True, "out": "m"}),
        ("analysis.detrend", {"handle": "m"}), ("analysis.describe", {"handle": "m_detrended"}),
        ("analysis.extremes", {"handle": "m_detrended"}),
        ("viz.line_plot", {"handles": ["m_detrended"]})],
    "EPICA CO2 spectrum (even age grid)": [
        ("data.open_series", {"name": "epica_co2"}),
        ("analysis.spectrum", {"handle": "epica_co2", "min_period": 5})],
}


def pipeline_figures() -> dict[str, float]:
    """Median milliseconds of each pipeline in :data:`PIPELINES` (5 runs after a warm-up)."""
    from climcopilot.tools.base import ToolContext
    from climcopilot.tools.registry import get_tool

    out = {}
    with tempfile.TemporaryDirectory() as ws:
        for label, steps in PIPELINES.items():
            times = []
            for _ in range(6):
                ctx = ToolContext(workspace=Path(ws))
                t0 = time.perf_counter()
                for name, args in steps:
                    get_tool(name).run(args, ctx)
                times.append(time.perf_counter() - t0)
            out[label] = 1000 * statistics.median(times[1:])
    return out


def open_and_reduce(workspace: Path) -> dict[str, float]:
    """Open every model of both tables and reduce to area-weighted annual means."""
    from climcopilot.tools.data.cmip6 import open_models, sample_collection
    from climcopilot.tools.data.opening import normalise
    from climcopilot.tools.datamodel.regions import area_mean
    from climcopilot.tools.datamodel.timeaxis import annual_means

    started = time.perf_counter()
    collection = sample_collection(workspace)
    models = values = 0
    for table in ("Amon", "day"):
        for ds in open_models(collection, table, "ta").values():
            series = annual_means(area_mean(normalise(ds)["ta"].load()))
            models += 1
            values += int(series.size)
    files = len(pd.read_csv(collection.with_suffix(".csv")))
    return {"seconds": time.perf_counter() - started, "datasets": models, "files": files,
            "annual_values": values}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        with tempfile.TemporaryDirectory() as ws:
            cold = open_and_reduce(Path(ws))
            warm = open_and_reduce(Path(ws))
        print(json.dumps({"cold": cold, "warm": warm}))
        return
    search = search_figures()
    pipelines = pipeline_figures()
    proc = subprocess.run([sys.executable, __file__, "--child"], capture_output=True,
                          text=True, check=True)
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| catalog entries | {search['entries']} |")
    print(f"| build catalog (first call, new process) | {search['build_s']:.2f} s |")
    print(f"| one search (median of 200) | {search['search_ms']:.2f} ms |")
    for label, ms in pipelines.items():
        print(f"| {label} (median of 5) | {ms:.0f} ms |")
    cold, warm = runs["cold"], runs["warm"]
    print(f"| open + reduce full CMIP6 sample, cold ({cold['files']} files, "
          f"{cold['datasets']} model-tables, {cold['annual_values']} annual means) | "
          f"{cold['seconds']:.1f} s |")
    print(f"| same, warm (same process) | {warm['seconds']:.1f} s |")


if __name__ == "__main__":
    main()
