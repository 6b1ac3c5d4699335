"""Random draws for every cycle of a run, generated a chunk of cycles per generator call."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

CHUNK_VALUES = 2**14  # numbers drawn per call (128 KiB of float64: stays in cache)


class NormalStream:
    """One standard-normal tensor of ``shape`` per cycle, drawn for many cycles at once.

    Each refill draws a chunk of cycles (about ``CHUNK_VALUES`` numbers, at least one cycle)
    with NumPy's generator (PCG64, ziggurat: about twice as fast as ``torch.randn`` in
    float64), seeded from ``gen``, so a seed gives the same numbers on any device; ``transform``
    maps a chunk (n_cycles, *shape) to what the method uses (centred perturbations, random
    rotations) in one batched operation, on ``device``.
    """

    def __init__(self, gen: torch.Generator, shape: tuple[int, ...], device: torch.device,
                 transform: Callable[[Tensor], Tensor] | None = None) -> None:
        seed = int(torch.randint(2**62, (1,), generator=gen))
        self.rng = np.random.default_rng(seed)
        self.shape, self.device, self.transform = shape, device, transform
        self.chunk = max(1, CHUNK_VALUES // max(1, math.prod(shape)))
        self._drawn: Tensor | None = None
        self._used = 0

    def next(self) -> Tensor:
        """This cycle's draw, shape ``shape`` (or what ``transform`` makes of it)."""
        if self._drawn is None or self._used == len(self._drawn):
            chunk = torch.from_numpy(self.rng.standard_normal((self.chunk, *self.shape)))
            chunk = chunk.to(self.device)
            self._drawn = chunk if self.transform is None else self.transform(chunk)
            self._used = 0
        self._used += 1
        return self._drawn[self._used - 1]
