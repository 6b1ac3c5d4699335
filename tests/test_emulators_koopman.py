"""Koopman autoencoder emulators and multi-step (rollout) training."""

import pytest
import torch

from climcopilot.tools.base import ToolContext, ToolError
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.simulate import simulate_states
from climcopilot.tools.emulators.systems import cpu_threads
from climcopilot.tools.emulators.tools import train
from climcopilot.tools.emulators.training import Emulator, load_emulator, train_emulator

CONFIG = {"width": 16, "layers": 2, "latent": 8, "tau": 0.05, "dt": 0.05, "system": "lorenz96",
          "system_params": {"N": 12, "F": 8.0}, "system_description": "lorenz96(N=12, F=8.0)",
          "dim": 12, "state_mean": 2.0, "state_std": 3.5, "increment_std": 0.4}


def test_koopman_latent_dynamics_are_linear():
    """decode(K^k encode(x)) from the rollout equals the same thing through K's eigenvalues,
    V diag(lambda^k) V^-1: the latent dynamics are exactly linear."""
    torch.manual_seed(0)
    emulator = Emulator({**CONFIG, "kind": "koopman"}).eval()
    with torch.no_grad():  # a K with rotations and growth/decay, not the identity
        emulator.net.K.weight.add_(0.1 * torch.randn_like(emulator.net.K.weight))
    x = 2.0 + 3.5 * torch.randn(5, 12, dtype=torch.float64)
    k = 7
    rolled = emulator.rollout(x, k)[k]
    net = emulator.net
    with torch.no_grad():
        z = net.encode(emulator.normalise(x.float())).double()
        eigenvalues, vectors = torch.linalg.eig(net.K.weight.double())
        # K acts on row vectors as z K^T, so z_k^T = V diag(lambda^k) V^-1 z^T
        zk = (vectors @ torch.diag(eigenvalues**k) @ torch.linalg.inv(vectors)
              @ z.T.to(vectors.dtype)).T.real
        expected = emulator.denormalise(net.decode(zk.float())).double()
    torch.testing.assert_close(rolled, expected, rtol=1e-4, atol=1e-4)


def test_rollout_loss_is_the_mean_autoregressive_error():
    """The k-step training loss equals the k-step forecast error of emulator.rollout."""
    torch.manual_seed(1)
    for kind in ("cnn", "koopman"):
        emulator = Emulator({**CONFIG, "kind": kind}).eval()
        windows = 2.0 + 3.5 * torch.randn(6, 4, 12)
        with torch.no_grad():
            _, prediction = emulator.window_loss(windows)
            forecast = emulator.rollout(windows[:, 0].double(), 3)[1:]  # (3, 6, 12)
        errors = (forecast - windows.transpose(0, 1)[1:].double()) / 0.4
        assert float(prediction) == pytest.approx(float(errors.pow(2).mean()), rel=1e-4)


def test_koopman_tool_trains_saves_and_reloads(tmp_path):
    ctx = ToolContext(workspace=tmp_path)
    trained = train.run({"system": "lorenz96", "N": 12, "duration": 30, "members": 2,
                         "kind": "koopman", "width": 16, "layers": 1, "latent": 8,
                         "rollout_steps": 3, "epochs": 3, "handle": "kae"}, ctx)
    assert trained.config["kind"] == "koopman" and trained.config["rollout_steps"] == 3
    assert len(trained.val_loss) == 3 and trained.val_loss[-1] < trained.val_loss[0]
    reloaded = load_emulator(tmp_path / "models" / "kae.pt")
    x = 2.0 + 3.5 * torch.randn(4, 12, dtype=torch.float64)
    torch.testing.assert_close(reloaded.rollout(x, 5), ctx.store["kae"].rollout(x, 5))
    with pytest.raises(ToolError, match="rollout_steps=40.*simulate longer"):
        train.run({"system": "lorenz96", "N": 12, "duration": 3, "members": 1,
                   "rollout_steps": 40, "epochs": 1}, ctx)


@pytest.mark.slow
def test_rollout_training_lowers_the_multi_step_error():
    """Same data and epochs: a ring CNN trained on 4-step rollouts forecasts 10 steps (0.5 MTU)
    of Lorenz-96 better than one trained one step ahead."""
    system = get_system("lorenz96", N=40)
    with cpu_threads(1):
        states = simulate_states(system, dt=0.05, duration=100, spinup=10, members=4, seed=0)
        test = simulate_states(system, dt=0.05, duration=20, spinup=10, members=8, seed=5)
        config = {**CONFIG, "kind": "cnn", "width": 32, "layers": 3,
                  "system_params": {"N": 40, "F": 8.0}}
        errors = {}
        for steps in (1, 4):
            emulator, _ = train_emulator(states, config, epochs=8, batch_size=128, lr=3e-3,
                                         patience=5, val_fraction=0.2, rollout_steps=steps)
            starts = test[:, :-10].reshape(-1, 40)
            truth = test[:, 10:].reshape(-1, 40)
            errors[steps] = float((emulator.rollout(starts, 10)[-1] - truth).pow(2).mean())
    assert errors[4] < errors[1]
