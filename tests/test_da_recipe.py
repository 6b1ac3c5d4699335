"""The offline brain's data-assimilation walkthrough, end to end (a sweep on Dask)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

QUESTION = ("Which of 3D-Var, EnKF and LETKF gives the lowest analysis error on Lorenz-96 with "
            "40 variables, all observed every step?")


@pytest.mark.slow
def test_da_comparison_recipe_matches_sakov_oke(home: Path) -> None:
    proc = run_cli("ask", "--json", "--brain", "offline", QUESTION, timeout=900)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    values = out["values"]
    # Published (Sakov & Oke 2008, as tabulated by DAPPER): stochastic EnKF N=40 about 0.22,
    # 3D-Var with xB = 0.02 about 0.41; the LETKF beats both.
    assert abs(values["rmse_a_enkf"] - 0.22) <= 0.04
    assert abs(values["rmse_a_3dvar"] - 0.41) <= 0.05
    assert values["rmse_a_letkf"] < values["rmse_a_enkf"] < values["rmse_a_3dvar"]
    assert "**letkf**" in out["answer"] and Path(out["figures"][0]).exists()
