"""A session as a notebook: each question, every cell the kernel ran with its outputs, the answer.

The notebook re-runs top to bottom in a plain Jupyter kernel (e.g. with nbclient): tool cells
import the tool library and call it, exactly as they ran in the session.

A figure is embedded only if it is a PNG file, regular and inside the session's workspace
(read through :class:`~climcopilot.sandbox.workspace.Workspace`, never through a symlink):
the kernel that reported the path may have lied.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from climcopilot.sandbox.errors import SandboxError
from climcopilot.sandbox.observation import MIME, Observation
from climcopilot.sandbox.workspace import Workspace

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURE_LIMIT = 32 * 2**20  # bytes: a larger "figure" is left out


def _png(files: Workspace | None, figure: str) -> str | None:
    """The figure as base64 if it is a PNG inside the workspace, else None."""
    if files is None:
        return None
    try:
        data = files.read_bytes(figure, FIGURE_LIMIT)
    except SandboxError:
        return None
    return base64.b64encode(data).decode() if data.startswith(PNG_MAGIC) else None


def _outputs(obs: Observation, files: Workspace | None) -> list[nbformat.NotebookNode]:
    outputs = []
    if obs.stdout:
        outputs.append(new_output("stream", name="stdout", text=obs.stdout))
    if obs.result is not None:
        outputs.append(new_output("display_data", data={
            MIME: {"result": obs.result}, "text/plain": obs.brief()}))
    for png in (_png(files, f) for f in obs.figures):
        if png is not None:
            outputs.append(new_output("display_data", data={"image/png": png}))
    if obs.error:
        name, _, value = obs.error.partition(": ")
        outputs.append(new_output("error", ename=name, evalue=value, traceback=[obs.error]))
    return outputs


Section = tuple[str, list[Observation], str]
"""One question: markdown header (question, plan), the cells it ran, markdown footer (answer)."""


def session_notebook(sections: list[Section],
                     workspace: Path | None = None) -> nbformat.NotebookNode:
    """Per section: the markdown header, one code cell per observation (only those that ran
    without error, so the notebook re-runs cleanly), the markdown footer. Sections follow one
    another in one kernel, as the questions of a session shared one. Figures are embedded
    from the session's ``workspace`` only (none without it)."""
    files = Workspace(workspace) if workspace is not None else None
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    number = 0
    for header, cells, footer in sections:
        nb.cells.append(new_markdown_cell(header))
        for obs in (c for c in cells if c.ok and c.code):
            number += 1
            nb.cells.append(new_code_cell(obs.code, outputs=_outputs(obs, files),
                                          execution_count=number))
        nb.cells.append(new_markdown_cell(footer))
    return nb


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> Path:
    """Write ``nb`` to ``path`` (parents created); refuses to overwrite a non-notebook."""
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"{path} must end in .ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
