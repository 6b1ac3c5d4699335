"""Optimal interpolation, 3D-Var and strong-constraint 4D-Var (static background covariance B).

B is ``xB`` times the climatological covariance of a long free run (DAPPER's convention). With
a site-picking (linear) obs operator the 3D-Var minimiser has the closed form used here; with a
nonlinear one OI and 3D-Var linearise it about their background (H by autograd, each cycle for
3D-Var: one Gauss-Newton step). 4D-Var minimises its cost with L-BFGS on gradients from torch
autograd through the forecast model and the obs operator (both must be differentiable).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from climcopilot.tools.base import ToolError
from climcopilot.tools.da.experiment import Trace, TwinSetup
from climcopilot.tools.da.forecast import traced
from climcopilot.tools.emulators.models import describe_model, is_differentiable


def kalman_gain(B: Tensor, H: Tensor, obs_var: float) -> Tensor:
    """K = B H^T (H B H^T + R)^{-1}, shape (dim, n_obs), for R = obs_var I."""
    S = H @ B @ H.T + obs_var * torch.eye(len(H), dtype=B.dtype, device=B.device)
    return torch.linalg.solve(S, H @ B).T


@dataclass
class OptimalInterpolation:
    """OI: the analysis is the climatological mean corrected by the climatological gain."""

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        trace, obs = Trace(setup), setup.obs
        background = setup.clim.mean
        gain = kalman_gain(setup.clim.cov, obs.jacobian(background), obs.obs_var)
        trace.mean_f[:] = background
        trace.mean_a[:] = background + (yy - obs(background)) @ gain.T  # all cycles at once
        return trace.finish()


@dataclass
class Var3D:
    """3D-Var: the forecast is corrected with the static gain of B = xB x climatological cov."""

    xB: float = 1.0

    def __post_init__(self) -> None:
        if not self.xB > 0:
            raise ToolError(f"xB scales the background covariance and must be > 0, got {self.xB}")

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        trace, obs = Trace(setup), setup.obs
        B = self.xB * setup.clim.cov
        x = setup.start_background
        gain = kalman_gain(B, obs.jacobian(x), obs.obs_var) if obs.linear else None
        model_forecast = setup.cycle(setup.model)
        in_graph = not model_forecast.runs_natively(x)  # else one call of the C step

        def cycle(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
            forecast = model_forecast.eager(x) if in_graph else x
            K = gain if gain is not None else kalman_gain(B, obs.jacobian(forecast), obs.obs_var)
            return torch.addmv(forecast, K, y - obs(forecast)), forecast

        # a nonlinear operator's Jacobian (autograd, per cycle) is not traced
        step = traced(cycle, (repr(self), setup.key, in_graph), (x, yy[0]),
                      setup.traceable and obs.linear)
        for ko in range(setup.Ko):
            x, forecast = step(x if in_graph else model_forecast.native(x), yy[ko])
            trace.record(ko, forecast, x)
            if not trace.finite_so_far(ko):
                break
        return trace.finish()


def symmetric_sqrt(B: Tensor) -> Tensor:
    """B^{1/2} of a symmetric positive semi-definite matrix (negative eigenvalues clipped)."""
    eigval, eigvec = torch.linalg.eigh(B)
    return (eigvec * eigval.clamp(min=0).sqrt()) @ eigvec.T


@dataclass
class Var4D:
    """Strong-constraint 4D-Var over a window of ``lag`` observation cycles, sliding by one.

    Control variable w with x_start = x_b + B^{1/2} w; cost
    J(w) = |w|^2 / 2 + sum over the window's cycles c of |y_c - h(M_c(x_start))|^2 / (2 r).
    The analysis is the optimal trajectory at the window's end; the next window's background is
    the optimal start state propagated by one cycle (DAPPER's Var4D cycling).
    """

    xB: float = 1.0
    lag: int = 1
    max_iter: int = 50

    def __post_init__(self) -> None:
        if not self.xB > 0:
            raise ToolError(f"xB scales the background covariance and must be > 0, got {self.xB}")
        if self.lag < 1:
            raise ToolError(f"lag is the 4D-Var window in observation cycles, >= 1; got {self.lag}")

    def cost(self, w: Tensor, x_b: Tensor, B_sqrt: Tensor, window_obs: Tensor,
             setup: TwinSetup) -> Tensor:
        """J(w) (scalar) for observations ``window_obs`` (n_cycles, n_obs) after x_start."""
        x = x_b + B_sqrt @ w
        misfit = w.new_zeros(())
        for y in window_obs:
            x = setup.forecast(x)
            misfit = misfit + ((y - setup.obs(x)) ** 2).sum()
        return 0.5 * (w @ w) + 0.5 * misfit / setup.obs.obs_var

    def minimise(self, x_b: Tensor, B_sqrt: Tensor, window_obs: Tensor,
                 setup: TwinSetup) -> Tensor:
        """The optimal start state of the window, shape (dim,)."""
        w = torch.zeros_like(x_b, requires_grad=True)
        optimiser = torch.optim.LBFGS([w], max_iter=self.max_iter, tolerance_grad=1e-7,
                                      tolerance_change=1e-10, line_search_fn="strong_wolfe")

        def closure() -> Tensor:
            optimiser.zero_grad()
            J = self.cost(w, x_b, B_sqrt, window_obs, setup)
            J.backward()
            return J

        with torch.enable_grad():
            optimiser.step(closure)
        return (x_b + B_sqrt @ w).detach()

    def assimilate(self, setup: TwinSetup, yy: Tensor, gen: torch.Generator) -> Trace:
        if not is_differentiable(setup.model):
            raise ToolError(f"4dvar needs gradients through the forecast model, and "
                            f"{describe_model(setup.model)} says differentiable=False; use "
                            "3dvar or an ensemble method (etkf)")
        trace = Trace(setup)
        B_sqrt = symmetric_sqrt(self.xB * setup.clim.cov)
        start_bg = setup.start_background  # background at the window start
        analysis = setup.start_background
        for ko in range(setup.Ko):
            first = max(0, ko - self.lag + 1)  # first cycle of this window
            forecast = setup.forecast(analysis)
            start = self.minimise(start_bg, B_sqrt, yy[first: ko + 1], setup)
            with torch.no_grad():
                x = start
                for _ in range(first, ko + 1):
                    x = setup.forecast(x)
                analysis = x
                if ko - self.lag + 1 >= 0:  # window is full: it slides by one cycle
                    start_bg = setup.forecast(start)
            trace.record(ko, forecast, analysis)
            if not trace.finite_so_far(ko):
                break
        return trace.finish()
