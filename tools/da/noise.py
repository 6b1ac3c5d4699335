"""Random draws for every cycle of a run, generated a chunk of cycles per generator call."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

CHUNK_VALUES = 2**18  # numbers drawn per call (2 MiB of float64)


class NormalStream:
    """One standard-normal tensor of ``shape`` per cycle, drawn for many cycles at once.

    Each call to ``gen`` fills a chunk of cycles (about ``CHUNK_VALUES`` numbers, at least one
    cycle); ``transform`` maps a chunk (n_cycles, *shape) to what the method uses (centred
    perturbations, random rotations) in one batched operation. Draws are made on the CPU, so a
    seed gives the same numbers on any device, and moved to ``device`` a chunk at a time.
    """

    def __init__(self, gen: torch.Generator, shape: tuple[int, ...], device: torch.device,
                 transform: Callable[[Tensor], Tensor] | None = None) -> None:
        self.gen, self.shape, self.device, self.transform = gen, shape, device, transform
        self.chunk = max(1, CHUNK_VALUES // max(1, math.prod(shape)))
        self._drawn: Tensor | None = None
        self._used = 0

    def next(self) -> Tensor:
        """This cycle's draw, shape ``shape`` (or what ``transform`` makes of it)."""
        if self._drawn is None or self._used == len(self._drawn):
            chunk = torch.randn((self.chunk, *self.shape), generator=self.gen,
                                dtype=torch.float64).to(self.device)
            self._drawn = chunk if self.transform is None else self.transform(chunk)
            self._used = 0
        self._used += 1
        return self._drawn[self._used - 1]
