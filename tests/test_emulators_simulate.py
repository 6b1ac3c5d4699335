"""emulators.simulate: a CF-style Dataset in the session, a figure, clear errors."""

import pytest
import torch

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.simulate import dataset_to_states
from climcopilot.tools.emulators.tools import simulate


@pytest.mark.parametrize("system, variables", [("lorenz96", ["x"]), ("lorenz63", ["x", "y", "z"]),
                                               ("lorenz96_two_scale", ["X", "Y"]),
                                               ("kuramoto_sivashinsky", ["u"]),
                                               ("kolmogorov", ["vorticity"])])
def test_simulate_leaves_a_dataset(tmp_path, system, variables):
    ctx = ToolContext(workspace=tmp_path)
    result = simulate.run({"system": system, "duration": 1.0, "spinup": 0.5, "every": 2,
                           "members": 3, "handle": "run"}, ctx)
    ds = ctx.store["run"]
    assert result.ok and result.handles == ["run"] and list(ds.data_vars) == variables
    assert ds.sizes["member"] == 3 and ds.attrs["Conventions"].startswith("CF")
    assert ds["time"].attrs["units"] == "MTU" and ds[variables[0]].attrs["units"] == "1"
    step = ds.attrs["dt"] * 2
    assert float(ds["time"][1] - ds["time"][0]) == pytest.approx(step)
    assert ds.sizes["time"] == round(1.0 / step) + 1
    states = dataset_to_states(ds)
    assert states.shape[-1] == {"lorenz96": 40, "lorenz63": 3, "lorenz96_two_scale": 264,
                                "kuramoto_sivashinsky": 64, "kolmogorov": 64 * 64}[system]
    assert bool(torch.isfinite(states).all())
    assert (tmp_path / "figures").glob("*.png")


def test_lorenz96_climate_is_the_published_one(tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    result = simulate.run({"system": "lorenz96", "duration": 100, "members": 4}, ctx)
    # Lorenz & Emanuel (1998), F = 8: mean 2.3, standard deviation 3.6
    assert result.values["mean"] == pytest.approx(2.3, abs=0.15)
    assert result.values["std"] == pytest.approx(3.6, abs=0.2)


def test_unstable_step_is_reported(tmp_path):
    with pytest.raises(ToolError, match="blew up.*reduce dt"):
        simulate.run({"system": "lorenz63", "dt": 0.2, "duration": 50}, ToolContext(tmp_path))
