"""Emulators: training, skill against persistence and climatology, model files, bad input."""

import math

import pytest
import torch

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.evaluation import anomaly_correlation, first_exceedance
from climcopilot.tools.emulators.networks import RingCNN
from climcopilot.tools.emulators.tools import evaluate, simulate, train
from climcopilot.tools.emulators.training import load_emulator

TINY = {"system": "lorenz96", "N": 12, "duration": 50, "members": 2, "epochs": 4, "width": 8,
        "batch_size": 32,
        "layers": 2, "handle": "tiny"}


def test_ring_cnn_is_translation_equivariant():
    net = RingCNN(channels=4, layers=2)
    x = torch.randn(3, 10)
    torch.testing.assert_close(net(x.roll(3, -1)), net(x).roll(3, -1))


def test_scores_are_what_they_say():
    leads = torch.tensor([0.0, 0.1, 0.2, 0.3], dtype=torch.float64)
    assert first_exceedance(torch.tensor([0.0, 0.2, 0.6, 0.9]), leads, 0.5) == 0.2
    assert first_exceedance(torch.tensor([0.0, 0.1, 0.2, 0.3]), leads, 0.5) == math.inf
    truth = torch.randn(2, 5, 8, dtype=torch.float64)
    ones = torch.ones(2, dtype=torch.float64)
    assert torch.allclose(anomaly_correlation(truth, truth, 0.0), ones)
    assert torch.allclose(anomaly_correlation(-truth, truth, 0.0), -ones)


def test_tiny_emulator_beats_persistence_and_is_saved(tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    trained = train.run(TINY, ctx)
    assert trained.handles == ["tiny"] and (tmp_path / "models" / "tiny.pt").exists()
    assert len(trained.val_loss) == 4 and trained.values["val_loss"] < 0.1
    reloaded = load_emulator(tmp_path / "models" / "tiny.pt")
    x = torch.randn(4, 12, dtype=torch.float64)
    torch.testing.assert_close(reloaded.step(x), ctx.store["tiny"].step(x))
    scored = evaluate.run({"model": "tiny", "lead_time": 0.5, "n_starts": 20,
                           "climate_duration": 2}, ctx)
    assert scored.rmse[0] == 0.0
    assert scored.rmse[1] < scored.rmse_persistence[1]  # lead 1 = 0.05 MTU
    assert scored.rmse[1] < scored.rmse_climatology[1]
    assert scored.figures and scored.values["lyapunov_time"] > 0


def test_training_on_a_simulated_dataset(tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    simulate.run({"system": "lorenz63", "duration": 20, "members": 2, "handle": "l63"}, ctx)
    trained = train.run({"dataset": "l63", "kind": "mlp", "width": 16, "layers": 1,
                         "epochs": 2, "handle": "m"}, ctx)
    assert trained.config["system"] == "lorenz63" and trained.config["tau"] == 0.01


def test_bad_inputs_say_what_is_wrong(tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    train.run(TINY, ctx)
    with pytest.raises(ToolError, match="trained on states of size 12"):
        evaluate.run({"model": "tiny", "system_params": {"N": 40}}, ctx)
    with pytest.raises(ToolError, match="size 12.*got size 5"):
        ctx.store["tiny"].step(torch.zeros(5))
    with pytest.raises(ToolError, match="cnn.*use kind 'mlp'"):
        train.run({"system": "lorenz63"}, ctx)
    with pytest.raises(ToolError, match="no object named 'nope'"):
        evaluate.run({"model": "nope"}, ctx)
    with pytest.raises(ToolError, match="blew up"):
        train.run({**TINY, "dt": 1.0}, ctx)


@pytest.mark.slow
def test_lorenz96_emulator_must_show(tmp_path):
    """N=40, F=8: beats persistence and climatology at every lead up to 1 Lyapunov time, with
    training under 5 minutes on 2 CPU cores."""
    ctx = ToolContext(workspace=tmp_path)
    trained = train.run({"system": "lorenz96", "N": 40, "F": 8}, ctx)
    assert trained.values["wall_s"] < 300
    scored = evaluate.run({"model": "emulator"}, ctx)
    checks = {c.name: c.passed for c in scored.checks}
    assert checks["beats_persistence"] and checks["beats_climatology"], scored.checks
    assert scored.values["valid_time_lyapunov"] > 1.0
    # the Lyapunov time found on the way agrees with the published 1 / 1.67 MTU
    assert scored.values["lyapunov_time"] == pytest.approx(1 / 1.67, rel=0.1)
