"""The notebook API: a notebook that uses ``Copilot`` and ``%%copilot`` runs under nbclient."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
from conftest import SOI_NINO3, soi_nino3_from_package_files
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook


def test_copilot_api_and_magic_in_a_notebook(home: Path, tmp_path: Path) -> None:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                               "display_name": "Python 3"}})
    nb.cells = [
        new_code_cell("from climcopilot import Copilot\ncp = Copilot(brain='offline')\n"
                      f"answer = cp.ask({SOI_NINO3!r})\nanswer"),
        new_code_cell("print(repr(answer.values['r']))"),
        new_code_cell("soi = cp.get('soi')\nprint(type(soi).__name__, soi.sizes['time'])\n"
                      "print(repr(float(soi.sel(time='1997-12').item())))"),
        new_code_cell("%load_ext climcopilot"),
        new_code_cell(f"%%copilot cp\n{SOI_NINO3}"),
        new_code_cell("cp.close()"),
    ]
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    answer, r_cell, soi_cell, _, magic, _ = nb.cells
    soi, r_direct = soi_nino3_from_package_files()

    # The answer renders inline: markdown with the number and a table, and the figures as PNG.
    shown = [o["data"] for o in answer.outputs if o.output_type == "display_data"]
    markdown = "".join(d.get("text/markdown", "") for d in shown)
    assert "r = -0.67" in markdown and "| quantity | value | unit | step |" in markdown
    # Each step's numbers with the step that produced them, and how to reproduce the answer.
    assert f'step 1 `data.open_series({{"name": "soi"}})`: n = {len(soi)}' in markdown
    assert "**How to reproduce**: `climcopilot export " in markdown
    pngs = [base64.b64decode(d["image/png"]) for d in shown if "image/png" in d]
    assert pngs and all(p.startswith(b"\x89PNG") and len(p) > 10_000 for p in pngs)
    # Independent route: the same correlation computed with numpy from the package files.
    r = float(r_cell.outputs[0]["text"])
    assert abs(r - r_direct) < 1e-6, (r, r_direct)

    # The agent kernel's dataset reached the notebook, equal to the file's values.
    kind, n, value = soi_cell.outputs[0]["text"].split()
    assert kind == "DataArray" and int(n) == len(soi)
    assert float(value) == soi.loc[199712]

    # The magic asks in the same session; the second time memory answers.
    text = "".join(o["data"].get("text/markdown", "") for o in magic.outputs
                   if o.output_type == "display_data")
    assert "r = -0.67" in text and "from memory" in text.lower()
    assert nbformat.validate(nb) is None


def test_a_streamed_reply_shows_as_it_comes_and_gives_way_to_the_answer() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from climcopilot.agent.events import AnswerEvent, TokenEvent
    from climcopilot.agent.notebook import LiveReply

    InteractiveShell.instance()
    live = LiveReply()
    with capture_output() as shown:
        live(TokenEvent(text="The trend is ", start=True))
        live(TokenEvent(text="1.5 ppm/yr"))
        live(AnswerEvent(status="done", text="The trend is 1.5 ppm/yr"))
    # One output, updated in place: the text so far each time, then emptied (the Answer
    # that ask returns shows the reply once, with its provenance).
    texts = [o.data["text/markdown"] for o in shown.outputs]
    assert texts == ["The trend is ", "The trend is 1.5 ppm/yr", ""]
    ids = {o.metadata.get("transient", {}).get("display_id") for o in shown.outputs}
    assert len(ids) == 1
