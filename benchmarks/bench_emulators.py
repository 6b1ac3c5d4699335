"""RK4 steps per second of the ODE systems, against NumPy and the memory-bandwidth bound.

Lorenz-96 (N = 40, F = 8, dt = 0.05) at 10,000 members, one thread, float64:

- NumPy: the plain vectorised ``np.roll`` RK4, each run in a process of its own, as it runs by
  default and with glibc's malloc told to keep freed memory (``MALLOC_MMAP_THRESHOLD_``,
  ``MALLOC_TRIM_THRESHOLD_``), which removes its page faults;
- ours: the compiled C step (tools/emulators/native.c) in place (``NativeStepper``, what
  ``integrate`` runs where a C compiler is found) and through ``DynamicalSystem.step`` (a new
  tensor per call); the torch RK4 (``rk4`` over the tendency, eager), the hand-fused
  ``Lorenz96Columns`` and the compiled column RK4 (the fallbacks without a C compiler; the
  first compiled call timed with an empty inductor cache and, in a new process, with it
  warm); and ``integrate`` end to end keeping every 100th and every state.

The bound: an RK4 step must read the state and write it once, ``2 * members * N * 8`` bytes;
divided into the triad bandwidth measured here on arrays of the state's size
(``a = b + s c``, 3 arrays moved, as STREAM counts), it gives the most steps per second any
single-pass kernel could reach. Each rate is the median of 3 interleaved runs of >= 1 s.
Then 1 and 100 members (with the ring-CNN emulator, float32, 10,529 parameters), and the
Lorenz-63 and two-scale Lorenz-96 steps, eager and compiled. With a GPU visible, torch RK4 on
it too. Usage: ``.venv/bin/python benchmarks/bench_emulators.py`` (about 5 minutes).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import torch

from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.compiled import compiled_step
from climcopilot.tools.emulators.networks import RingCNN
from climcopilot.tools.emulators.steppers import (
    ColumnStepper,
    Lorenz96Columns,
    NativeStepper,
    model_step,
)
from climcopilot.tools.emulators.systems import cpu_threads, integrate, lorenz96_column_step, rk4

N, F, DT, MEMBERS = 40, 8.0, 0.05, 10_000
REPEATS = 3
NO_PAGE_FAULTS = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def numpy_tendency(x: np.ndarray) -> np.ndarray:
    return (np.roll(x, -1, -1) - np.roll(x, 2, -1)) * np.roll(x, 1, -1) - x + F


def numpy_step(x: np.ndarray) -> np.ndarray:
    k1 = numpy_tendency(x)
    k2 = numpy_tendency(x + 0.5 * DT * k1)
    k3 = numpy_tendency(x + 0.5 * DT * k2)
    k4 = numpy_tendency(x + DT * k3)
    return x + (DT / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)


def rate(advance: Callable[[], None], min_seconds: float = 1.0, sync: bool = False) -> float:
    """Calls of ``advance`` per second over >= ``min_seconds`` (after two warm-up calls: a
    compiled step may compile twice)."""
    advance()
    advance()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        for _ in range(5):
            advance()
        n += 5
        if sync:
            torch.cuda.synchronize()
    return n / (time.perf_counter() - start)


def numpy_rate(members: int, env: dict[str, str] | None = None) -> float:
    """NumPy RK4 steps/s at ``members``, measured in a new process (its own heap)."""
    child = subprocess.run([sys.executable, __file__, "--numpy", str(members)], check=True,
                           capture_output=True, text=True, env={**os.environ, **(env or {})})
    return float(child.stdout)


def numpy_child(members: int) -> None:
    print(rate(chained(numpy_step, 8.0 + 0.01 * np.random.default_rng(0).standard_normal(
        (members, N)))))


def triad_bandwidth(n_values: int) -> float:
    """Bytes/s of ``a = b + s c`` on float64 arrays of ``n_values`` (3 arrays counted), best
    of 20 repetitions of 20 triads."""
    a, b, c = (torch.rand(n_values, dtype=torch.float64) for _ in range(3))
    best = 0.0
    for _ in range(20):
        start = time.perf_counter()
        for _ in range(20):
            torch.add(b, c, alpha=0.5, out=a)
        best = max(best, 20 * 3 * 8 * n_values / (time.perf_counter() - start))
    return best


def compiled_columns(system, x: torch.Tensor) -> ColumnStepper:
    """The compiled column RK4 of Lorenz-96 (``integrate``'s path for long runs without the C
    step)."""
    return ColumnStepper(system, x, compiled_step(lorenz96_column_step, x.device))


def first_compiled_call() -> float:
    """Seconds of the first compiled Lorenz-96 step in this process (compiles, or loads from
    the inductor cache)."""
    system = get_system("lorenz96", N=N, F=F)
    start = time.perf_counter()
    compiled_columns(system, system.initial_state((MEMBERS,), device="cpu")).advance(DT)
    return time.perf_counter() - start


def chained(step: Callable, x) -> Callable[[], None]:
    """A call that replaces ``x`` by ``step(x)``."""
    state = [x]

    def advance() -> None:
        state[0] = step(state[0])

    return advance


def advancing(stepper, dt: float = DT) -> Callable[[], None]:
    return lambda: stepper.advance(dt)


def ten_thousand_members() -> None:
    """The Must-show table: Lorenz-96 at 10,000 members."""
    system = get_system("lorenz96", N=N, F=F)
    x = system.initial_state((MEMBERS,), device="cpu")
    cold_s = first_compiled_call()  # empty inductor cache (a new folder)
    warm_s = float(subprocess.run([sys.executable, __file__, "--first-compiled-call"],
                                  check=True, capture_output=True, text=True).stdout)
    compiled = compiled_columns(system, x)
    assert isinstance(system.stepper(x), NativeStepper), "no C compiler: the C rows are missing"

    def integrate_every(every: int) -> Callable[[], float]:
        return lambda: 100 * rate(lambda: integrate(system, x, DT, 100, every=every))

    runs: dict[str, Callable[[], float]] = {
        "NumPy np.roll RK4 (own process, default malloc)": lambda: numpy_rate(MEMBERS),
        "NumPy np.roll RK4 (own process, no page faults)":
            lambda: numpy_rate(MEMBERS, NO_PAGE_FAULTS),
        "C step in place (NativeStepper: integrate's default)":
            lambda: rate(advancing(NativeStepper(system, x))),
        "C step through DynamicalSystem.step (a new tensor per call)":
            lambda: rate(chained(lambda s: system.step(s, DT), x)),
        "torch rk4 over the tendency (eager, per call)":
            lambda: rate(chained(lambda s: rk4(system.tendency, s, DT), x)),
        "hand-fused Lorenz96Columns (torch, no C compiler)":
            lambda: rate(advancing(Lorenz96Columns(x, F))),
        "compiled column RK4 (torch.compile, long runs without C)":
            lambda: rate(advancing(compiled)),
        "integrate(every=100), 100 steps a call (C step)": integrate_every(100),
        "integrate(every=1), 100 steps a call (C step)": integrate_every(1),
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(REPEATS):
        for name, measure in runs.items():
            rates[name].append(measure())
    bandwidth = triad_bandwidth(MEMBERS * N)
    bytes_per_step = 2 * MEMBERS * N * 8
    bound = bandwidth / bytes_per_step
    numpy = statistics.median(rates["NumPy np.roll RK4 (own process, default malloc)"])
    numpy_nf = statistics.median(rates["NumPy np.roll RK4 (own process, no page faults)"])
    print(f"\nLorenz-96, N = {N}, {MEMBERS:,} members, 1 thread; triad bandwidth "
          f"{bandwidth / 1e9:.1f} GB/s on {MEMBERS * N * 8 / 1e6:.1f} MB arrays; bound = "
          f"{bandwidth / 1e9:.1f} GB/s / {bytes_per_step / 1e6:.1f} MB per step = {bound:,.0f} "
          f"steps/s; first compiled call {cold_s:.1f} s (empty inductor cache), "
          f"{warm_s:.1f} s (warm cache, new process)")
    print("| implementation | steps/s (median) | runs | / NumPy | / NumPy without faults "
          "| fraction of bound |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"| {name} | {median:,.0f} | {', '.join(f'{v:,.0f}' for v in values)} | "
              f"{median / numpy:.2f} | {median / numpy_nf:.2f} | {median / bound:.3f} |")


def small_ensembles() -> None:
    system = get_system("lorenz96", N=N, F=F)
    cnn = RingCNN().eval()
    gpu = torch.cuda.is_available()
    header = ("| members | NumPy RK4 | C step (in place) | torch rk4 (eager) | hand-fused | "
              "compiled | CNN emulator |"
              + (" torch RK4 on GPU |" if gpu else ""))
    print("\nLorenz-96 steps/s at small ensembles (one run each)\n" + header)
    print("|" + " --- |" * (header.count("|") - 1))
    for members in (1, 100):
        x = system.initial_state((members,), device="cpu")
        cells = [numpy_rate(members), rate(advancing(NativeStepper(system, x))),
                 rate(chained(lambda s: rk4(system.tendency, s, DT), x)),
                 rate(advancing(Lorenz96Columns(x, F))),
                 rate(advancing(compiled_columns(system, x))),
                 rate(chained(lambda s: s + cnn(s), x.float()))]
        if gpu:
            cells.append(rate(chained(lambda s: rk4(system.tendency, s, DT), x.cuda()),
                              sync=True))
        print(f"| {members:,} | " + " | ".join(f"{c:,.0f}" for c in cells) + " |")


def other_systems() -> None:
    print("\nLorenz-63 and two-scale Lorenz-96, steps/s (one run each): the system's step in a "
          "loop (the C step for Lorenz-63), the torch rk4 over its tendency, and the torch step "
          "compiled (which integrate uses for long runs where ``compilable`` and there is no C "
          "step)")
    print("| system | members | step | torch rk4 (eager) | torch step compiled | compilable |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, members in (("lorenz63", 10_000), ("lorenz96_two_scale", 100)):
        system = get_system(name)
        x, dt = system.initial_state((members,), device="cpu"), system.default_dt
        fast = compiled_step(model_step, x.device)
        cells = [rate(chained(lambda s, m=system, d=dt: m.step(s, d), x)),
                 rate(chained(lambda s, m=system, d=dt: rk4(m.tendency, s, d), x)),
                 rate(chained(lambda s, m=system, d=dt, f=fast: f(s, d, m), x))]
        print(f"| {name} | {members:,} | " + " | ".join(f"{c:,.0f}" for c in cells)
              + f" | {system.compilable} |")


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, torch {torch.__version__}, "
          f"numpy {np.__version__}; load average {os.getloadavg()[0]:.1f}")
    with cpu_threads(1), torch.no_grad():
        ten_thousand_members()
        small_ensembles()
        other_systems()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--numpy"]:
        numpy_child(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--first-compiled-call"]:
        with cpu_threads(1), torch.no_grad():
            print(first_compiled_call())
    else:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench_inductor_")
        main()
