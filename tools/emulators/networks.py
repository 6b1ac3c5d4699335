"""Networks that map a normalised state (batch, dim) to a normalised one-step increment."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

NetworkKind = Literal["cnn", "mlp"]


class RingCNN(nn.Module):
    """Local convolutions with circular padding: translation-equivariant on a periodic ring.

    ``layers`` convolutions of width ``kernel`` (receptive field ``layers * (kernel - 1) + 1``
    sites), GELU between them, then a 1x1 convolution to one channel.
    """

    def __init__(self, channels: int = 32, kernel: int = 5, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = 1
        for _ in range(layers):
            blocks += [nn.Conv1d(width, channels, kernel, padding=kernel // 2,
                                 padding_mode="circular"), nn.GELU()]
            width = channels
        blocks.append(nn.Conv1d(width, 1, 1))
        self.body = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x.unsqueeze(-2)).squeeze(-2)


class StateMLP(nn.Module):
    """A fully connected network on the whole state: dim -> width -> ... -> dim."""

    def __init__(self, dim: int, width: int = 256, layers: int = 2) -> None:
        super().__init__()
        sizes = [dim] + [width] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            blocks += [nn.Linear(a, b), nn.GELU()]
        blocks.append(nn.Linear(sizes[-1], dim))
        self.body = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


def build_network(kind: NetworkKind, dim: int, width: int, layers: int) -> nn.Module:
    """``cnn`` (ring systems: width = channels) or ``mlp`` (any system: width = hidden units)."""
    if kind == "cnn":
        return RingCNN(channels=width, layers=layers)
    return StateMLP(dim, width=width, layers=layers)


def count_parameters(net: nn.Module) -> int:
    """Trainable parameters of ``net``."""
    return sum(p.numel() for p in net.parameters())

