"""Hand-fused RK4 steps for the small ensembles of data assimilation.

A 100-member Lorenz-63 ensemble is a few hundred numbers, so a step costs what its operations
cost to launch, not what they compute: the generic step (:func:`~climcopilot.tools.emulators.
systems.rk4` over ``Lorenz63.tendency``) launches 47 operations, :class:`Lorenz63Step` 16, with
the same arithmetic up to rounding (tests/test_da_methods.py). :func:`fused_step` gives a
model's fused step, or its own ``step`` when it has none.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from climcopilot.tools.emulators.models import Model
from climcopilot.tools.emulators.systems import Lorenz63

Step = Callable[[Tensor, float], Tensor]


class Lorenz63Step:
    """RK4 for Lorenz-63 with one (3, 7) product per stage.

    ``M`` maps a state (u, v, w) to [sigma (v - u), rho u - v, -beta w | 0, -w, v | u], so a
    stage's tendency is lin + u * quad, and for a stage input z = x + a k the product z @ M is
    x @ M + a (k @ M): one ``addmm`` per stage on the step's first product.
    """

    def __init__(self, system: Lorenz63) -> None:
        s, r, b = system.sigma, system.rho, system.beta
        self.M = torch.tensor([[-s, r, 0.0, 0.0, 0.0, 0.0, 1.0],
                               [s, -1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                               [0.0, 0.0, -b, 0.0, -1.0, 0.0, 0.0]], dtype=torch.float64)

    def __call__(self, x: Tensor, dt: float) -> Tensor:
        """One step of states ``x`` (..., 3) by ``dt`` MTU."""
        states = x if x.dim() == 2 else x.reshape(-1, 3)
        M = self.M.to(device=x.device, dtype=x.dtype)
        first = states @ M

        def tendency(products: Tensor) -> Tensor:
            lin, quad, u = products.split((3, 3, 1), -1)
            return torch.addcmul(lin, u, quad)

        k1 = tendency(first)
        k2 = tendency(torch.addmm(first, k1, M, alpha=0.5 * dt))
        total = torch.add(k1, k2, alpha=2.0)
        k3 = tendency(torch.addmm(first, k2, M, alpha=0.5 * dt))
        total.add_(k3, alpha=2.0)
        total.add_(tendency(torch.addmm(first, k3, M, alpha=dt)))
        step = torch.add(states, total, alpha=dt / 6.0)
        return step if x.dim() == 2 else step.reshape(x.shape)


def fused_step(model: Model) -> Step:
    """The hand-fused step of a built-in system that has one, else ``model.step``."""
    if type(model) is Lorenz63:
        return Lorenz63Step(model)
    return model.step
