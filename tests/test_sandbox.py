"""The sandbox, attacked through `climcopilot sandbox exec`: each attempt fails inside, the
kernel or session survives where it should, and the CLI says so in one line per cell."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from conftest import findings_in, run_cli

from climcopilot.sandbox.isolation import bubblewrap

needs_bwrap = pytest.mark.skipif(bubblewrap() is None, reason="bubblewrap is not installed")
ROOT = Path(__file__).resolve().parents[1]


def exec_cells(*cells: str, timeout: float = 60, env: dict[str, str] | None = None):
    """Run cells in one fresh sandboxed kernel; returns (json result, stderr lines, code)."""
    argv = ["sandbox", "exec", "--json", "--timeout", str(timeout)]
    for cell in cells:
        argv += ["-c", cell]
    proc = run_cli(*argv, env=env)
    assert proc.stdout.startswith("{"), f"no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout), proc.stderr.strip().splitlines(), proc.returncode


@needs_bwrap
def test_no_network_even_to_host_loopback(home: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(15)
    accepted: list[object] = []
    threading.Thread(target=lambda: accepted.append(_accept(listener)), daemon=True).start()
    port = listener.getsockname()[1]
    out, err, code = exec_cells(
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)",
        "print('kernel alive')")
    listener.close()
    assert code == 1 and out["cells"][0]["error"].split(":")[0] in (
        "ConnectionRefusedError", "OSError", "TimeoutError")
    assert out["cells"][1]["stdout"] == "kernel alive\n"
    assert accepted in ([], [None])  # the host's listener never saw a connection
    assert len(err) == 1 and err[0].startswith("climcopilot: cell 1: ")


def _accept(listener: socket.socket) -> object:
    try:
        return listener.accept()
    except OSError:
        return None


@needs_bwrap
def test_host_is_read_only_and_home_hidden(home: Path, tmp_path: Path) -> None:
    secret = Path.home() / ".ssh" / "id_climcopilot_test"
    secret.parent.mkdir(exist_ok=True)
    created = not secret.exists()
    secret.write_text("PRIVATE KEY")
    outside = tmp_path / "outside.txt"
    try:
        out, err, code = exec_cells(
            "open('/planted.txt', 'w').write('x')",
            f"open({str(ROOT / 'planted.txt')!r}, 'w').write('x')",  # a checkout under /tmp:
            # the sandbox's private /tmp
            f"open({str(outside)!r}, 'w').write('x')",   # lands in the sandbox's private /tmp
            f"print(open({str(secret)!r}).read())",
            "open('inside.txt', 'w').write('ok'); print('workspace writable')")
    finally:
        if created:
            secret.unlink()
    assert "Read-only file system" in out["cells"][0]["error"]
    under_tmp = ROOT.is_relative_to("/tmp")
    assert (out["cells"][1]["error"] is None) == under_tmp
    assert not Path("/planted.txt").exists() and not (ROOT / "planted.txt").exists()
    assert not outside.exists()
    assert out["cells"][3]["error"].startswith("FileNotFoundError")
    assert "PRIVATE KEY" not in json.dumps(out)
    assert out["cells"][4]["stdout"] == "workspace writable\n"
    assert (Path(out["workspace"]) / "inside.txt").read_text() == "ok"
    failed = [" cell 1", " cell 4"] if under_tmp else [" cell 1", " cell 2", " cell 4"]
    assert [line.split(":")[1] for line in err] == failed


def test_secrets_do_not_reach_the_kernel(home: Path) -> None:
    out, _, code = exec_cells("import os\nprint(os.environ.get('OPENAI_API_KEY'))\n"
                              "print(sorted(k for k in os.environ if 'KEY' in k or 'TOKEN' in k))",
                              env={"OPENAI_API_KEY": "sk-do-not-leak", "HF_TOKEN": "hf-secret"})
    assert code == 0 and out["cells"][0]["stdout"] == "None\n[]\n"
    assert "do-not-leak" not in json.dumps(out)


def test_memory_cap_raises_and_the_kernel_survives(home: Path) -> None:
    out, err, code = exec_cells("kept = 7", "x = bytearray(10 * 1024 * 1024 * 1024)",
                                "print(kept)", env={"CLIMCOPILOT_KERNEL_MEMORY_MB": "1024"})
    assert code == 1 and out["cells"][1]["error"].startswith("MemoryError (over the kernel's "
                                                             "1024 MB memory cap")
    assert out["cells"][2]["stdout"] == "7\n" and len(err) == 1


def test_endless_loop_is_interrupted_and_state_kept(home: Path) -> None:
    out, err, code = exec_cells("kept = 7", "while True:\n    pass", "print(kept)", timeout=4)
    assert out["cells"][1]["error"] == "TimeoutError: cell ran longer than 4 s and was interrupted"
    assert out["cells"][2]["stdout"] == "7\n"
    assert err == ["climcopilot: cell 2: TimeoutError: cell ran longer than 4 s and was "
                   "interrupted"]


@needs_bwrap
def test_fork_bomb_is_capped(home: Path) -> None:
    bomb = ("import os, time\nn = 0\ntry:\n    for _ in range(10000):\n"
            "        if os.fork() == 0:\n            time.sleep(5)\n            os._exit(0)\n"
            "        n += 1\nexcept OSError as exc:\n    print('fork refused after', n)\n")
    out, _, _ = exec_cells(bomb, "print('next cell runs')", timeout=60)
    refused_after = int(out["cells"][0]["stdout"].split()[-1])
    assert refused_after <= 256  # the process cap, far below the 10,000 asked for
    assert out["cells"][1]["stdout"] == "next cell runs\n" or out["cells"][1]["kernel_restarted"]


def test_killed_kernel_restarts_and_says_so(home: Path) -> None:
    out, err, code = exec_cells("kept = 7", "import os\nos._exit(1)", "print(kept)",
                                "import os\nos._exit(1)", "print('lost' in globals())")
    assert out["cells"][1]["kernel_restarted"] and "restarted" in out["cells"][1]["error"]
    assert "replayed 1 of 1 earlier cells" in out["cells"][1]["error"]
    assert out["cells"][2]["stdout"] == "7\n"  # a new kernel, rebuilt from the cell before
    assert "replayed 2 of 2 earlier cells" in out["cells"][3]["error"]
    assert len(err) == 2 and all("KernelDied" in line for line in err)


def test_earlier_results_and_memory_survive_the_attacks(home: Path) -> None:
    script = home.parent / "script.json"
    script.write_text(json.dumps([{"tool": "data.open_series", "arguments": {"name": "soi"}},
                                  {"tool": "data.open_series", "arguments": {"name": "nino3"}},
                                  {"tool": "analysis.lag_correlation",
                                   "arguments": {"a": "soi", "b": "nino3"}},
                                  {"answer": "SOI and Nino-3 are anti-correlated."}]))
    first = run_cli("ask", "--json", "--brain", "scripted", "--script", str(script),
                    "Correlate the SOI with Nino-3")
    assert first.returncode == 0, first.stderr
    before = json.loads(first.stdout)
    figures = {f: Path(f).read_bytes() for f in before["figures"]}
    exec_cells("import os, shutil\nshutil.rmtree(os.path.expanduser('~/.climcopilot'), "
               "ignore_errors=True)", "import os\nos._exit(1)",
               f"open({str(home / 'memory' / 'chroma.sqlite3')!r}, 'w').write('')")
    assert findings_in(home) == 1
    assert all(Path(f).read_bytes() == data for f, data in figures.items())
    exported = run_cli("export", before["session_id"], "--to", str(home.parent / "s.ipynb"))
    assert exported.returncode == 0 and "3 code cells" in exported.stdout
