"""The copilot in a Jupyter notebook: ``Copilot().ask(...)``, ``get`` and the ``%%copilot`` magic.

::

    from climcopilot import Copilot
    cp = Copilot()
    cp.ask("What is the correlation between the SOI and the Nino-3 SST anomaly?")
    soi = cp.get("soi")          # the agent kernel's dataset, now in this notebook

    %load_ext climcopilot
    %%copilot
    What is the seasonal cycle of Mauna Loa CO2?

An answer shows as markdown (the text with the provenance of each number), a table of its
numbers with units and the step that produced each, and its figures as PNG images. Steps run
in the copilot's own sandboxed kernel, not in the notebook's. An LLM's reply streams into the
cell's output as it is written; the answer then takes its place.
"""

from __future__ import annotations

import json
import weakref
from pathlib import Path
from typing import Any

from climcopilot.agent.brains.factory import make_brain
from climcopilot.agent.config import load_settings
from climcopilot.agent.events import AnswerEvent, Event, TokenEvent
from climcopilot.agent.export import export_session
from climcopilot.agent.outcome import Outcome, outcome_of
from climcopilot.agent.render import Streamed
from climcopilot.agent.session import Session
from climcopilot.sandbox.isolation import SandboxPolicy
from climcopilot.tools.base import ToolError

HAND_OVER = """\
import json as _json, pathlib as _pathlib
import numpy as _np, pandas as _pd, xarray as _xr
from climcopilot.sandbox.runtime import context as _context
_obj, _stem = {name}, _context().workspace / 'outputs' / 'handover-{name}'
_stem.parent.mkdir(exist_ok=True)
if isinstance(_obj, _xr.DataArray):
    _path = _stem.with_suffix('.dataarray.nc'); _obj.to_netcdf(_path)
elif isinstance(_obj, _xr.Dataset):
    _path = _stem.with_suffix('.dataset.nc'); _obj.to_netcdf(_path)
elif isinstance(_obj, _pd.Series):
    _path = _stem.with_suffix('.series.nc'); _obj.to_xarray().to_netcdf(_path)
elif isinstance(_obj, _pd.DataFrame):
    _path = _stem.with_suffix('.frame.nc'); _obj.to_xarray().to_netcdf(_path)
elif isinstance(_obj, _np.ndarray):
    _path = _stem.with_suffix('.npy'); _np.save(_path, _obj, allow_pickle=False)
else:
    _path = _stem.with_suffix('.json'); _path.write_text(_json.dumps(_obj))
print(_path)
del _obj, _stem, _path
"""
"""Kernel cell that writes variable ``name`` to the workspace in a format without pickle."""


def load_handed_over(path: Path) -> Any:
    """The object a :data:`HAND_OVER` cell wrote to ``path``."""
    import numpy as np
    import xarray as xr

    kind = "".join(path.suffixes)
    if kind == ".dataarray.nc":
        return xr.load_dataarray(path)
    if kind == ".dataset.nc":
        return xr.load_dataset(path)
    if kind == ".series.nc":
        return xr.load_dataarray(path).to_series()
    if kind == ".frame.nc":
        return xr.load_dataset(path).to_dataframe()
    if kind == ".npy":
        return np.load(path, allow_pickle=False)
    return json.loads(path.read_text())


class Answer:
    """One answer as a notebook shows it: markdown, a table of the numbers, the figures."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.status = outcome.status
        self.text = outcome.text or f"**{self.status}**: {outcome.reason or ''}"
        self.values = outcome.values
        self.units = outcome.units
        self.figures = [Path(f) for f in outcome.figures]

    def table(self) -> str:
        """Markdown table: each number with its unit and the step that produced it."""
        if not self.values:
            return ""
        steps = self.outcome.value_steps
        rows = [f"| {name} | {value:.4g} | {self.units.get(name) or ''} | "
                f"{steps.get(name) or 'memory'} |" for name, value in self.values.items()]
        return "\n".join(["| quantity | value | unit | step |", "| --- | --- | --- | --- |",
                          *rows])

    def _repr_markdown_(self) -> str:
        return "\n\n".join(p for p in (self.text, self.table()) if p)

    def _ipython_display_(self) -> None:
        from IPython.display import Image, Markdown, display

        display(Markdown(self._repr_markdown_()))
        for figure in self.figures:
            if figure.is_file():
                display(Image(filename=str(figure)))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Answer {self.status}: {self.text.splitlines()[0][:80]!r}>"


class LiveReply:
    """In IPython: the model's reply shown in one output while it streams, emptied when the
    answer comes (the returned :class:`Answer` shows it whole, with its provenance, once).
    Elsewhere it shows nothing."""

    def __init__(self) -> None:
        self.streamed = Streamed()
        self.handle: Any = None

    def __call__(self, event: Event) -> None:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is None:
            return
        if isinstance(event, TokenEvent):
            self.streamed.add(event)
            if self.handle is None:
                self.handle = display(Markdown(self.streamed.text), display_id=True)
            else:
                self.handle.update(Markdown(self.streamed.text))
        elif isinstance(event, AnswerEvent) and self.handle is not None:
            self.handle.update(Markdown(""))
            self.handle, self.streamed = None, Streamed()


class Copilot:
    """One copilot session (its own sandboxed kernel and the shared memory) for a notebook.

    ``brain``: offline, openai or scripted (default from the config); ``script``: the JSON
    decisions of the scripted brain; ``sandbox=False`` runs the kernel without bubblewrap;
    ``session_id`` takes up an earlier session (its cells are replayed). Steps never wait for
    approval here: there is no one to ask mid-cell.
    """

    def __init__(self, brain: str | None = None, script: str | Path | None = None,
                 sandbox: bool = True, session_id: str | None = None) -> None:
        settings = load_settings(brain)
        self.session = Session(settings, make_brain(settings, Path(script) if script else None),
                               session_id, SandboxPolicy.from_env(isolate=sandbox))
        self._closer = weakref.finalize(self, self.session.close)
        if session_id is not None:
            self.session.resume(rebuild=True)

    @property
    def session_id(self) -> str:
        return self.session.id

    def ask(self, question: str) -> Answer:
        """Answer ``question``; the result displays itself in a notebook."""
        return Answer(outcome_of(self.session.ask(question, LiveReply())))

    def get(self, name: str) -> Any:
        """A copy of the copilot kernel's variable ``name`` (e.g. a dataset a tool opened):
        xarray and pandas objects, numpy arrays, JSON values. It travels as a netCDF, ``.npy``
        or JSON file in the session workspace, never as a pickle: the kernel runs untrusted
        code."""
        if not name.isidentifier():
            raise ToolError(f"{name!r} is not a variable name")
        kernel = self.session.kernel
        obs = kernel.execute(HAND_OVER.format(name=name), helper=True)  # not a step: no taint
        if obs.error:
            raise ToolError(f"cannot hand over {name!r}: {obs.error}")
        # the kernel runs untrusted code: take the file only if it is a regular file of the
        # workspace (not a symlink to a host file, not a FIFO)
        path = kernel.files.regular_file(obs.stdout.strip().splitlines()[-1])
        if path is None:
            raise ToolError(f"cannot hand over {name!r}: the kernel did not write a regular "
                            "file in its workspace")
        return load_handed_over(path)

    def export(self, path: str | Path) -> Path:
        """Write the session so far as a notebook that re-runs with nbclient."""
        session = self.session
        return export_session(session.settings.checkpoints, session.id, Path(path),
                              session.workspace)[0]

    def close(self) -> None:
        """Stop the copilot's kernel (also done when the object is garbage-collected)."""
        self._closer()

    def __enter__(self) -> Copilot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def copilot_magic(line: str, cell: str) -> Answer:
    """``%%copilot [VARIABLE]``: ask the cell's text; uses the Copilot in ``VARIABLE`` of the
    notebook, else one shared Copilot with the default settings."""
    from IPython import get_ipython

    shell = get_ipython()
    name = line.strip()
    if name:
        copilot = shell.user_ns.get(name)
        if not isinstance(copilot, Copilot):
            raise ToolError(f"%%copilot {name}: {name} is not a Copilot; create one with "
                            f"{name} = Copilot()")
    else:
        copilot = shell.user_ns.get("_copilot") or Copilot()
        shell.user_ns["_copilot"] = copilot
    return copilot.ask(cell.strip())


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext climcopilot``: registers the ``%%copilot`` cell magic."""
    ipython.register_magic_function(copilot_magic, magic_kind="cell", magic_name="copilot")
