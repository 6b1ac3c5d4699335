"""The compiled C RK4 steps (tools/emulators/native.c): the NumPy RK4's numbers, only where no
derivative or trace needs torch, a clear fallback, and a library the sandbox cannot replace."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from conftest import run_cli
from test_da_systems import numpy_lorenz63, numpy_lorenz96, numpy_rk4, on_attractor

from climcopilot.sandbox.isolation import bubblewrap
from climcopilot.tools.base import ToolError
from climcopilot.tools.emulators import native
from climcopilot.tools.emulators.catalog import get_system
from climcopilot.tools.emulators.steppers import NativeStepper
from climcopilot.tools.emulators.systems import Lorenz96, integrate, rk4

pytestmark = pytest.mark.skipif(native.library() is None,
                                reason="no C compiler here: the torch steps run instead")


@pytest.mark.parametrize("name, tendency, dim, members", [
    ("lorenz96", numpy_lorenz96, 40, 24), ("lorenz63", numpy_lorenz63, 3, 100),
    ("lorenz63", numpy_lorenz63, 3, 13),  # not a multiple of the 8 members done together
])
def test_c_steps_are_the_numpy_rk4(name, tendency, dim, members):
    x0 = on_attractor(tendency, dim, members)
    expected = numpy_rk4(tendency, x0, 0.01, 25)[-1]
    x = torch.from_numpy(x0.copy())
    with torch.no_grad():
        assert native.usable(x)
        got = get_system(name).advance(x, 0.01, 25)
    assert np.abs(got.numpy() - expected).max() < 1e-12
    assert np.array_equal(x.numpy(), x0)  # the caller's states are not touched


def test_lorenz96_c_step_is_the_torch_rk4():
    # the same operations in the same order; on CPUs with FMA (where torch's add(x, k, alpha)
    # is one rounding, as the C fma is) the same bits
    system, gen = get_system("lorenz96"), torch.Generator().manual_seed(2)
    x = 8 + torch.randn(24, 40, dtype=torch.float64, generator=gen)
    with torch.no_grad():
        reference = rk4(system.tendency, x, 0.05)
        got = system.step(x, 0.05)
    torch.testing.assert_close(got, reference, rtol=0, atol=1e-13)


def test_leading_dimensions_and_strided_states():
    system = get_system("lorenz96")
    x = torch.from_numpy(on_attractor(numpy_lorenz96, 40, 30)).reshape(5, 6, 40)
    expected = numpy_rk4(numpy_lorenz96, x.numpy(), 0.05, 3)[-1]
    strided = x.transpose(0, 1)  # (6, 5, 40), not contiguous
    with torch.no_grad():
        got = system.advance(strided, 0.05, 3)
    assert got.shape == strided.shape
    assert np.abs(got.numpy() - expected.transpose(1, 0, 2)).max() < 1e-12


def test_derivatives_and_traces_take_the_torch_step():
    system = get_system("lorenz63")
    x = torch.tensor([[1.0, 2.0, 20.0]], dtype=torch.float64, requires_grad=True)
    system.advance(x, 0.01, 5).sum().backward()  # the C step records no graph
    assert x.grad is not None and bool(x.grad.abs().sum() > 0)
    assert not native.usable(x) and not native.usable(x.detach().float())
    jacobian = torch.func.jacrev(lambda s: system.step(s, 0.01))(x.detach()[0])
    assert jacobian.shape == (3, 3) and bool(jacobian.abs().sum() > 0)
    sigma = torch.tensor(10.0, dtype=torch.float64, requires_grad=True)
    with_tensor_parameter = get_system("lorenz63")
    with_tensor_parameter.sigma = sigma  # states without grad, a parameter with it
    with_tensor_parameter.step(x.detach(), 0.01).sum().backward()
    assert sigma.grad is not None and bool(sigma.grad != 0)
    traced = torch.jit.trace(lambda s: system.step(s, 0.01), (x.detach(),), check_trace=False)
    later = x.detach() + 1  # a trace of the C call would have recorded nothing
    torch.testing.assert_close(traced(later), system.step(later, 0.01), rtol=1e-12, atol=1e-12)


def test_integrate_uses_the_c_step_and_never_turns_it_off(monkeypatch):
    system = get_system("lorenz96")
    x0 = system.initial_state((16,), device="cpu")
    assert isinstance(system.stepper(x0), NativeStepper)
    with torch.no_grad():
        fast = integrate(system, x0, 0.05, 40, every=4)
        monkeypatch.setenv("CLIMCOPILOT_NATIVE", "never")
        assert not isinstance(system.stepper(x0), NativeStepper)
        slow = integrate(system, x0, 0.05, 40, every=4)
    assert (fast - slow).abs().max() < 1e-11
    monkeypatch.setenv("CLIMCOPILOT_NATIVE", "sometimes")
    with pytest.raises(ToolError, match="CLIMCOPILOT_NATIVE='sometimes' is not auto or never"):
        native.usable(x0)


def test_a_blow_up_is_still_reported():
    system = Lorenz96()
    with pytest.raises(ToolError, match="blew up"):
        integrate(system, system.initial_state((4,), device="cpu") * 1e3, 0.5, 200)


def test_without_a_compiler_the_torch_step_runs_and_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    monkeypatch.setattr(native, "build_folders", lambda: [tmp_path / "a", tmp_path / "b"])
    native._load.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="compiled Lorenz-63/96 steps are unavailable"):
            assert native.library() is None
        x = get_system("lorenz63").initial_state((4,), device="cpu")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert not native.usable(x)
            got = get_system("lorenz63").advance(x, 0.01, 10)
        expected = numpy_rk4(numpy_lorenz63, x.numpy(), 0.01, 10)[-1]
        assert np.abs(got.numpy() - expected).max() < 1e-12
    finally:
        native._load.cache_clear()


def test_a_build_is_named_by_its_source_and_replaces_stale_ones(tmp_path):
    stale = tmp_path / "native-0000000000000000.so"
    stale.write_bytes(b"an earlier build")
    built = native.build(tmp_path)
    assert built.name == native.library_name() and built.stat().st_size > 1000
    assert built.stat().st_mode & 0o005 == 0o005  # readable and loadable by any uid
    assert not stale.exists() and not list(tmp_path.glob("*.partial"))


@pytest.mark.skipif(not bubblewrap(), reason="bubblewrap is not installed")
def test_the_sandbox_loads_the_host_library_and_cannot_replace_it(home):
    # a cell that could overwrite the shared library would run its code in every later
    # process that loads it, the host's included
    code = """
import json, shutil
from climcopilot.tools.emulators import native
lib = native.library()
folder = native.build_folders()[0]
attempts = {}
for name, act in (("overwrite", lambda: (folder / native.library_name()).write_bytes(b"x")),
                  ("add", lambda: (folder / "native-evil.so").write_bytes(b"x")),
                  ("remove", lambda: (folder / native.library_name()).unlink()),
                  ("rename", lambda: shutil.move(str(folder), "/tmp/moved"))):
    try:
        act()
        attempts[name] = "succeeded"
    except OSError as exc:
        attempts[name] = type(exc).__name__
print(json.dumps({"loaded": lib._name if lib else None, "attempts": attempts}))
"""
    proc = run_cli("sandbox", "exec", "--json", "-c", code, timeout=240)
    cell = json.loads(proc.stdout)["cells"][0]
    assert cell["error"] is None, cell["error"]
    report = json.loads(cell["stdout"])
    host_library = native.build_folders()[0] / native.library_name()
    assert report["loaded"] == str(host_library)  # the host's build, not one of its own
    assert all(outcome != "succeeded" for outcome in report["attempts"].values()), report
    assert host_library.stat().st_size > 1000
