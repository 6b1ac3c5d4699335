"""Sweeps of twin experiments (methods x N x inflation x seeds) on a Dask cluster.

Each twin experiment is one Dask task; if a worker dies mid-sweep the scheduler reruns its
tasks elsewhere (runs are seeded, so a rerun gives the same row).
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
from distributed import Client

from climcopilot.tools.base import ToolError
from climcopilot.tools.cluster import dask_client
from climcopilot.tools.da.inputs import (
    ENSEMBLE_METHODS,
    INFLATED_METHODS,
    ROTATED_METHODS,
    ExperimentInput,
    SweepInput,
    TwinInput,
)
from climcopilot.tools.da.twin import run_twin

# diverged: the run blew up or has no skill (TwinOutcome.diverged)
ROW_COLUMNS = ("method", "N", "infl", "seed", "rmse_a", "rmse_f", "spread_a", "wall_s",
               "diverged")


def sweep_grid(args: SweepInput) -> list[TwinInput]:
    """One TwinInput per run; methods without an ensemble run once per seed.

    ``rot`` applies to etkf/letkf only and ``infl`` to the ensemble Kalman filters only.
    """
    if any(n < 2 for n in args.Ns) or any(not f > 0 for f in args.infls):
        raise ToolError(f"Ns must all be >= 2 and infls all > 0; got Ns={args.Ns}, "
                        f"infls={args.infls}")
    common = args.model_dump(include=set(ExperimentInput.model_fields))
    runs = []
    for method in dict.fromkeys(args.methods):
        Ns = args.Ns if method in ENSEMBLE_METHODS else [2]
        infls = args.infls if method in INFLATED_METHODS else [1.0]
        rot = args.rot and method in ROTATED_METHODS
        for N, infl, seed in itertools.product(Ns, infls, args.seeds):
            runs.append(TwinInput(**{**common, "rot": rot}, method=method, N=N, infl=infl,
                                  seed=seed, device="cpu"))
    return runs


def twin_row(args: TwinInput) -> dict[str, Any]:
    """Run one twin experiment and return its row of the sweep table."""
    outcome = run_twin(args)
    return {"method": args.method, "N": args.N if args.method in ENSEMBLE_METHODS else None,
            "infl": args.infl if args.method in INFLATED_METHODS else None, "seed": args.seed,
            "rmse_a": outcome.rmse_a, "rmse_f": outcome.rmse_f, "spread_a": outcome.spread_a,
            "wall_s": outcome.wall_s, "diverged": outcome.diverged}


def run_sweep(args: SweepInput, client: Client | None = None) -> pd.DataFrame:
    """All runs of the grid as a tidy table (one row per run, columns ``ROW_COLUMNS``)."""
    grid = sweep_grid(args)
    if client is None:
        with dask_client(args.address, args.n_workers) as own_client:
            return run_sweep(args, own_client)
    futures = client.map(twin_row, grid, pure=False)
    table = pd.DataFrame(client.gather(futures), columns=list(ROW_COLUMNS))
    return table.astype({"N": "Int64"})
