"""The emulator: a small convolutional network on the Lorenz-96 ring that predicts dx/dt."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RingCNN(nn.Module):
    """Tendency dx/dt (B, N) of Lorenz-96 states x (B, N) from a 5-site periodic stencil.

    Inputs and outputs are standardised with the stored climatological mean and standard
    deviations (buffers ``x_mean``, ``x_std``, ``f_std``), so the weights see unit-scale data.
    """

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, hidden, kernel_size=5, padding=2, padding_mode="circular"),
            nn.GELU(),
            nn.Conv1d(hidden, hidden, kernel_size=1),
            nn.GELU(),
            nn.Conv1d(hidden, 1, kernel_size=1),
        )
        self.register_buffer("x_mean", torch.tensor(0.0))
        self.register_buffer("x_std", torch.tensor(1.0))
        self.register_buffer("f_std", torch.tensor(1.0))

    def forward(self, x: Tensor) -> Tensor:
        z = ((x - self.x_mean) / self.x_std).unsqueeze(1)  # (B, 1, N)
        return self.net(z).squeeze(1) * self.f_std
