"""The session kernel: a real ipykernel through jupyter_client."""

from __future__ import annotations

from pathlib import Path

import pytest

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
