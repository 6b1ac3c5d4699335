"""Observation operators y = h(x) + e, e ~ N(0, obs_var I): identity, site subsets, callables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError


@dataclass
class ObsOperator:
    """``h`` maps states (..., dim) to observations (..., n_obs); noise variance ``obs_var``.

    ``sites`` are the observed state indices when ``h`` picks sites (used for localisation and
    to form H cheaply); None for a general callable. With every site observed in order ``h``
    returns its input itself (callers must not modify the result in place).
    """

    h: Callable[[Tensor], Tensor]
    dim: int
    n_obs: int
    obs_var: float
    sites: Tensor | None = None

    def __call__(self, x: Tensor) -> Tensor:
        return self.h(x)

    def jacobian(self, x: Tensor) -> Tensor:
        """H = dh/dx at the single state ``x`` (dim,); shape (n_obs, dim)."""
        if self.sites is not None:
            eye = torch.eye(self.dim, dtype=x.dtype, device=x.device)
            return eye[self.sites.to(x.device)]
        return torch.autograd.functional.jacobian(self.h, x)

    def sample(self, x: Tensor, gen: torch.Generator) -> Tensor:
        """Noisy observations of ``x`` (..., dim); noise drawn on CPU from ``gen``."""
        clean = self.h(x)
        noise = torch.randn(clean.shape, generator=gen, dtype=clean.dtype)
        return clean + self.obs_var**0.5 * noise.to(clean.device)


def _check_var(obs_var: float) -> None:
    if not obs_var > 0:
        raise ToolError(f"obs_var must be a positive variance, got {obs_var}")


def identity_obs(dim: int, obs_var: float) -> ObsOperator:
    """Every state variable observed directly."""
    return subset_obs(dim, range(dim), obs_var)


def subset_obs(dim: int, sites: Sequence[int], obs_var: float) -> ObsOperator:
    """The state variables at indices ``sites`` (unique, 0 <= site < dim) observed directly."""
    _check_var(obs_var)
    sites = list(sites)
    if not sites:
        raise ToolError("obs_sites is empty; observe at least one site (null = all)")
    if len(set(sites)) != len(sites) or min(sites) < 0 or max(sites) >= dim:
        raise ToolError(f"obs_sites must be distinct indices in 0..{dim - 1}; got {sites}")
    index = torch.tensor(sites, dtype=torch.long)
    if sites == list(range(dim)):  # every site in order: h is the identity, no copy
        return ObsOperator(h=lambda x: x, dim=dim, n_obs=dim, obs_var=obs_var, sites=index)
    return ObsOperator(h=lambda x: x[..., index.to(x.device)], dim=dim, n_obs=len(sites),
                       obs_var=obs_var, sites=index)


def callable_obs(h: Callable[[Tensor], Tensor], dim: int, obs_var: float) -> ObsOperator:
    """Any differentiable ``h`` mapping (..., dim) to (..., n_obs); its shape is checked."""
    _check_var(obs_var)
    probe = torch.zeros(2, dim, dtype=torch.float64)
    try:
        out = h(probe)
    except Exception as exc:
        raise ToolError(f"obs operator failed on a (2, {dim}) batch of states: {exc}") from exc
    if not isinstance(out, Tensor) or out.ndim != 2 or out.shape[0] != 2:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ToolError(f"obs operator must map (..., {dim}) states to (..., n_obs) "
                        f"observations; a (2, {dim}) batch gave {shape}")
    return ObsOperator(h=h, dim=dim, n_obs=out.shape[1], obs_var=obs_var)


def obs_from_sites(dim: int, obs_sites: Sequence[int] | str | None,
                   obs_var: float) -> ObsOperator:
    """The tool's ``obs_sites``: None = all, ``"every_other"`` = 0, 2, 4, ..., or a list."""
    if obs_sites is None:
        return identity_obs(dim, obs_var)
    if isinstance(obs_sites, str):
        if obs_sites != "every_other":
            raise ToolError(f"obs_sites {obs_sites!r} not understood; use null (all), "
                            "'every_other' or a list of site indices")
        return subset_obs(dim, range(0, dim, 2), obs_var)
    return subset_obs(dim, obs_sites, obs_var)
