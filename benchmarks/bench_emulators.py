"""Model steps per second for Lorenz-96 (N = 40, F = 8, dt = 0.05) at 1, 100 and 10,000 members.

Ours: ``DynamicalSystem.step`` (torch RK4, float64) and one step of the ring-CNN emulator
(float32, default size, untrained weights: the cost is the same) vs a plain vectorised NumPy
RK4 loop; plus torch RK4 on the GPU when one is visible. One torch thread (as the tools run).
Each figure is the best of 3 timed runs (>= 1 s each), which damps noise from other jobs on a
shared machine. Usage: ``.venv/bin/python benchmarks/bench_emulators.py`` (about a minute).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

import numpy as np
import torch

from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.networks import RingCNN
from climcopilot.tools.emulators.systems import cpu_threads

N, F, DT = 40, 8.0, 0.05


def numpy_tendency(x: np.ndarray) -> np.ndarray:
    return (np.roll(x, -1, -1) - np.roll(x, 2, -1)) * np.roll(x, 1, -1) - x + F


def numpy_step(x: np.ndarray) -> np.ndarray:
    k1 = numpy_tendency(x)
    k2 = numpy_tendency(x + 0.5 * DT * k1)
    k3 = numpy_tendency(x + 0.5 * DT * k2)
    k4 = numpy_tendency(x + DT * k3)
    return x + (DT / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)


def steps_per_second(step: Callable, x, min_seconds: float = 1.0, repeats: int = 3) -> float:
    """Best of ``repeats`` rates (steps of ``step`` per second on ``x``, each run repeated until
    ``min_seconds`` have passed); CUDA work is synchronised before the clock is read."""
    sync = torch.cuda.synchronize if isinstance(x, torch.Tensor) and x.is_cuda else None
    x = step(x)  # warm-up
    best = 0.0
    for _ in range(repeats):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < min_seconds:
            for _ in range(10):
                x = step(x)
            n += 10
            if sync is not None:
                sync()
        best = max(best, n / (time.perf_counter() - start))
    return best


def main() -> None:
    system = get_system("lorenz96", N=N, F=F)
    cnn = RingCNN().eval()
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}")
    gpu = torch.cuda.is_available()
    header = "| members | numpy RK4 (steps/s) | torch RK4 (steps/s) | torch / numpy |"
    header += " CNN emulator (steps/s) |" + (" torch RK4 on GPU (steps/s) |" if gpu else "")
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    with cpu_threads(1), torch.no_grad():
        for members in (1, 100, 10_000):
            x = system.initial_state((members,), device="cpu")
            numpy_rate = steps_per_second(numpy_step, x.numpy().copy())
            torch_rate = steps_per_second(lambda s: system.step(s, DT), x)
            cells = [f"{numpy_rate:,.0f}", f"{torch_rate:,.0f}", f"{torch_rate / numpy_rate:.2f}",
                     f"{steps_per_second(lambda s: s + cnn(s), x.float()):,.0f}"]
            if gpu:
                cells.append(f"{steps_per_second(lambda s: system.step(s, DT), x.cuda()):,.0f}")
            print(f"| {members:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
