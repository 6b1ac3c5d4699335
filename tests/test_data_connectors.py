"""Remote-data connectors, offline: fakes stand in for the client packages (cdsapi,
intake-esm's catalog opener, huggingface_hub); missing packages, credentials or network give
one clear line."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.data import connectors
from climcopilot.tools.data.access import open_field
from climcopilot.tools.data.catalog import registered_entries


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ToolContext:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CDSAPI_KEY", raising=False)
    return ToolContext(workspace=tmp_path / "ws")


def era5_like() -> xr.Dataset:
    time = pd.date_range("2000-01-01", periods=12, freq="MS")
    return xr.Dataset({"t2m": (("time", "latitude", "longitude"),
                               np.full((12, 2, 3), 288.0, "f4"), {"units": "K"})},
                      coords={"time": time, "latitude": [10.0, 0.0],
                              "longitude": [0.0, 0.25, 0.5]})


def fake_cdsapi(requests: list, fail: Exception | None = None) -> types.ModuleType:
    module = types.ModuleType("cdsapi")

    class Client:
        def __init__(self, **kwargs):
            pass

        def retrieve(self, name: str, request: dict, target: str) -> None:
            requests.append((name, request))
            if fail:
                Path(target).write_bytes(b"partial")
                raise fail
            era5_like().to_netcdf(target)

    module.Client = Client
    return module


def test_era5_without_package_or_credentials(ctx: ToolContext,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cdsapi", None)  # import fails
    args = {"variable": "2m_temperature", "years": [2000]}
    with pytest.raises(ToolError, match=r"cdsapi is not installed; `pip install cdsapi`"):
        connectors.fetch_era5.run(args, ctx)
    monkeypatch.setitem(sys.modules, "cdsapi", fake_cdsapi([]))
    with pytest.raises(ToolError, match="no CDS credentials"):
        connectors.fetch_era5.run(args, ctx)


def test_era5_download_registers_and_opens(ctx: ToolContext,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    requests: list = []
    monkeypatch.setitem(sys.modules, "cdsapi", fake_cdsapi(requests))
    monkeypatch.setenv("CDSAPI_KEY", "fake")
    result = connectors.fetch_era5.run({"variable": "2m_temperature", "years": [2000],
                                        "area": [10, 0, 0, 1], "name": "era5_t2m"}, ctx)
    name, request = requests[0]
    assert name == "reanalysis-era5-single-levels-monthly-means"
    assert request["year"] == ["2000"] and len(request["month"]) == 12
    assert result.entry.variables == {"t2m": "K"} and "Copernicus" in result.entry.license
    opened = open_field.run({"dataset": "era5_t2m", "handle": "t2m"}, ctx)
    assert opened.dims == {"time": 12, "lat": 2, "lon": 3}


def test_era5_without_network_leaves_no_partial_file(ctx: ToolContext,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    monkeypatch.setitem(sys.modules, "cdsapi", fake_cdsapi(
        [], fail=requests.exceptions.ConnectionError("Name or service not known")))
    monkeypatch.setenv("CDSAPI_KEY", "fake")
    with pytest.raises(ToolError, match="cannot reach the Copernicus Climate Data Store"):
        connectors.fetch_era5.run({"variable": "2m_temperature", "years": [2000]}, ctx)
    assert not list((ctx.workspace / "downloads").glob("*"))
    assert registered_entries(ctx.workspace) == []


def test_cmip6_cloud_through_a_fake_catalog(ctx: ToolContext,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import intake

    seen = {}

    class FakeStore:
        def search(self, **query):
            seen.update(query)
            return self

        def to_dataset_dict(self, **kwargs):
            ds = era5_like().rename(t2m="tas").chunk()
            return {"CMIP.NCAR.CESM2.historical.Amon.gn": ds}

    monkeypatch.setattr(intake, "open_esm_datastore", lambda url: FakeStore())
    result = connectors.open_cmip6_cloud.run({"source_id": "CESM2", "start": "2000-06"}, ctx)
    assert seen["source_id"] == "CESM2" and seen["variable_id"] == "tas"
    assert result.dims == {"time": 7, "lat": 2, "lon": 3}
    assert ctx.store["cmip6_cloud"].chunks is not None

    def offline(url):
        raise OSError("ClientConnectorError: cannot connect") from ConnectionError()

    monkeypatch.setattr(intake, "open_esm_datastore", offline)
    with pytest.raises(ToolError, match="cannot reach the CMIP6 cloud catalog"):
        connectors.open_cmip6_cloud.run({"source_id": "CESM2", "handle": "y"}, ctx)
    assert "y" not in ctx.store


def test_hugging_face_file_fake_and_offline(ctx: ToolContext,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub
    from huggingface_hub.errors import OfflineModeIsEnabled

    def download(repo_id, filename, repo_type, revision, local_dir):
        assert repo_type == "dataset" and repo_id == "LEAP/ClimSim_low-res"
        path = Path(local_dir) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        era5_like().to_netcdf(path)
        return str(path)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    result = connectors.fetch_hf_file.run({"filename": "train/x.nc"}, ctx)
    assert result.entry.key == "climsim" and "CC BY 4.0" in result.entry.license

    def refuse(**kwargs):
        raise OfflineModeIsEnabled("HF_HUB_OFFLINE is set")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", refuse)
    with pytest.raises(ToolError, match=r"cannot reach Hugging Face"):
        connectors.fetch_hf_file.run({"filename": "train/y.nc", "name": "other"}, ctx)
