"""`climcopilot doctor`: is the install whole? Kernel, sandbox, memory, embedder, endpoint, GPU."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from climcopilot.agent.config import Settings


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    essential: bool = True


def _kernel() -> str:
    from climcopilot.sandbox.isolation import SandboxPolicy, describe
    from climcopilot.sandbox.kernel import KernelSession

    started = time.perf_counter()
    policy = SandboxPolicy.from_env()
    with tempfile.TemporaryDirectory() as ws, KernelSession(Path(ws), timeout=60) as kernel:
        obs = kernel.execute("print(6 * 7)")
        identity = kernel.probe() if policy.isolate else None
    if obs.stdout.strip() != "42":
        raise RuntimeError(f"kernel answered {obs.stdout!r} / {obs.error}")
    if identity is not None and identity.problems():
        raise RuntimeError("the kernel is not confined: " + "; ".join(identity.problems()))
    inside = f"; inside: {identity.line()}" if identity is not None else ""
    return (f"started and ran a cell in {time.perf_counter() - started:.1f} s; "
            + describe(policy) + inside)


def _sandbox() -> str:
    from climcopilot.sandbox.isolation import bubblewrap

    path = bubblewrap()
    if path is None:
        raise RuntimeError("bubblewrap missing or not working: the kernel runs with a scrubbed "
                           "environment and limits only (apt-get install bubblewrap)")
    return f"bubblewrap at {path}"


def _memory(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        from climcopilot.knowledge.memory import Memory

        memory = Memory(settings.home)
        probe = settings.home / "memory" / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
        return f"{memory.count()} findings in {settings.home / 'memory'} (writable)"
    return check


def _integrity(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        from climcopilot.knowledge.memory import Memory

        problem = Memory(settings.home).integrity_summary()
        if problem is not None:
            raise RuntimeError(problem)
        return "journal and index consistent, no quarantined lines"
    return check


def _embedder() -> str:
    from climcopilot.knowledge.embedder import MODEL_NAME, embed

    started = time.perf_counter()
    dim = embed(["sea surface temperature"]).shape[1]
    return f"{MODEL_NAME} offline, {dim} dimensions, in {time.perf_counter() - started:.1f} s"


def _endpoint(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        if not settings.base_url:
            return "no OPENAI_BASE_URL: the offline brain answers"
        import openai

        client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key,
                               max_retries=0, timeout=5.0)
        from climcopilot.agent.brains.openai.probe import probe

        models = [m.id for m in client.models.list().data]
        return f"{settings.base_url} serves {len(models)} models; {probe(settings)}"
    return check


def _gpu() -> str:
    import torch

    from climcopilot.sandbox.isolation import gpu_devices

    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)} ({len(gpu_devices())} device nodes bound)"
    return "no GPU: tools run on the CPU"


def run_checks(settings: Settings) -> list[CheckResult]:
    """Each check's outcome, one line of detail each."""
    checks: list[tuple[str, Callable[[], str], bool]] = [
        ("kernel", _kernel, True), ("sandbox", _sandbox, False),
        ("memory", _memory(settings), True), ("integrity", _integrity(settings), False),
        ("embedder", _embedder, True),
        ("endpoint", _endpoint(settings), False), ("gpu", _gpu, False)]
    results = []
    for name, check, essential in checks:
        try:
            results.append(CheckResult(name, True, check(), essential))
        except Exception as exc:  # a check that fails reports, it does not stop the others
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            results.append(CheckResult(name, False, detail, essential))
    return results
