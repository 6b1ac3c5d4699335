"""What the server offers to read: the session's figures (PNG) and tables (CSV), the session
notebook (``.ipynb``, re-runs with nbclient), the catalog of bundled series and fields (units,
periods, sources, licenses) and the knowledge cards of the installed tools and models.

URIs: ``climcopilot://figures/NAME``, ``climcopilot://tables/NAME``,
``climcopilot://session/notebook.ipynb``, ``climcopilot://catalog``,
``climcopilot://cards/SUBJECT``. Files come from the session's workspace, which the kernel
controls: they are read only if they are regular files inside it (never through a symlink),
and a figure only if it is a PNG.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from urllib.parse import quote, unquote

import mcp_types as types
import nbformat

from climcopilot.agent.mcp.sessions import McpSession
from climcopilot.agent.provenance import with_unit
from climcopilot.sandbox.export import FIGURE_LIMIT, PNG_MAGIC, session_notebook
from climcopilot.sandbox.workspace import Workspace
from climcopilot.tools.errors import ToolError

SCHEME = "climcopilot://"
NOTEBOOK_URI = SCHEME + "session/notebook.ipynb"
CATALOG_URI = SCHEME + "catalog"
FOLDERS = {"figures": (".png", "image/png"), "tables": (".csv", "text/csv")}
"""Workspace folders served as resources: the suffix of their files and its MIME type."""
TABLE_LIMIT = 16 * 2**20  # bytes of a table served

TEMPLATES = [
    types.ResourceTemplate(uri_template=SCHEME + "figures/{name}", name="figure",
                           mime_type="image/png", description="a figure of this session (PNG)"),
    types.ResourceTemplate(uri_template=SCHEME + "tables/{name}", name="table",
                           mime_type="text/csv", description="a table of this session (CSV)"),
    types.ResourceTemplate(uri_template=SCHEME + "cards/{subject}", name="knowledge card",
                           mime_type="text/markdown",
                           description="what an installed tool or model is, when to use it"),
]


def figure_uri(path: str) -> str:
    """The resource URI of a figure the kernel saved (under the workspace's ``figures``)."""
    return f"{SCHEME}figures/{quote(Path(path).name)}"


def _files(workspace: Path, folder: str) -> list[str]:
    """Names of the regular files with the folder's suffix in ``workspace/folder`` (links are
    neither followed nor listed)."""
    where = workspace / folder
    if where.is_symlink() or not where.is_dir():
        return []
    suffix = FOLDERS[folder][0]
    with os.scandir(where) as entries:
        return sorted(e.name for e in entries
                      if e.name.endswith(suffix) and e.is_file(follow_symlinks=False))


def _cards() -> dict[str, str]:
    """Each installed knowledge card as markdown, by the tool or model it describes."""
    from climcopilot.knowledge.cards import installed_cards

    return {c.subject: f"# {c.kind} {c.subject}\n\n{c.card.text()}\n" for c in installed_cards()}


def listed(session: McpSession) -> list[types.Resource]:
    """Every resource there is now: the session's files, its notebook, the catalog, cards."""
    found = [types.Resource(uri=f"{SCHEME}{folder}/{quote(name)}", name=name, mime_type=mime)
             for folder, (_, mime) in FOLDERS.items()
             for name in _files(session.workspace, folder)]
    found += [types.Resource(uri=NOTEBOOK_URI, name="session notebook",
                             mime_type="application/x-ipynb+json",
                             description="every call of this session as a notebook that "
                                         "re-runs top to bottom (nbclient)"),
              types.Resource(uri=CATALOG_URI, name="catalog", mime_type="application/json",
                             description="bundled series and fields: units, periods, "
                                         "sources, licenses")]
    found += [types.Resource(uri=f"{SCHEME}cards/{quote(subject)}", name=f"card {subject}",
                             mime_type="text/markdown") for subject in _cards()]
    return found


def notebook(session: McpSession) -> str:
    """The session's calls as a notebook (JSON text): each call that ran without error as a
    code cell with its outputs, then the values each tool produced."""
    steps = list(session.steps)
    header = (f"# ClimCopilot MCP session {session.id}\n\nEvery call an MCP client made in "
              "this session's kernel, in order: tool cells call the typed tools as they ran, "
              "`run_python` cells are the client's own code.")
    values = [f"- step {s.number} `{s.action.label()}`: " + ", ".join(
        f"{k} = {v:.6g}{with_unit(s.units.get(k, ''))}" for k, v in s.values.items()
        if v is not None) + ("" if s.observation.trusted else " (not trusted: free code ran "
                             "in the kernel before it)")
        for s in steps if s.action.kind == "tool" and s.values]
    footer = "## Values\n\n" + ("\n".join(values) or "(no tool produced a value)")
    nb = session_notebook([(header, [s.observation for s in steps], footer)],
                          session.workspace)
    return nbformat.writes(nb)


def _catalog() -> str:
    from climcopilot.tools.data.catalog import builtin_entries

    return json.dumps([e.model_dump(mode="json") for e in builtin_entries()], indent=1)


def read(uri: str, session: McpSession
         ) -> types.TextResourceContents | types.BlobResourceContents:
    """The content of resource ``uri`` (ToolError if there is no such resource)."""
    workspace = session.workspace
    if uri == NOTEBOOK_URI:
        return types.TextResourceContents(uri=uri, mime_type="application/x-ipynb+json",
                                          text=notebook(session))
    if uri == CATALOG_URI:
        return types.TextResourceContents(uri=uri, mime_type="application/json",
                                          text=_catalog())
    kind, _, name = uri.removeprefix(SCHEME).partition("/")
    name = unquote(name)
    if kind == "cards" and name in _cards():
        return types.TextResourceContents(uri=uri, mime_type="text/markdown",
                                          text=_cards()[name])
    if kind in FOLDERS and name in _files(workspace, kind):
        limit = FIGURE_LIMIT if kind == "figures" else TABLE_LIMIT
        data = Workspace(workspace).read_bytes(f"{kind}/{name}", limit)
        if kind == "tables":
            return types.TextResourceContents(uri=uri, mime_type="text/csv",
                                              text=data.decode(errors="replace"))
        if data.startswith(PNG_MAGIC):
            return types.BlobResourceContents(uri=uri, mime_type="image/png",
                                              blob=base64.b64encode(data).decode())
    raise ToolError(f"no resource {uri!r} in this session; resources/list shows those there are")
