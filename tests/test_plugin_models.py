"""The model protocol: built-in systems satisfy it, and TorchModel wraps a torch module."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators.models import Model, TorchModel, builtin_systems, resolve_model
from climcopilot.tools.emulators.systems import Lorenz96


class L96Tendency(nn.Module):
    """The Lorenz-96 equations written out as a module (no parameters)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.roll(-1, -1) - x.roll(2, -1)) * x.roll(1, -1) - x + 8.0


def test_built_in_systems_are_models() -> None:
    for name in builtin_systems():
        assert isinstance(resolve_model(name), Model), name


def test_a_tendency_module_steps_like_the_built_in_rk4() -> None:
    model = TorchModel(L96Tendency(), dim=40, dt=0.05, tendency=True)
    x = Lorenz96().initial_state((3, 5), device="cpu")
    stepped = model.step(x, 0.05)
    assert stepped.shape == (3, 5, 40) and stepped.dtype == torch.float64
    assert torch.allclose(stepped, Lorenz96().step(x, 0.05), rtol=0, atol=1e-12)


def test_a_float32_step_module_serves_float64_states_at_its_own_dt_only() -> None:
    linear = nn.Linear(4, 4)
    model = TorchModel(linear, dim=4, dt=0.1)
    x = torch.randn(2, 4, dtype=torch.float64)
    out = model.step(x, 0.1)
    assert out.dtype == torch.float64
    assert torch.allclose(out, linear(x.float()).double())
    with pytest.raises(ToolError, match="steps by its fixed dt=0.1 MTU, not 0.05"):
        model.step(x, 0.05)
