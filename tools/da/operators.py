"""Observation operators y = h(x) + e, e ~ N(0, obs_var I): a pointwise function of observed
sites (identity, arctan, quadratic, abs), or a plugin's callable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.plugins import OBS_OPERATOR_GROUP, one_line, plugin_points


@dataclass(frozen=True)
class Pointwise:
    """A function g applied to each observed site, with its derivative g' (both elementwise)."""

    g: Callable[[Tensor], Tensor]
    slope: Callable[[Tensor], Tensor]


POINTWISE: dict[str, Pointwise] = {
    "identity": Pointwise(lambda z: z, torch.ones_like),
    "arctan": Pointwise(torch.atan, lambda z: 1.0 / (1.0 + z * z)),
    "quadratic": Pointwise(torch.square, lambda z: 2.0 * z),
    "abs": Pointwise(torch.abs, torch.sign),
}
"""The built-in operators by name: y = g(x[sites]) (quadratic is x^2, abs is |x|)."""


@dataclass
class ObsOperator:
    """``h`` maps states (..., dim) to observations (..., n_obs); noise variance ``obs_var``.

    ``sites`` are the observed state indices when ``h`` is a pointwise function of sites (used
    for localisation and to trace a cycle); None for a plugin's callable. ``name`` says which
    operator it is (``identity``, ``arctan``, ``quadratic``, ``abs`` or the plugin's name).
    With every site observed through the identity ``h`` returns its input itself (callers must
    not modify the result in place).
    """

    h: Callable[[Tensor], Tensor]
    dim: int
    n_obs: int
    obs_var: float
    sites: Tensor | None = None
    name: str = "identity"
    all_sites: bool = field(init=False)
    """Whether every state variable is observed, in order."""

    def __post_init__(self) -> None:
        self.all_sites = self.sites is not None and self.sites.tolist() == list(range(self.dim))

    def __call__(self, x: Tensor) -> Tensor:
        return self.h(x)

    @property
    def linear(self) -> bool:
        """Whether h picks sites unchanged (H is then constant: rows of the identity)."""
        return self.sites is not None and self.name == "identity"

    def jacobian(self, x: Tensor) -> Tensor:
        """H = dh/dx at the single state ``x`` (dim,), by autograd; shape (n_obs, dim)."""
        if self.linear:
            eye = torch.eye(self.dim, dtype=x.dtype, device=x.device)
            return eye[self.sites.to(x.device)]
        return torch.func.jacrev(self.h)(x)

    def adjoint(self, x: Tensor, dy: Tensor) -> Tensor:
        """J(x)^T dy for states ``x`` (..., dim) and observation-space vectors ``dy``
        (..., n_obs), row by row; shape (..., dim). The analytic slope for the built-in
        operators (traceable), a vector-Jacobian product by autograd for a plugin's."""
        if self.sites is None:
            return torch.func.vjp(self.h, x)[1](dy)[0]
        slope = POINTWISE[self.name].slope
        if self.all_sites:
            return dy * slope(x)
        sites = self.sites.to(x.device)
        return torch.zeros_like(x).index_copy(-1, sites, dy * slope(x[..., sites]))

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


def subset_obs(dim: int, sites: Sequence[int], obs_var: float,
               name: str = "identity") -> ObsOperator:
    """The state variables at indices ``sites`` (unique, 0 <= site < dim) observed through the
    pointwise operator ``name`` (a key of :data:`POINTWISE`)."""
    _check_var(obs_var)
    sites = list(sites)
    if not sites:
        raise ToolError("obs_sites is empty; observe at least one site (null = all)")
    if len(set(sites)) != len(sites) or min(sites) < 0 or max(sites) >= dim:
        raise ToolError(f"obs_sites must be distinct indices in 0..{dim - 1}; got {sites}")
    g = POINTWISE[name].g
    index = torch.tensor(sites, dtype=torch.long)
    if sites == list(range(dim)):  # every site in order: no gather (the identity: no copy)
        h = g
    else:
        def h(x: Tensor) -> Tensor:
            return g(x[..., index.to(x.device)])
    return ObsOperator(h=h, dim=dim, n_obs=len(sites), obs_var=obs_var, sites=index, name=name)


def callable_obs(h: Callable[[Tensor], Tensor], dim: int, obs_var: float,
                 name: str = "callable") -> ObsOperator:
    """Any differentiable ``h`` mapping (..., dim) to (..., n_obs); its shape is checked."""
    _check_var(obs_var)
    probe = torch.zeros(2, dim, dtype=torch.float64)
    try:
        out = h(probe)
    except Exception as exc:
        raise ToolError(f"obs operator {name!r} failed on a (2, {dim}) batch of states: "
                        f"{one_line(exc)}") from None
    if not isinstance(out, Tensor) or out.ndim != 2 or out.shape[0] != 2:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ToolError(f"obs operator {name!r} must map (..., {dim}) states to (..., n_obs) "
                        f"observations; a (2, {dim}) batch gave {shape}")
    return ObsOperator(h=h, dim=dim, n_obs=out.shape[1], obs_var=obs_var, name=name)


def plugin_obs(name: str, dim: int, obs_var: float) -> ObsOperator:
    """The plugin operator ``name`` (entry-point group :data:`OBS_OPERATOR_GROUP`)."""
    point = next((ep for ep in plugin_points(OBS_OPERATOR_GROUP) if ep.name == name), None)
    if point is None:
        plugins = [ep.name for ep in plugin_points(OBS_OPERATOR_GROUP)]
        raise ToolError(f"unknown obs_operator {name!r}; known: "
                        f"{', '.join([*POINTWISE, *plugins])} (plugins add more under the "
                        f"entry-point group {OBS_OPERATOR_GROUP!r})")
    try:
        h = point.load()
    except Exception as exc:
        raise ToolError(f"obs_operator {name!r} ({point.value}) failed to load: "
                        f"{one_line(exc)}") from None
    if not callable(h):
        raise ToolError(f"obs_operator {name!r} ({point.value}) is a {type(h).__name__}, not a "
                        "callable mapping states (..., dim) to observations (..., n_obs)")
    return callable_obs(h, dim, obs_var, name=name)


def build_obs(dim: int, obs_sites: Sequence[int] | str | None, obs_var: float,
              operator: str = "identity") -> ObsOperator:
    """The tool's observations: ``operator`` (a built-in pointwise one or a plugin's name) and
    ``obs_sites`` (None = all, ``"every_other"`` = 0, 2, 4, ..., or a list; built-in
    operators only: a plugin operator maps the whole state)."""
    if operator not in POINTWISE:
        if obs_sites is not None:
            raise ToolError(f"obs_sites applies to the built-in operators "
                            f"({', '.join(POINTWISE)}); the plugin operator {operator!r} maps "
                            "the whole state, so leave obs_sites null")
        return plugin_obs(operator, dim, obs_var)
    if obs_sites is None:
        return subset_obs(dim, range(dim), obs_var, operator)
    if isinstance(obs_sites, str):
        if obs_sites != "every_other":
            raise ToolError(f"obs_sites {obs_sites!r} not understood; use null (all), "
                            "'every_other' or a list of site indices")
        return subset_obs(dim, range(0, dim, 2), obs_var, operator)
    return subset_obs(dim, obs_sites, obs_var, operator)
