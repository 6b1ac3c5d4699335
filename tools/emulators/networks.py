"""Emulator networks on the normalised state (batch, dim).

``cnn`` and ``mlp`` map it to the normalised one-step increment; ``koopman`` is an autoencoder
whose latent state advances by one linear map.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

NetworkKind = Literal["cnn", "mlp", "koopman"]


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
    """A fully connected network: dim -> width -> ... -> out (``out`` = dim by default)."""

    def __init__(self, dim: int, width: int = 256, layers: int = 2,
                 out: int | None = None) -> None:
        super().__init__()
        sizes = [dim] + [width] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            blocks += [nn.Linear(a, b), nn.GELU()]
        blocks.append(nn.Linear(sizes[-1], dim if out is None else out))
        self.body = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


class KoopmanAutoencoder(nn.Module):
    """An autoencoder with linear latent dynamics: encoder, latent operator K, decoder.

    The encoder keeps the state and appends ``latent`` learned observables, ``z = [s,
    mlp(s)]`` (dim + latent); the decoder is ``z[:dim] + mlp(z)``; K (no bias) starts as the
    identity (one step is short). One step of the normalised state s is ``decode(K
    encode(s))``; k steps are ``decode(K^k encode(s))``: linear latent dynamics by construction.
    """

    def __init__(self, dim: int, width: int = 64, layers: int = 2, latent: int = 32) -> None:
        super().__init__()
        self.dim = dim
        self.encoder = StateMLP(dim, width=width, layers=layers, out=latent)
        self.decoder = StateMLP(dim + latent, width=width, layers=layers, out=dim)
        self.K = nn.Linear(dim + latent, dim + latent, bias=False)
        nn.init.eye_(self.K.weight)

    def encode(self, s: Tensor) -> Tensor:
        """Latent state (..., dim + latent) of the normalised state ``s`` (..., dim)."""
        return torch.cat((s, self.encoder(s)), dim=-1)

    def decode(self, z: Tensor) -> Tensor:
        """Normalised state (..., dim) of the latent state ``z``."""
        return z[..., : self.dim] + self.decoder(z)

    def advance(self, z: Tensor) -> Tensor:
        """K z for latent states z (..., dim + latent)."""
        return self.K(z)

    def forward(self, s: Tensor) -> Tensor:
        """The normalised state one step after ``s``."""
        return self.decode(self.advance(self.encode(s)))


def build_network(kind: NetworkKind, dim: int, width: int, layers: int,
                  latent: int = 32) -> nn.Module:
    """``cnn`` (ring systems: width = channels), ``mlp`` (any system: width = hidden units) or
    ``koopman`` (any system: encoder/decoder hidden units ``width``, ``latent`` learned
    observables)."""
    if kind == "cnn":
        return RingCNN(channels=width, layers=layers)
    if kind == "koopman":
        return KoopmanAutoencoder(dim, width=width, layers=layers, latent=latent)
    return StateMLP(dim, width=width, layers=layers)


def count_parameters(net: nn.Module) -> int:
    """Trainable parameters of ``net``."""
    return sum(p.numel() for p in net.parameters())

