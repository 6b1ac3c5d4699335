"""The compiled RK4 path of ``integrate``: same trajectory as NumPy, a working fallback, and
compiling inside the sandboxed kernel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_cli
from test_da_systems import numpy_lorenz63, numpy_lorenz96, numpy_rk4, on_attractor

from climcopilot.sandbox.isolation import bubblewrap
from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators import compiled
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.systems import integrate


@pytest.mark.slow
@pytest.mark.parametrize("name, tendency, dim", [("lorenz96", numpy_lorenz96, 40),
                                                 ("lorenz63", numpy_lorenz63, 3)])
def test_compiled_trajectory_is_the_numpy_one(monkeypatch, recwarn, name, tendency, dim):
    monkeypatch.setenv("CLIMCOPILOT_NATIVE", "never")  # else the C step, ahead of compiling
    monkeypatch.setenv("CLIMCOPILOT_COMPILE", "always")
    x0 = on_attractor(tendency, dim, members=64)
    expected = numpy_rk4(tendency, x0, 0.005, 400)
    with torch.no_grad():
        got = integrate(get_system(name), torch.from_numpy(x0), 0.005, 400)
    assert not [w for w in recwarn if "torch.compile is not available" in str(w.message)]
    assert np.abs(got.numpy() - expected).max() < 1e-11


def test_without_a_compiler_the_eager_step_runs(monkeypatch):
    monkeypatch.setenv("CLIMCOPILOT_NATIVE", "never")  # else the C step, ahead of compiling
    monkeypatch.setenv("CLIMCOPILOT_COMPILE", "always")
    monkeypatch.setenv("CXX", "no-such-compiler")
    monkeypatch.setattr(compiled, "_FAILED", {})
    system = get_system("lorenz96")
    x0 = system.initial_state((6,), device="cpu")
    with pytest.warns(RuntimeWarning, match=r"no C\+\+ compiler .* eager RK4 step runs instead"):
        got = integrate(system, x0, 0.05, 40, every=4)
    monkeypatch.setenv("CLIMCOPILOT_COMPILE", "never")
    assert torch.equal(got, integrate(system, x0, 0.05, 40, every=4))


def test_compile_only_for_long_runs(monkeypatch):
    monkeypatch.delenv("CLIMCOPILOT_COMPILE", raising=False)
    assert not compiled.choose_compiled(1.0)
    assert compiled.choose_compiled(10 * compiled.COMPILE_AFTER_S)
    monkeypatch.setenv("CLIMCOPILOT_COMPILE", "never")
    assert not compiled.choose_compiled(1e9)
    monkeypatch.setenv("CLIMCOPILOT_COMPILE", "sometimes")
    with pytest.raises(ToolError, match="CLIMCOPILOT_COMPILE='sometimes' is not one of auto"):
        compiled.choose_compiled(1.0)


def test_an_unwritable_cache_folder_gives_way_to_the_temporary_one(monkeypatch, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(blocker / "cache"))
    assert compiled.ensure_cache_dir() is None
    folder = Path(compiled.os.environ["TORCHINDUCTOR_CACHE_DIR"])
    assert folder.is_dir() and folder != blocker / "cache"


@pytest.mark.slow
@pytest.mark.skipif(bubblewrap() is None, reason="bubblewrap is not installed")
def test_compiling_works_in_the_sandboxed_kernel(home):
    code = """
import os, warnings, torch
warnings.simplefilter('error', RuntimeWarning)
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.systems import integrate
s = get_system('lorenz96')
x = s.initial_state((100,), device='cpu')
os.environ['CLIMCOPILOT_NATIVE'] = 'never'  # else the C step, ahead of compiling
runs = {}
for mode in ('always', 'never'):
    os.environ['CLIMCOPILOT_COMPILE'] = mode
    with torch.no_grad():
        runs[mode] = integrate(s, x, 0.01, 100)
print(float((runs['always'] - runs['never']).abs().max()))
"""
    proc = run_cli("sandbox", "exec", "--json", "--timeout", "400", "-c", code, timeout=500)
    cell = json.loads(proc.stdout)["cells"][0]
    assert cell["error"] is None, cell["error"]
    assert float(cell["stdout"]) < 1e-11  # compiled vs hand-fused eager: rounding only
