"""A session exports as a notebook that re-runs top to bottom with nbclient."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
from conftest import run_cli
from nbclient import NotebookClient

from climcopilot.sandbox.export import session_notebook
from climcopilot.sandbox.observation import MIME, Observation


def test_exported_session_reruns_with_nbclient(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([
        {"tool": "data.open_series", "arguments": {"name": "hadcrut5"}},
        {"code": "import matplotlib.pyplot as plt\nplt.plot(hadcrut5['time'], hadcrut5)\n"
                 "print(round(float(hadcrut5.sel(time='1850').item()), 3))"},
        {"answer": "plotted"}]))
    asked = run_cli("ask", "--json", "--brain", "scripted", "--script", str(script),
                    "Plot the HadCRUT5 global temperature")
    assert asked.returncode == 0, asked.stderr
    session_id = json.loads(asked.stdout)["session_id"]
    target = tmp_path / "out" / "session.ipynb"
    proc = run_cli("export", session_id, "--to", str(target))
    assert proc.returncode == 0, proc.stderr
    nb = nbformat.read(str(target), as_version=4)
    assert nb.cells[0].source.startswith("# Plot the HadCRUT5 global temperature")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code", "markdown"]
    run_dir = tmp_path / "rerun"
    run_dir.mkdir()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(run_dir)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[2].outputs if o.output_type == "stream")
    # Independent route: the first row of the HadCRUT5 annual file is 1850, -0.41765878 degC.
    assert printed.strip() == "-0.418"
    # The tool cell re-ran to the same result as in the session.
    original = json.loads(asked.stdout)["steps"][0]["summary"]
    rerun = [o["data"][MIME]["result"] for o in nb.cells[1].outputs if MIME in o.get("data", {})]
    assert rerun and rerun[0]["summary"] in original


def test_export_of_unknown_session_is_one_line(home: Path, tmp_path: Path) -> None:
    proc = run_cli("export", "no-such-session", "--to", str(tmp_path / "x.ipynb"))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "no session 'no-such-session'" in proc.stderr
    bad = run_cli("export", "x", "--to", str(tmp_path / "x.txt"))
    assert bad.returncode == 2 and "must end in .ipynb" in bad.stderr


def test_export_embeds_only_pngs_inside_the_workspace(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))  # the magic number, then any bytes
    ws, outside = tmp_path / "ws", tmp_path / "outside.png"
    (ws / "figures").mkdir(parents=True)
    (ws / "figures" / "a.png").write_bytes(png)
    (ws / "figures" / "text.png").write_text("not a PNG")
    outside.write_bytes(png[:8] + b"outside secret")
    (ws / "figures" / "link.png").symlink_to(outside)
    figures = [str(ws / "figures" / n) for n in ("a.png", "text.png", "link.png")]
    obs = Observation(cell=1, code="plot()", ok=True,
                      figures=[*figures, str(outside), "/etc/shadow"])
    images = [o["data"]["image/png"]
              for o in session_notebook([("# q", [obs], "a")], workspace=ws).cells[1].outputs
              if "image/png" in o.get("data", {})]
    assert [base64.b64decode(i) for i in images] == [png]
    bare = session_notebook([("# q", [obs], "a")]).cells[1].outputs
    assert not [o for o in bare if "image/png" in o.get("data", {})]
