"""Fit the emulator's weights (weights.pt) to simulated Lorenz-96 data: ``python train.py``.

Training states are taken every 0.5 MTU from 64 free runs of the F = 8, N = 40 ring (after a
10 MTU spin-up); the targets are the exact tendencies. About a minute on one CPU core.
"""

from __future__ import annotations

from pathlib import Path

import torch
from l96_emulator.network import RingCNN

from climcopilot.tools.sdk import get_system, integrate

WEIGHTS = Path(__file__).parent / "l96_emulator" / "weights.pt"


def training_states(n_runs: int = 64, span: float = 200.0, seed: int = 1) -> torch.Tensor:
    """Attractor states (n, 40) of Lorenz-96, float64."""
    system = get_system("lorenz96")
    dt = system.default_dt
    gen = torch.Generator().manual_seed(seed)
    x0 = system.base_state() + torch.randn(n_runs, system.dim, generator=gen, dtype=torch.float64)
    x0 = integrate(system, x0, dt, round(10 / dt), every=round(10 / dt))[-1]
    run = integrate(system, x0, dt, round(span / dt), every=round(0.5 / dt))[1:]
    return run.reshape(-1, system.dim)


def main() -> None:
    torch.manual_seed(0)
    system = get_system("lorenz96")
    x = training_states()
    f = system.tendency(x)
    model = RingCNN()
    model.x_mean.fill_(float(x.mean()))
    model.x_std.fill_(float(x.std()))
    model.f_std.fill_(float(f.std()))
    x32, f32 = x.float(), f.float()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=3000)
    for it in range(3000):
        batch = torch.randint(len(x32), (256,))
        loss = ((model(x32[batch]) - f32[batch]) ** 2).mean() / model.f_std**2
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        scheduler.step()
        if it % 500 == 0:
            print(f"step {it}: relative mse {loss.item():.2e}")
    with torch.no_grad():
        rel = ((model(x32) - f32).pow(2).mean() / f32.pow(2).mean()).sqrt()
    print(f"relative RMS tendency error on the training states: {rel:.4f}")
    torch.save(model.state_dict(), WEIGHTS)
    print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
