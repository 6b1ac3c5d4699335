"""Parameter inference for Lorenz-96 and two-scale Lorenz-96 from noisy, sparse trajectories.

The data: one truth run, every ``observed_every``-th variable of each ring observed every
``obs_every`` RK4 steps with Gaussian noise of std ``noise`` x that ring's climatological std.

* **gradient**: the parameters (in logs) and the unknown initial states of ``windows`` short
  windows of the record are fitted jointly by L-BFGS on the observation misfit, the gradient
  taken by autograd through the project's RK4 (:func:`~.systems.rk4` of the system's own
  ``tendency`` with tensor parameters). The standard errors are the Laplace (Gauss-Newton)
  estimate: the inverse of J^T J (J the Jacobian of the noise-scaled residuals, plus the
  prior's precision), marginalised over the window states by their Schur complement.
* **eki**: ensemble Kalman inversion (gradient-free) of the same record's statistics (per ring:
  mean, second moment, lag-1 time product, neighbour product; for two rings the slow-fast
  cross moment), as in Cleary et al. (2021), run as the ensemble smoother with multiple data
  assimilation (Emerick & Reynolds 2013): ``iterations`` perturbed-observation Kalman updates
  with the noise covariance inflated by ``iterations``, which for a linear-Gaussian problem
  gives the posterior; the standard errors are the final ensemble's spread.

Both use the same log-normal prior (median ``initial``, std ``PRIOR_STD`` in log).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import torch
from matplotlib.figure import Figure
from pydantic import Field, model_validator
from torch import Tensor

from climcopilot.tools.base import Check, ToolContext, ToolError, ToolResult, tool
from climcopilot.tools.emulators.hybrid import Closure, fit_closure, subgrid_tendency
from climcopilot.tools.emulators.inputs import HybridInput, SystemSpec, WorkLimits
from climcopilot.tools.emulators.limits import check_training, check_work, step_count
from climcopilot.tools.emulators.simulate import simulate_states
from climcopilot.tools.emulators.systems import (
    DynamicalSystem,
    Lorenz96,
    Lorenz96TwoScale,
    cpu_threads,
    resolve_device,
    rk4,
)
from climcopilot.tools.emulators.vocabulary import INFERENCE_METHODS
from climcopilot.tools.viz.figures import save_figure
from climcopilot.tools.vocabulary import aliased

PRIOR_STD = 0.5  # prior std of each log parameter (a factor of about 1.6)
INFERABLE = {"lorenz96": ("F",), "lorenz96_two_scale": ("F", "h", "c", "b")}
DEFAULTS = {  # parameters, observed_every, duration (MTU) per system
    "lorenz96": (("F",), 2, 10.0),
    "lorenz96_two_scale": (("h", "c", "b"), 1, 0.5),
}
INITIAL_FACTOR = 0.75  # default first guess: this fraction of each true value
METHODS = ("gradient", "eki")
Method = Annotated[Literal["gradient", "eki", "both"], aliased(INFERENCE_METHODS)]


def rings(system: DynamicalSystem) -> list[tuple[int, int]]:
    """(start, length) of each periodic ring of the state: one for Lorenz-96, X and Y for
    the two-scale model."""
    if isinstance(system, Lorenz96TwoScale):
        return [(0, system.K), (system.K, system.K * system.J)]
    return [(0, system.dim)]


def observed_indices(system: DynamicalSystem, observed_every: int) -> list[Tensor]:
    """Per ring, the state indices observed: every ``observed_every``-th variable."""
    return [torch.arange(start, start + length, observed_every)
            for start, length in rings(system)]


@dataclass
class Observations:
    """A noisy, sparse record: ``values`` (time, observed) at the ``index`` variables, every
    ``obs_every`` RK4 steps of ``dt`` MTU; ``sigma`` (observed,) their noise std (state units);
    ``groups`` the observed positions of each ring's variables."""

    values: Tensor
    index: Tensor
    sigma: Tensor
    groups: list[Tensor]
    dt: float
    obs_every: int

    def to(self, device: str | torch.device) -> Observations:
        """The same record on ``device``."""
        return dataclasses.replace(self, values=self.values.to(device),
                                   index=self.index.to(device), sigma=self.sigma.to(device),
                                   groups=[g.to(device) for g in self.groups])


def simulate_observations(system: DynamicalSystem, *, dt: float, duration: float,
                          obs_every: int, observed_every: int, noise: float, seed: int,
                          allow_large: bool = False) -> tuple[Tensor, Observations]:
    """The truth states (time, dim) every ``obs_every`` steps for ``duration`` MTU after the
    system's spin-up, and its observations."""
    truth = simulate_states(system, dt=dt, duration=duration, spinup=system.default_spinup,
                            every=obs_every, seed=seed, allow_large=allow_large)[0]
    per_ring = observed_indices(system, observed_every)
    index = torch.cat(per_ring)
    sigma = torch.cat([noise * truth[:, start:start + length].std() * torch.ones(len(ids))
                       for (start, length), ids in zip(rings(system), per_ring)])
    gen = torch.Generator().manual_seed(seed + 1)
    values = truth[:, index] + sigma * torch.randn(len(truth), len(index), generator=gen,
                                                   dtype=truth.dtype)
    sizes = [len(ids) for ids in per_ring]
    groups = list(torch.arange(len(index)).split(sizes))
    return truth, Observations(values, index, sigma, groups, dt, obs_every)


def with_parameters(system: DynamicalSystem, names: tuple[str, ...], values: Tensor
                    ) -> DynamicalSystem:
    """A copy of ``system`` whose parameters ``names`` are the entries of ``values`` (tensors:
    the tendency is then differentiable in them)."""
    return dataclasses.replace(system, **dict(zip(names, values.unbind())))


def forecast(system: DynamicalSystem, x0: Tensor, dt: float, steps: int, every: int) -> Tensor:
    """RK4 from ``x0`` (..., dim), differentiable: states at steps 0, every, ... steps,
    shape (steps // every + 1, ..., dim)."""
    out, x = [x0], x0
    for k in range(1, steps + 1):
        x = rk4(system.tendency, x, dt)
        if k % every == 0:
            out.append(x)
    return torch.stack(out)


def ring_interpolation(system: DynamicalSystem, obs: Observations, row: Tensor) -> Tensor:
    """A full state (dim,) from one observation row: observed values kept, the others
    interpolated linearly around each ring (the gradient method's first guess)."""
    state = torch.zeros(system.dim, dtype=row.dtype)
    for (start, length), group in zip(rings(system), obs.groups):
        where = (obs.index[group] - start).cpu().numpy()
        state[start:start + length] = torch.from_numpy(np.interp(
            np.arange(length), where, row[group].cpu().numpy(), period=length))
    return state.to(row.device)


@dataclass
class Estimate:
    """One method's recovered parameters: ``values`` and ``std_errors`` (parameter units),
    ``history`` (step, parameter) of the estimates (the first guess first) and ``loss`` per
    step, the squared noise-scaled misfit per datum (about 1 at the noise level; below it by
    the share of fitted unknowns): the gradient method's after each window's fit and after
    the joint fit, EKI's of the ensemble-mean prediction before each update."""

    values: np.ndarray
    std_errors: np.ndarray
    history: np.ndarray
    loss: np.ndarray
    wall_s: float


def window_targets(obs: Observations, windows: int, window_obs: int) -> Tensor:
    """The observations of ``windows`` back-to-back windows of ``window_obs`` intervals from
    the record's start, (window_obs + 1, windows, observed); ToolError when it is too short."""
    if windows * window_obs >= len(obs.values):
        raise ToolError(f"the record has {len(obs.values)} observation times, too few for "
                        f"{windows} windows of {window_obs} intervals: lengthen the duration or "
                        "use fewer or shorter windows")
    return torch.stack([obs.values[k * window_obs:(k + 1) * window_obs + 1]
                        for k in range(windows)], 1)


def minimise(objective: Callable[[], Tensor], params: list[Tensor], iterations: int) -> None:
    """L-BFGS (strong Wolfe line search) of ``objective`` over ``params``, at most
    ``iterations`` iterations; ToolError when the loss ends not finite."""
    optimiser = torch.optim.LBFGS(params, max_iter=iterations, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimiser.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    optimiser.step(closure)
    with torch.no_grad():
        if not math.isfinite(float(objective())):
            raise ToolError("the gradient fit diverged (non-finite loss): use shorter "
                            "windows or a first guess nearer the truth")


def gradient_inference(system: DynamicalSystem, names: tuple[str, ...], obs: Observations,
                       initial: np.ndarray, *, windows: int, window_obs: int,
                       iterations: int) -> Estimate:
    """Maximum a posteriori log parameters and window initial states by L-BFGS through RK4,
    with Laplace standard errors.

    The windows are fitted first one after another (parameters and that window's initial
    state, from the forecast of the previous window's fit: a cycled 4D-Var, which keeps each
    window's unobserved variables in the basin of the truth; a first guess interpolated
    between observed sites is not), then all together, ``iterations`` L-BFGS iterations each.
    """
    began = time.perf_counter()
    targets = window_targets(obs, windows, window_obs)
    log_prior = torch.tensor(np.log(initial), device=obs.values.device)
    log_theta = log_prior.clone().requires_grad_(True)
    steps = window_obs * obs.obs_every

    def residuals(log_values: Tensor, states: Tensor, target: Tensor) -> Tensor:
        """Noise-scaled misfit of the windows from ``states`` (..., dim) to ``target``."""
        model = with_parameters(system, names, log_values.exp())
        path = forecast(model, states, obs.dt, steps, obs.obs_every)
        return (path[..., obs.index] - target) / obs.sigma

    def posterior(states: Tensor, target: Tensor) -> Tensor:
        prior = 0.5 * (((log_theta - log_prior) / PRIOR_STD) ** 2).sum()
        return 0.5 * (residuals(log_theta, states, target) ** 2).sum() + prior

    def chi_square(states: Tensor, target: Tensor) -> float:
        """Squared noise-scaled residual per datum (about 1 at the noise level)."""
        with torch.no_grad():
            return float((residuals(log_theta, states, target) ** 2).mean())

    history, losses, fitted = [initial.copy()], [], []
    state = ring_interpolation(system, obs, obs.values[0])
    for w in range(windows):
        state = state.detach().clone().requires_grad_(True)
        minimise(lambda s=state, w=w: posterior(s, targets[:, w]), [log_theta, state],
                 iterations)
        losses.append(chi_square(state, targets[:, w]))
        history.append(log_theta.detach().exp().cpu().numpy())
        fitted.append(state.detach())
        model = with_parameters(system, names, log_theta.detach().exp())
        state = forecast(model, state.detach(), obs.dt, steps, steps)[-1]
    x0 = torch.stack(fitted).requires_grad_(True)
    minimise(lambda: posterior(x0, targets), [log_theta, x0], iterations)
    losses.append(chi_square(x0, targets))
    history.append(log_theta.detach().exp().cpu().numpy())
    log_theta, x0 = log_theta.detach(), x0.detach()
    log_se = laplace_log_std([
        torch.func.jacrev(lambda lv, s, w=w: residuals(lv, s, targets[:, w]).reshape(-1),
                          argnums=(0, 1))(log_theta, x0[w]) for w in range(windows)])
    values = log_theta.exp().cpu().numpy()
    return Estimate(values=values, std_errors=values * log_se, history=np.array(history),
                    loss=np.array(losses), wall_s=time.perf_counter() - began)


def laplace_log_std(jacobians: list[tuple[Tensor, Tensor]]) -> np.ndarray:
    """Laplace (Gauss-Newton) std of the log parameters from each window's Jacobians of its
    noise-scaled residuals, (residuals, parameters) and (residuals, dim): the precision is
    sum_w J_p^T (I - P_w) J_p + the prior's, P_w the projection on the span of J_x (the
    window's initial state marginalised out)."""
    precision = torch.eye(jacobians[0][0].shape[1], dtype=torch.float64,
                          device=jacobians[0][0].device) / PRIOR_STD**2
    for j_theta, j_state in jacobians:
        u, s, _ = torch.linalg.svd(j_state, full_matrices=False)
        span = u[:, s > s[0] * 1e-10]
        free = j_theta - span @ (span.T @ j_theta)
        precision += free.T @ free
    return torch.linalg.inv(precision).diagonal().sqrt().cpu().numpy()


def record_statistics(values: Tensor, groups: list[Tensor], index: Tensor,
                      system: DynamicalSystem) -> Tensor:
    """What EKI matches, from observation records ``values`` (..., time, observed): per ring
    the mean, the second moment, the lag-1 (one observation interval) product and the product
    of neighbouring observed sites, pooled over sites and time; with two rings also the slow
    variable times the mean of the observed fast variables of its sector. Shape (..., stats)."""
    stats = []
    for group in groups:
        v = values[..., group]
        stats += [v.mean((-2, -1)), (v * v).mean((-2, -1)),
                  (v[..., 1:, :] * v[..., :-1, :]).mean((-2, -1)),
                  (v * v.roll(-1, -1)).mean((-2, -1))]
    if isinstance(system, Lorenz96TwoScale):
        slow, fast = values[..., groups[0]], values[..., groups[1]]
        sector = torch.div(index[groups[1]] - system.K, system.J, rounding_mode="floor")
        sector_mean = torch.stack([fast[..., sector == k].mean(-1) for k in
                                   (index[groups[0]]).tolist()], -1)
        stats.append((slow * sector_mean).mean((-2, -1)))
    return torch.stack(stats, -1)


def kalman_update(theta: np.ndarray, predicted: np.ndarray, y: np.ndarray, gamma: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """One perturbed-observation ensemble Kalman update of ``theta`` (members, p) given its
    predictions ``predicted`` (members, m) of data ``y`` (m,) with noise covariance ``gamma``
    (m, m): theta + C_tg (C_gg + gamma)^-1 (y + eta - g), eta ~ N(0, gamma), the covariances
    those of the ensemble. Members whose prediction is not finite (a blown-up run) are left
    out of the covariances and replaced by copies of updated members drawn at random;
    ToolError when fewer than 3 remain."""
    ok = np.isfinite(predicted).all(1)
    if ok.sum() < 3:
        raise ToolError(f"{len(ok) - ok.sum()} of {len(ok)} EKI members blew up: narrow the "
                        "first guess's spread (initial nearer the truth) or lower dt")
    theta_ok, predicted_ok = theta[ok], predicted[ok]
    d_theta = theta_ok - theta_ok.mean(0)
    d_pred = predicted_ok - predicted_ok.mean(0)
    n = len(theta_ok) - 1
    c_tg, c_gg = d_theta.T @ d_pred / n, d_pred.T @ d_pred / n
    perturbed = y + rng.multivariate_normal(np.zeros(len(y)), gamma, size=len(theta_ok))
    updated = theta_ok + np.linalg.solve(c_gg + gamma, (perturbed - predicted_ok).T).T @ c_tg.T
    out = np.empty_like(theta)
    out[ok] = updated
    out[~ok] = updated[rng.choice(len(updated), int((~ok).sum()))]
    return out


def es_mda(prior: np.ndarray, forward: Callable[[np.ndarray], np.ndarray], y: np.ndarray,
           gamma: np.ndarray, iterations: int, rng: np.random.Generator
           ) -> tuple[np.ndarray, list[np.ndarray], list[float]]:
    """Ensemble Kalman inversion as the ensemble smoother with multiple data assimilation
    (Emerick & Reynolds 2013): ``iterations`` :func:`kalman_update` steps with the noise
    covariance times ``iterations`` (for a linear ``forward`` and a Gaussian ``prior``
    ensemble, (members, p), the posterior). Returns the final ensemble, the ensemble after
    each step (the prior first) and the misfit r^T gamma^-1 r / m of the ensemble-mean
    prediction before each step (m data)."""
    theta, ensembles, misfits = prior, [prior], []
    inverse = np.linalg.inv(gamma)
    for _ in range(iterations):
        predicted = forward(theta)
        r = y - predicted[np.isfinite(predicted).all(1)].mean(0)
        misfits.append(float(r @ inverse @ r) / len(y))
        theta = kalman_update(theta, predicted, y, iterations * gamma, rng)
        ensembles.append(theta)
    return theta, ensembles, misfits


def free_run_statistics(system: DynamicalSystem, names: tuple[str, ...], obs: Observations,
                        log_theta: np.ndarray, *, n_obs: int, seed: int) -> np.ndarray:
    """:func:`record_statistics` of free runs, one per row of ``log_theta`` (members, p), each
    from its own initial state after the system's spin-up, observed like ``obs`` (same
    variables, interval and noise) for ``n_obs`` observation times. (members, stats); a
    member that blew up has non-finite statistics."""
    members, device = len(log_theta), obs.values.device
    values = torch.from_numpy(np.exp(log_theta)).T.unsqueeze(-1).to(device)  # (p, members, 1)
    model = with_parameters(system, names, values)
    spinup = step_count(system.default_spinup, obs.dt, what="spinup")
    with torch.no_grad():
        x = system.initial_state((members,), seed=seed, device=device)
        x = forecast(model, x, obs.dt, spinup, spinup)[-1]
        path = forecast(model, x, obs.dt, (n_obs - 1) * obs.obs_every, obs.obs_every)
    gen = torch.Generator().manual_seed(seed + 1)
    observed = path[..., obs.index]
    record = observed + obs.sigma * torch.randn(observed.shape, generator=gen,
                                                dtype=path.dtype).to(device)
    stats = record_statistics(record.transpose(0, 1), obs.groups, obs.index, system)
    return stats.cpu().numpy()


def eki_inference(system: DynamicalSystem, names: tuple[str, ...], obs: Observations,
                  initial: np.ndarray, *, members: int, iterations: int, blocks: int,
                  seed: int) -> Estimate:
    """EKI (:func:`es_mda`) of the log parameters on :func:`record_statistics` of ``obs``.

    The statistics' noise covariance is twice their sampling covariance over the record
    (the data's and a member's free run of the same length), estimated from ``blocks``
    equal blocks of the record: cov(block statistics) / blocks."""
    began = time.perf_counter()
    y = record_statistics(obs.values, obs.groups, obs.index, system).cpu().numpy()
    n = len(obs.values) // blocks
    per_block = record_statistics(obs.values[: n * blocks].unflatten(0, (blocks, n)),
                                  obs.groups, obs.index, system).cpu().numpy()
    gamma = 2.0 * np.cov(per_block, rowvar=False) / blocks
    gamma += 1e-10 * np.trace(gamma) / len(y) * np.eye(len(y))
    rng = np.random.default_rng(seed)
    prior = np.log(initial) + PRIOR_STD * rng.standard_normal((members, len(names)))
    calls = iter(range(10 * iterations))

    def forward(log_theta: np.ndarray) -> np.ndarray:
        return free_run_statistics(system, names, obs, log_theta, n_obs=len(obs.values),
                                   seed=seed + 7 * next(calls))

    final, ensembles, misfits = es_mda(prior, forward, y, gamma, iterations, rng)
    values = np.exp(final.mean(0))
    return Estimate(values=values, std_errors=values * final.std(0, ddof=1),
                    history=np.exp(np.array([e.mean(0) for e in ensembles])),
                    loss=np.array(misfits), wall_s=time.perf_counter() - began)


class InferInput(SystemSpec, WorkLimits):
    """Recover parameters of lorenz96 or lorenz96_two_scale from a simulated noisy, sparse
    record (the system's own parameters are the truth)."""

    parameters: list[str] | None = Field(None, description="which to recover: lorenz96 'F'; "
                                         "lorenz96_two_scale any of 'F', 'h', 'c', 'b' (null: "
                                         "F for lorenz96, h, c, b for lorenz96_two_scale)")
    initial: list[float] | None = Field(None, description="first guess (and prior median) of "
                                        "each parameter, in order (null: 0.75 x the truth)")
    noise: float = Field(0.1, gt=0, le=1, description="observation noise std as a fraction of "
                         "each ring's climatological std (0.1 = 10 %)")
    observed_every: int | None = Field(None, ge=1, le=64, description="observe every n-th "
                                       "variable of each ring (null: 2, half the sites, for "
                                       "lorenz96; 1 for lorenz96_two_scale)")
    obs_every: int = Field(1, ge=1, le=100, description="RK4 steps between observation times")
    duration: float | None = Field(None, gt=0, le=10_000, description="MTU of the observed "
                                   "record (null: 10 lorenz96, 0.5 lorenz96_two_scale)")
    window: int = Field(10, ge=1, le=200, description="observation intervals per gradient "
                        "window; the windows tile the record")
    method: Method = Field("both", description="gradient (L-BFGS through RK4), eki "
                           "(ensemble Kalman inversion) or both")
    iterations: int = Field(30, ge=1, le=1000, description="L-BFGS iterations per window and "
                            "for the joint fit")
    members: int = Field(50, ge=4, le=2000, description="EKI ensemble members")
    eki_iterations: int = Field(4, ge=1, le=50, description="EKI (ES-MDA) updates")
    seed: int = Field(0, ge=0, description="seed of the truth, the noise and the EKI ensemble")
    device: str = Field("cpu", description="'cpu', 'cuda' or 'auto'")

    @model_validator(mode="after")
    def _known(self) -> InferInput:
        if self.system not in INFERABLE:
            raise ValueError(f"parameter inference covers {' and '.join(INFERABLE)}, not "
                             f"{self.system}")
        allowed = INFERABLE[self.system]
        unknown = [p for p in self.parameters or () if p not in allowed]
        if unknown or (self.parameters is not None and not self.parameters):
            raise ValueError(f"{self.system} parameters to recover are {', '.join(allowed)}; "
                             f"got {self.parameters}")
        if self.initial is not None and len(self.initial) != len(self.names()):
            raise ValueError(f"initial needs one value per parameter ({', '.join(self.names())})"
                             f", got {len(self.initial)}")
        if self.initial is not None and min(self.initial) <= 0:
            raise ValueError("initial values must be positive (the parameters are fitted in "
                             "logs)")
        return self

    def names(self) -> tuple[str, ...]:
        """The parameters to recover."""
        return tuple(self.parameters) if self.parameters else DEFAULTS[self.system][0]


class InferResult(ToolResult):
    """Per method and parameter: the estimate, its standard error and its relative error."""

    parameters: list[str]
    truth: dict[str, float]
    estimates: dict[str, dict[str, float]]
    std_errors: dict[str, dict[str, float]]


@tool("emulators.infer_parameters", family="emulators", long_running=True)
def infer_parameters(args: InferInput, ctx: ToolContext) -> InferResult:
    """Recover Lorenz-96 (F) or two-scale Lorenz-96 (h, c, b; or F) parameters from a
    simulated noisy, sparse record of the truth (every `observed_every`-th variable, noise a
    fraction of the climatological std): by gradient descent through the torch RK4 (L-BFGS
    on the parameters and each window's initial state, Laplace standard errors) and/or by
    ensemble Kalman inversion of the record's statistics (gradient-free, ensemble standard
    errors), on the same data. Returns each estimate with its standard error, the truth,
    relative errors, wall times and a figure of the loss and the estimates."""
    from climcopilot.tools.emulators.tools import build_system

    system, dt = build_system(args)
    names, default_every, default_duration = DEFAULTS[args.system]
    names = args.names()
    truth = np.array([float(getattr(system, n)) for n in names])
    initial = np.array(args.initial) if args.initial else INITIAL_FACTOR * truth
    observed_every = args.observed_every or default_every
    duration = args.duration or default_duration
    methods = METHODS if args.method == "both" else (args.method,)
    window_steps = args.window * args.obs_every
    n_obs = step_count(duration, dt, allow_large=args.allow_large) // args.obs_every + 1
    windows = (n_obs - 1) // args.window
    if windows < 1:
        raise ToolError(f"a record of {duration:g} MTU has {n_obs - 1} observation intervals, "
                        f"fewer than one window of {args.window}: lengthen duration or shorten "
                        "window")
    if "gradient" in methods:
        check_work(members=windows * 4 * args.iterations, steps=window_steps, values=system.dim,
                   allow_large=args.allow_large, hint="lower duration or iterations")
    if "eki" in methods:
        steps = step_count(system.default_spinup, dt) + n_obs * args.obs_every
        check_work(members=args.members * args.eki_iterations, steps=steps, values=system.dim,
                   stored=args.members * n_obs * system.dim, allow_large=args.allow_large,
                   hint="lower members, eki_iterations or duration")
    device = resolve_device(args.device)
    with cpu_threads(1):
        _, obs = simulate_observations(system, dt=dt, duration=duration,
                                       obs_every=args.obs_every, observed_every=observed_every,
                                       noise=args.noise, seed=args.seed,
                                       allow_large=args.allow_large)
        obs = obs.to(device)
        estimates = {}
        if "gradient" in methods:
            estimates["gradient"] = gradient_inference(
                system, names, obs, initial, windows=windows, window_obs=args.window,
                iterations=args.iterations)
        if "eki" in methods:
            estimates["eki"] = eki_inference(system, names, obs, initial, members=args.members,
                                             iterations=args.eki_iterations, blocks=10,
                                             seed=args.seed)
    values: dict[str, float] = {}
    units: dict[str, str] = {}
    for k, name in enumerate(names):
        values[f"{name}_true"], units[f"{name}_true"] = float(truth[k]), "1"
        for method, e in estimates.items():
            tag = f"{name}_{method}"
            values[tag], units[tag] = float(e.values[k]), "1"
            values[f"{tag}_se"], units[f"{tag}_se"] = float(e.std_errors[k]), "1"
            values[f"{tag}_rel_error"] = float(abs(e.values[k] / truth[k] - 1))
            units[f"{tag}_rel_error"] = "1"
    for method, e in estimates.items():
        values[f"wall_{method}_s"], units[f"wall_{method}_s"] = e.wall_s, "s"
        values[f"misfit_{method}"], units[f"misfit_{method}"] = float(e.loss[-1]), "1"
    figure = plot_inference(ctx, estimates, names, truth, f"{system.describe()}, "
                            f"{len(obs.index)} of {system.dim} variables observed, noise "
                            f"{args.noise:g}")
    summary = "; ".join(
        f"{method}: " + ", ".join(f"{n} = {e.values[k]:.4g} +- {e.std_errors[k]:.2g} (true "
                                  f"{truth[k]:g})" for k, n in enumerate(names))
        for method, e in estimates.items())
    return InferResult(
        summary=f"{system.describe()} from {duration:g} MTU, {len(obs.index)} of "
                f"{system.dim} variables observed every {args.obs_every * dt:g} MTU with "
                f"{100 * args.noise:g} % noise: {summary}",
        values=values, units=units, figures=[figure],
        checks=fit_checks(estimates),
        parameters=list(names), truth=dict(zip(names, truth.tolist())),
        estimates={m: dict(zip(names, e.values.tolist())) for m, e in estimates.items()},
        std_errors={m: dict(zip(names, e.std_errors.tolist())) for m, e in estimates.items()})


def fit_checks(estimates: dict[str, Estimate]) -> list[Check]:
    """Finite, positive estimates; the gradient fit at the noise level (its final misfit per
    datum at most 1.5: above, a window's unobserved variables are in a wrong basin)."""
    checks = [Check(name="estimates finite and positive", passed=all(
        bool(np.all(np.isfinite(e.values)) and np.all(e.values > 0))
        for e in estimates.values()))]
    if "gradient" in estimates:
        chi2 = float(estimates["gradient"].loss[-1])
        checks.append(Check(name="gradient fit at the noise level", passed=chi2 <= 1.5,
                            detail=f"misfit per datum {chi2:.3g} (1 = noise level)"))
    return checks


def plot_inference(ctx: ToolContext, estimates: dict[str, Estimate], names: tuple[str, ...],
                   truth: np.ndarray, title: str) -> str:
    """Left: each method's loss per iteration; right: estimates / truth per iteration, the
    final one with +- 2 standard errors."""
    fig = Figure(figsize=(10, 4))
    ax_loss, ax_est = fig.subplots(1, 2)
    for method, e in estimates.items():
        ax_loss.semilogy(np.arange(1, len(e.loss) + 1), e.loss, marker="o", ms=3, label=method)
        for k, name in enumerate(names):
            steps = np.arange(len(e.history))
            line, = ax_est.plot(steps, e.history[:, k] / truth[k], marker=".",
                                label=f"{name} {method}")
            ax_est.errorbar([steps[-1]], [e.values[k] / truth[k]],
                            yerr=[2 * e.std_errors[k] / truth[k]], color=line.get_color(),
                            capsize=4)
    ax_loss.set_xlabel("step (gradient: windows in turn, then all; EKI: update)")
    ax_loss.set_ylabel("misfit per datum, (residual / noise)^2 (1)")
    ax_loss.legend(fontsize=8)
    ax_est.axhline(1.0, color="black", lw=1)
    ax_est.set_xlabel("step")
    ax_est.set_ylabel("estimate / truth (1)")
    ax_est.set_title("estimates (bars: +- 2 standard errors)", fontsize=9)
    ax_est.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path("emulators_infer_parameters"))


@dataclass
class JointClosureOutcome:
    """The offline closure and the jointly learned one (with its forcing F), and their online
    forecast errors (RMSE of X against an independent truth, state units) per lead time."""

    offline: Closure
    joint: Closure
    forcing: float
    leads: np.ndarray  # MTU
    rmse_offline: np.ndarray
    rmse_joint: np.ndarray
    loss: np.ndarray  # joint training misfit per datum, per iteration
    wall_s: float


def one_level_forecast(forcing: Tensor | float, closure: Closure, x0: Tensor, *, dt: float,
                       steps: int, every: int, K: int) -> Tensor:
    """RK4 of dX/dt = L96(X; F) + g(X) from ``x0`` (..., K): (steps // every + 1, ..., K)."""
    model = Lorenz96(N=K, F=forcing)
    hybrid = _ClosedModel(model, closure)
    return forecast(hybrid, x0, dt, steps, every)


@dataclass
class _ClosedModel:
    """A one-level model with a closure, as :func:`forecast` steps it."""

    model: Lorenz96
    closure: Closure

    def tendency(self, x: Tensor) -> Tensor:
        return self.model.tendency(x) + self.closure(x)


def joint_closure(system: Lorenz96TwoScale, *, dt: float, sample_every: int,
                  train_duration: float, test_duration: float, members: int, noise: float,
                  window: int, iterations: int, lead: float, forcing_guess: float,
                  seed: int, allow_large: bool = False) -> JointClosureOutcome:
    """The offline closure (:func:`~.hybrid.fit_closure` on the truth's (X, U) pairs) against
    a closure learned jointly with F through the one-level model's RK4.

    Joint: from the offline closure and F = ``forcing_guess``, Adam on the closure's
    weights, log F and each window's initial state, minimising the misfit of one-level
    forecasts of ``window`` sampling intervals to the slow variables observed with noise
    ``noise`` x their std (no subgrid tendency used). F and the closure's mean are one
    degree of freedom (only F + g enters the model). Online: forecasts from states of an
    independent truth run 1 MTU apart, RMSE against it up to ``lead`` MTU."""
    began = time.perf_counter()
    common = {"dt": dt, "spinup": system.default_spinup, "every": sample_every,
              "members": members, "allow_large": allow_large}
    train = simulate_states(system, duration=train_duration, seed=seed, **common)
    x_train, u_train = subgrid_tendency(system, train)
    offline = fit_closure(x_train, u_train, seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    sigma = noise * float(x_train.std())
    observed = x_train + sigma * torch.randn(x_train.shape, generator=gen, dtype=x_train.dtype)
    n_windows = (observed.shape[1] - 1) // window
    targets = torch.stack([observed[:, k * window:(k + 1) * window + 1]
                           for k in range(n_windows)], 1)  # (member, window, t, K)
    targets = targets.reshape(-1, window + 1, system.K).transpose(0, 1)  # (t, windows, K)
    joint = copy.deepcopy(offline).train()
    log_forcing = torch.tensor(math.log(forcing_guess), dtype=torch.float64, requires_grad=True)
    x0 = targets[0].clone().requires_grad_(True)
    optimiser = torch.optim.Adam([{"params": joint.parameters(), "lr": 1e-3},
                                  {"params": [log_forcing, x0], "lr": 1e-2}])
    losses = []
    for _ in range(iterations):
        path = one_level_forecast(log_forcing.exp(), joint, x0, dt=dt,
                                  steps=window * sample_every, every=sample_every, K=system.K)
        loss = (((path - targets) / sigma) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    joint.eval()
    test = simulate_states(system, duration=test_duration, seed=seed + 2, **common)[..., :system.K]
    per_mtu = round(1.0 / (dt * sample_every))
    lead_samples = max(1, round(lead / (dt * sample_every)))
    origins = range(0, test.shape[1] - lead_samples, per_mtu)
    truth = torch.stack([test[:, o:o + lead_samples + 1] for o in origins], 2)  # (m, t, s, K)
    truth = truth.permute(1, 0, 2, 3)  # (t, member, start, K)
    with torch.no_grad():
        errors = {}
        for name, closure, forcing in (("offline", offline, system.F),
                                       ("joint", joint, float(log_forcing.detach().exp()))):
            path = one_level_forecast(forcing, closure, truth[0], dt=dt,
                                      steps=lead_samples * sample_every, every=sample_every,
                                      K=system.K)
            errors[name] = ((path - truth) ** 2).mean((1, 2, 3)).sqrt().numpy()
    return JointClosureOutcome(
        offline=offline, joint=joint, forcing=float(log_forcing.detach().exp()),
        leads=np.arange(lead_samples + 1) * dt * sample_every,
        rmse_offline=errors["offline"], rmse_joint=errors["joint"], loss=np.array(losses),
        wall_s=time.perf_counter() - began)


class JointClosureInput(HybridInput):
    """A closure learned jointly with F through the one-level model, against the offline one."""

    online_duration: float = Field(20.0, gt=0, le=100_000, description="MTU per member of the "
                                   "independent truth the forecasts start from and are scored "
                                   "against")
    train_duration: float = Field(20.0, gt=0, le=100_000, description="truth MTU per member "
                                  "for both closures")
    noise: float = Field(0.1, gt=0, le=1, description="noise std of the observed slow "
                         "variables, a fraction of their std (joint training)")
    window: int = Field(4, ge=1, le=100, description="sampling intervals per training window")
    iterations: int = Field(150, ge=1, le=10_000, description="Adam iterations of the joint "
                            "training")
    lead: float = Field(2.0, gt=0, le=20, description="forecast lead scored, MTU")
    forcing_guess: float | None = Field(None, gt=0, description="first guess of F for the "
                                        "joint training (null: the true F)")


class JointClosureResult(ToolResult):
    """Online forecast RMSE of the offline and the jointly learned closure per lead (MTU)."""

    leads: list[float]
    rmse_offline: list[float]
    rmse_joint: list[float]


@tool("emulators.joint_closure", family="emulators", long_running=True)
def joint_closure_tool(args: JointClosureInput, ctx: ToolContext) -> JointClosureResult:
    """Learn the two-scale Lorenz-96 subgrid closure g(X_k) jointly with the forcing F by
    gradient descent through the one-level model's RK4 on noisy observed slow variables
    (short forecast windows, no subgrid tendencies needed), starting from the closure
    trained offline on the truth's (X, U) pairs (emulators.hybrid), and compare the two
    online: forecast RMSE of X against an independent truth run, per lead. Returns the
    learned F, the RMSE of each at 0.5, 1 and 2 MTU (or the lead) and a figure."""
    from climcopilot.tools.emulators.catalog import get_system

    system = get_system("lorenz96_two_scale", **args.system_params())
    samples = step_count(args.train_duration, args.dt, allow_large=args.allow_large)
    if samples // args.sample_every < args.window:
        raise ToolError(f"train_duration gives {samples // args.sample_every} sampling "
                        f"intervals, fewer than one window of {args.window}: lengthen it or "
                        "shorten window")
    check_training(epochs=args.iterations,
                   pairs=args.members * samples // (args.sample_every * args.window),
                   rollout_steps=args.window * args.sample_every, allow_large=args.allow_large)
    with cpu_threads(1):
        outcome = joint_closure(
            system, dt=args.dt, sample_every=args.sample_every,
            train_duration=args.train_duration, test_duration=args.online_duration,
            members=args.members, noise=args.noise, window=args.window,
            iterations=args.iterations, lead=args.lead,
            forcing_guess=args.forcing_guess or float(system.F), seed=args.seed,
            allow_large=args.allow_large)
    values = {"F_joint": outcome.forcing, "F_true": float(system.F),
              "wall_s": outcome.wall_s, "final_misfit": float(outcome.loss[-1])}
    units = {"F_joint": "1", "F_true": "1", "wall_s": "s", "final_misfit": "1"}
    for lead in sorted({0.5, 1.0, args.lead}):
        k = int(np.argmin(abs(outcome.leads - lead)))
        if lead <= args.lead:
            tag = f"{outcome.leads[k]:g}".replace(".", "_")
            for name, rmse in (("offline", outcome.rmse_offline), ("joint", outcome.rmse_joint)):
                values[f"rmse_{name}_lead{tag}"] = float(rmse[k])
                units[f"rmse_{name}_lead{tag}"] = "state units"
    values["rmse_offline_mean"] = float(outcome.rmse_offline[1:].mean())
    values["rmse_joint_mean"] = float(outcome.rmse_joint[1:].mean())
    units["rmse_offline_mean"] = units["rmse_joint_mean"] = "state units"
    figure = plot_joint_closure(ctx, outcome, system.describe())
    better = values["rmse_joint_mean"] < values["rmse_offline_mean"]
    return JointClosureResult(
        summary=f"{system.describe()}: closure learned jointly with F (F = "
                f"{outcome.forcing:.4g}, true {system.F:g}) vs offline; online RMSE of X "
                f"averaged over 0-{args.lead:g} MTU: joint {values['rmse_joint_mean']:.3f}, "
                f"offline {values['rmse_offline_mean']:.3f} ("
                f"{'joint lower' if better else 'joint not lower'})",
        values=values, units=units, figures=[figure],
        checks=[Check(name="online errors finite", passed=bool(
            np.isfinite(outcome.rmse_joint).all() and np.isfinite(outcome.rmse_offline).all()))],
        leads=outcome.leads.tolist(), rmse_offline=outcome.rmse_offline.tolist(),
        rmse_joint=outcome.rmse_joint.tolist())


def plot_joint_closure(ctx: ToolContext, outcome: JointClosureOutcome, described: str) -> str:
    """Left: the joint training misfit; right: online RMSE per lead, offline vs joint."""
    fig = Figure(figsize=(10, 4))
    ax_loss, ax_rmse = fig.subplots(1, 2)
    ax_loss.semilogy(np.arange(1, len(outcome.loss) + 1), outcome.loss)
    ax_loss.set_xlabel("Adam iteration")
    ax_loss.set_ylabel("misfit per datum, (residual / noise)^2 (1)")
    ax_loss.set_title(f"joint training (F = {outcome.forcing:.4g})", fontsize=9)
    ax_rmse.plot(outcome.leads, outcome.rmse_offline, label="closure trained offline")
    ax_rmse.plot(outcome.leads, outcome.rmse_joint, label="closure learned jointly with F")
    ax_rmse.set_xlabel("lead (MTU)")
    ax_rmse.set_ylabel("RMSE of X (state units)")
    ax_rmse.set_title("online forecasts from an independent truth", fontsize=9)
    ax_rmse.legend(fontsize=8)
    fig.suptitle(described, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, ctx.figure_path("emulators_joint_closure"))
