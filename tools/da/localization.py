"""Gaspari-Cohn tapering on a periodic ring (DAPPER's convention: half-width 1.82 x loc_rad)."""

from __future__ import annotations

import torch
from torch import Tensor

GC_SCALE = 1.82  # ~sqrt(10/3): the taper is exp(-1/2) near distance loc_rad, as in DAPPER


def ring_distance(a: Tensor, b: Tensor, length: float | None) -> Tensor:
    """Pairwise periodic distances |a_i - b_j| on a ring of ``length`` (None: a line, not
    periodic); shape (len(a), len(b))."""
    d = (a[:, None] - b[None, :]).abs()
    if length is None:
        return d
    d = d % length
    return torch.minimum(d, length - d)


def gaspari_cohn(dist: Tensor, loc_rad: float) -> Tensor:
    """Gaspari & Cohn (1999, eq. 4.10) taper: 1 at 0, 0 beyond 2 x 1.82 x ``loc_rad``."""
    r = dist / (GC_SCALE * loc_rad)
    inner = 1 - 5 / 3 * r**2 + 5 / 8 * r**3 + 1 / 2 * r**4 - 1 / 4 * r**5
    outer = (4 - 5 * r + 5 / 3 * r**2 + 5 / 8 * r**3 - 1 / 2 * r**4 + 1 / 12 * r**5
             - 2 / 3 / r.clamp(min=1.0))
    return torch.where(r <= 1, inner, torch.where(r <= 2, outer, torch.zeros_like(r)))
