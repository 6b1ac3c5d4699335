"""The common result of every discovery method: a lagged graph over N series.

Entry ``[i, j, tau]`` of each array describes the link ``X_i(t - tau) -> X_j(t)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field


class Link(BaseModel):
    """One discovered link ``source(t - lag) -> target(t)``."""

    source: str
    target: str
    lag: int = Field(description="lag in time steps of the input series")
    value: float = Field(description="method's strength statistic (sign = direction of effect "
                                     "where the method has one)")
    p_value: float = Field(description="p-value after the method's multiple-testing correction")
    kind: str = Field("-->", description="'-->' directed, 'o-o' undirected (contemporaneous)")


@dataclass
class LaggedGraph:
    """Links among N series at lags 0..tau_max.

    ``value``, ``p_value`` and ``significant`` have shape (N, N, tau_max + 1); ``kind`` holds the
    edge mark of each significant entry ('-->' or 'o-o'; '' elsewhere). ``p_value`` is NaN where a
    link was not tested (e.g. lag 0 for a lagged-only method).
    """

    names: list[str]
    value: np.ndarray
    p_value: np.ndarray
    significant: np.ndarray
    method: str
    kind: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n_vars(self) -> int:
        return len(self.names)

    @property
    def tau_max(self) -> int:
        return self.value.shape[2] - 1

    def links(self) -> list[Link]:
        """Significant links, strongest (smallest p, then largest |value|) first."""
        kind = self.kind if self.kind is not None else np.where(self.significant, "-->", "")
        out = []
        for i, j, tau in zip(*np.nonzero(self.significant), strict=True):
            mark = str(kind[i, j, tau]) or "-->"
            if tau == 0 and mark == "o-o" and i > j:
                continue  # an undirected contemporaneous link is listed once
            out.append(Link(source=self.names[i], target=self.names[j], lag=int(tau),
                            value=float(self.value[i, j, tau]),
                            p_value=float(self.p_value[i, j, tau]), kind=mark))
        return sorted(out, key=lambda lk: (lk.p_value, -abs(lk.value)))

    def summary_adjacency(self) -> np.ndarray:
        """(N, N) bool: i -> j is significant at some lag >= 1."""
        return self.significant[:, :, 1:].any(axis=2)

    def summary_score(self) -> np.ndarray:
        """(N, N) ranking score of i -> j over lags >= 1: higher = more evidence.

        Pairs are ranked by their smallest p-value, ties (e.g. p underflowing to 0) broken by the
        largest |value|; the score is that rank, so it only orders pairs within one method.
        """
        p = np.nan_to_num(self.p_value[:, :, 1:], nan=1.0).min(axis=2)
        v = np.nan_to_num(np.abs(self.value[:, :, 1:]), nan=0.0).max(axis=2)
        order = np.lexsort((v.ravel(), -p.ravel()))  # ascending evidence
        score = np.empty(p.size)
        score[order] = np.arange(p.size, dtype=float)
        return score.reshape(p.shape)
