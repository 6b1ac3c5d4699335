"""Emulators: a network on the normalised state ``s = (x - state_mean) / state_std`` that
advances it by ``tau`` MTU (the data's sampling interval).

``cnn`` / ``mlp``: ``x(t + tau) = x(t) + increment_std * net(s)``. ``koopman``: ``s(t + tau) =
decode(K encode(s))``, and k steps are ``decode(K^k encode(s))`` (linear latent dynamics).
Trained with Adam on windows of ``rollout_steps + 1`` consecutive states: the prediction loss
is the mean squared error of the autoregressive forecast over those steps, divided by
``increment_std`` (for one step and cnn/mlp: the MSE of the normalised increment); koopman adds
the reconstruction error (same units) and the latent prediction error ``|K^j z - encode(s_j)|^2``.
The validation set is the last part of every trajectory in time; early stopping on the
validation prediction loss keeps the best epoch. Float32 inside the network, float64 states
outside.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators.networks import KoopmanAutoencoder, build_network


class Emulator(nn.Module):
    """A trained network with its normalisation and config (system, sampling interval, sizes)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = config
        self.net = build_network(config["kind"], config["dim"], config["width"],
                                 config["layers"], latent=config.get("latent", 32))
        for name in ("state_mean", "state_std", "increment_std"):
            self.register_buffer(name, torch.tensor(config[name], dtype=torch.float32))

    @property
    def dim(self) -> int:
        return int(self.config["dim"])

    @property
    def tau(self) -> float:
        """Time between input and output states (MTU)."""
        return float(self.config["tau"])

    def check_shape(self, x: Tensor) -> None:
        """ToolError unless ``x`` is (..., dim) for this emulator."""
        if x.shape[-1] != self.dim:
            raise ToolError(f"the emulator was trained on states of size {self.dim} "
                            f"({self.config['system_description']}), got size {x.shape[-1]}; "
                            "give states of the trained system or train a new emulator")

    @property
    def is_koopman(self) -> bool:
        return isinstance(self.net, KoopmanAutoencoder)

    def normalise(self, x: Tensor) -> Tensor:
        return (x - self.state_mean) / self.state_std

    def denormalise(self, s: Tensor) -> Tensor:
        return s * self.state_std + self.state_mean

    def forecast(self, x: Tensor, n_steps: int) -> list[Tensor]:
        """The autoregressive forecasts 1..n_steps from ``x`` (..., dim), float32, with the
        graph kept (for training); koopman steps in its latent space."""
        out = []
        if self.is_koopman:
            z = self.net.encode(self.normalise(x))
            for _ in range(n_steps):
                z = self.net.advance(z)
                out.append(self.denormalise(self.net.decode(z)))
            return out
        for _ in range(n_steps):
            x = x + self.net(self.normalise(x)) * self.increment_std
            out.append(x)
        return out

    def step(self, x: Tensor) -> Tensor:
        """``x`` (..., dim) advanced by ``tau`` MTU; same dtype as ``x``."""
        self.check_shape(x)
        s = self.normalise(x.to(torch.float32))
        if self.is_koopman:
            return self.denormalise(self.net(s)).to(x.dtype)
        return x + (self.net(s) * self.increment_std).to(x.dtype)

    @torch.no_grad()
    def rollout(self, x0: Tensor, n_steps: int) -> Tensor:
        """States at 0, tau, ..., n_steps tau from ``x0`` (..., dim): (n_steps + 1, ..., dim),
        the dtype of ``x0``. A koopman emulator advances its latent state (linear dynamics)."""
        self.check_shape(x0)
        if not self.is_koopman:
            out = [x0]
            for _ in range(n_steps):
                out.append(self.step(out[-1]))
            return torch.stack(out)
        steps = self.forecast(x0.to(torch.float32), n_steps)
        return torch.stack([x0, *[s.to(x0.dtype) for s in steps]])

    def window_loss(self, windows: Tensor) -> tuple[Tensor, Tensor]:
        """(training objective, prediction loss) on ``windows`` (batch, k + 1, dim), float32:
        the prediction loss is the mean over the k autoregressive steps of the squared error
        divided by ``increment_std``; koopman's objective adds reconstruction and latent terms."""
        k = windows.shape[1] - 1
        forecasts = torch.stack(self.forecast(windows[:, 0], k), 1)
        prediction = ((forecasts - windows[:, 1:]) / self.increment_std).pow(2).mean()
        if not self.is_koopman:
            return prediction, prediction
        s = self.normalise(windows)
        z = self.net.encode(s)
        scale = self.state_std / self.increment_std
        reconstruction = ((self.net.decode(z) - s) * scale).pow(2).mean()
        latent, zj = 0.0, z[:, 0]
        for j in range(1, k + 1):
            zj = self.net.advance(zj)
            latent = latent + (zj - z[:, j]).pow(2).mean() / k
        return prediction + reconstruction + latent, prediction


@dataclass
class TrainingLog:
    """Prediction loss per epoch (see :meth:`Emulator.window_loss`), the epoch kept, and the
    wall time (s)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    wall_s: float = 0.0
    stopped_early: bool = False


def split_windows(states: Tensor, val_fraction: float,
                  rollout_steps: int = 1) -> tuple[Tensor, Tensor]:
    """Windows of ``rollout_steps + 1`` consecutive states (n, rollout_steps + 1, dim) from
    ``states`` (members, time, dim), split in time: the last ``val_fraction`` of every member's
    series is validation. Returns (train, validation)."""
    n_time, length = states.shape[1], rollout_steps + 1
    cut = int(round(n_time * (1.0 - val_fraction)))
    if cut < length or n_time - cut < length:
        raise ToolError(f"need at least {length} training and {length} validation "
                        f"times for rollout_steps={rollout_steps}, got {n_time} times with "
                        f"val_fraction={val_fraction}; simulate longer")

    def windows(part: Tensor) -> Tensor:
        return part.unfold(1, length, 1).transpose(-1, -2).reshape(-1, length, part.shape[-1])

    return windows(states[:, :cut]), windows(states[:, cut:])


def train_emulator(states: Tensor, config: dict[str, Any], *, epochs: int, batch_size: int,
                   lr: float, patience: int, val_fraction: float, rollout_steps: int = 1,
                   seed: int = 0, progress: Callable[[str], None] | None = None,
                   time_limit_s: float = math.inf) -> tuple[Emulator, TrainingLog]:
    """Fit an :class:`Emulator` to ``states`` (members, time, dim) sampled every ``tau`` MTU.

    ``config`` holds kind, width, layers (latent for koopman), tau and the system's
    description; the normalisation is added from the training part of the data. The loss is
    over ``rollout_steps`` autoregressive steps. Stops after ``patience`` epochs without a
    better validation loss, or at ``time_limit_s``; returns the best-validation emulator.
    """
    torch.manual_seed(seed)
    train_windows, val_windows = split_windows(states.to(torch.float64), val_fraction,
                                               rollout_steps)
    first = train_windows[:, :2]
    config = {**config, "dim": states.shape[-1], "rollout_steps": rollout_steps,
              "state_mean": float(first[:, 0].mean()), "state_std": float(first[:, 0].std()),
              "increment_std": float((first[:, 1] - first[:, 0]).std())}
    emulator = Emulator(config)
    train_windows, val_windows = train_windows.float(), val_windows.float()
    optimiser = torch.optim.Adam(emulator.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=epochs)
    log, best_state, best_val = TrainingLog(), copy.deepcopy(emulator.state_dict()), math.inf
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        emulator.train()
        order, total = torch.randperm(len(train_windows)), 0.0
        for idx in order.split(batch_size):
            objective, prediction = emulator.window_loss(train_windows[idx])
            optimiser.zero_grad()
            objective.backward()
            optimiser.step()
            total += prediction.item() * len(idx)
        schedule.step()
        emulator.eval()
        with torch.no_grad():
            val = float(emulator.window_loss(val_windows)[1])
        log.train_loss.append(total / len(train_windows))
        log.val_loss.append(val)
        if val < best_val:
            best_val, log.best_epoch = val, epoch
            best_state = copy.deepcopy(emulator.state_dict())
        elapsed = time.perf_counter() - start
        if progress is not None:
            progress(f"epoch {epoch}/{epochs}: train {log.train_loss[-1]:.3e}, val {val:.3e} "
                     f"(best {best_val:.3e} at {log.best_epoch}), {elapsed:.0f} s")
        if epoch - log.best_epoch >= patience or elapsed > time_limit_s:
            log.stopped_early = epoch < epochs
            break
    emulator.load_state_dict(best_state)
    emulator.eval()
    log.wall_s = time.perf_counter() - start
    return emulator, log


def save_emulator(emulator: Emulator, path: Path) -> None:
    """Weights and config in one torch file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": emulator.config, "state_dict": emulator.state_dict()}, path)


def load_emulator(path: Path) -> Emulator:
    """The emulator saved at ``path`` by :func:`save_emulator`."""
    if not path.exists():
        raise ToolError(f"no saved emulator at {path}; train one with emulators.train")
    saved = torch.load(path, weights_only=True)
    emulator = Emulator(saved["config"])
    emulator.load_state_dict(saved["state_dict"])
    return emulator.eval()
