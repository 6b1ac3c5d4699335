"""One-step emulators: a network on the normalised state predicting the normalised increment.

``x(t + tau) = x(t) + increment_std * net((x(t) - state_mean) / state_std)``, ``tau`` the data's
sampling interval (MTU). Trained with Adam on the mean squared error of the normalised
increment; the validation set is the last part of every trajectory in time; early stopping
keeps the best validation epoch. Float32 inside the network, float64 states outside.
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
from climcopilot.tools.emulators.networks import build_network


class Emulator(nn.Module):
    """A trained network with its normalisation and config (system, sampling interval, sizes)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = config
        self.net = build_network(config["kind"], config["dim"], config["width"],
                                 config["layers"])
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

    def increment(self, x: Tensor) -> Tensor:
        """Normalised increment predicted at ``x`` (..., dim), float32."""
        return self.net((x - self.state_mean) / self.state_std)

    def step(self, x: Tensor) -> Tensor:
        """``x`` (..., dim) advanced by ``tau`` MTU; same dtype as ``x``."""
        self.check_shape(x)
        out = self.increment(x.to(torch.float32)) * self.increment_std
        return x + out.to(x.dtype)

    @torch.no_grad()
    def rollout(self, x0: Tensor, n_steps: int) -> Tensor:
        """States at 0, tau, ..., n_steps tau from ``x0`` (..., dim): (n_steps + 1, ..., dim)."""
        self.check_shape(x0)
        out = [x0]
        for _ in range(n_steps):
            out.append(self.step(out[-1]))
        return torch.stack(out)


@dataclass
class TrainingLog:
    """Loss per epoch (normalised-increment MSE), the epoch kept, and the wall time (s)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    wall_s: float = 0.0
    stopped_early: bool = False


def split_pairs(states: Tensor, val_fraction: float) -> tuple[tuple[Tensor, Tensor],
                                                              tuple[Tensor, Tensor]]:
    """(input, target) pairs of consecutive states (members, time, dim), split in time: the last
    ``val_fraction`` of every member's series is validation."""
    n_time = states.shape[1]
    cut = int(round(n_time * (1.0 - val_fraction)))
    if cut < 2 or n_time - cut < 2:
        raise ToolError(f"need at least 2 training and 2 validation times, got {n_time} times "
                        f"with val_fraction={val_fraction}; simulate longer")

    def pairs(part: Tensor) -> tuple[Tensor, Tensor]:
        return part[:, :-1].reshape(-1, part.shape[-1]), part[:, 1:].reshape(-1, part.shape[-1])

    return pairs(states[:, :cut]), pairs(states[:, cut:])


def train_emulator(states: Tensor, config: dict[str, Any], *, epochs: int, batch_size: int,
                   lr: float, patience: int, val_fraction: float, seed: int = 0,
                   progress: Callable[[str], None] | None = None,
                   time_limit_s: float = math.inf) -> tuple[Emulator, TrainingLog]:
    """Fit an :class:`Emulator` to ``states`` (members, time, dim) sampled every ``tau`` MTU.

    ``config`` holds kind, width, layers, tau and the system's description; the normalisation is
    added from the training part of the data. Stops after ``patience`` epochs without a better
    validation loss, or at ``time_limit_s``; returns the best-validation emulator.
    """
    torch.manual_seed(seed)
    (x_train, y_train), (x_val, y_val) = split_pairs(states.to(torch.float64), val_fraction)
    increments = y_train - x_train
    config = {**config, "dim": states.shape[-1], "state_mean": float(x_train.mean()),
              "state_std": float(x_train.std()), "increment_std": float(increments.std())}
    emulator = Emulator(config)
    x_train, x_val = x_train.float(), x_val.float()
    target_train = (increments / config["increment_std"]).float()
    target_val = ((y_val - x_val.double()) / config["increment_std"]).float()
    optimiser = torch.optim.Adam(emulator.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=epochs)
    log, best_state, best_val = TrainingLog(), copy.deepcopy(emulator.state_dict()), math.inf
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        emulator.train()
        order, total = torch.randperm(len(x_train)), 0.0
        for idx in order.split(batch_size):
            loss = nn.functional.mse_loss(emulator.increment(x_train[idx]), target_train[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
        schedule.step()
        emulator.eval()
        with torch.no_grad():
            val = float(nn.functional.mse_loss(emulator.increment(x_val), target_val))
        log.train_loss.append(total / len(x_train))
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
