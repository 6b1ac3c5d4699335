"""A session as a notebook: each question with its plan, every cell it ran, and its answer."""

from __future__ import annotations

from pathlib import Path

from climcopilot.agent.checkpoints import load_states
from climcopilot.sandbox.export import session_notebook, write_notebook


def export_session(checkpoints: Path, session_id: str, path: Path,
                   workspace: Path) -> tuple[Path, int]:
    """Write every question of a session as one notebook; returns its path and the number of
    code cells. Figures are embedded from the session's ``workspace`` only."""
    sections = []
    for state in load_states(checkpoints, session_id):
        header = f"# {state.get('question', '')}\n\n**Plan**\n\n" + "\n".join(
            f"{i}. {line}" for i, line in enumerate(state.get("plan", []), start=1))
        cells = [s.observation for s in state.get("steps", [])]
        footer = "## Answer\n\n" + (state.get("answer") or f"(no answer: {state.get('reason')})")
        sections.append((header, cells, footer))
    nb = session_notebook(sections, workspace=workspace)
    return write_notebook(nb, path), sum(c.cell_type == "code" for c in nb.cells)
