"""The tool manifest: every built-in tool's name, module, description, cost and input schema,
kept in ``manifest.json`` beside this module, so that listing tools, checking a call's name and
arguments, and rendering it need not import the tools and their numerics.

The file is written by ``python -m climcopilot.tools.manifest`` and a test checks it against
the code; ``--check`` exits 1 when it is stale. Plugins are not in it: they are found at run
time (:mod:`.registry`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from climcopilot.tools.base import Tool, check_argument_names

MANIFEST = Path(__file__).with_name("manifest.json")

BUILTIN_MODULES = (
    "climcopilot.tools.data.bundled",
    "climcopilot.tools.analysis.series",
    "climcopilot.tools.viz.plots",
    "climcopilot.tools.data.access",
    "climcopilot.tools.data.ensemble",
    "climcopilot.tools.data.connectors",
    "climcopilot.tools.analysis.climatology",
    "climcopilot.tools.analysis.area",
    "climcopilot.tools.analysis.trend",
    "climcopilot.tools.analysis.smoothing",
    "climcopilot.tools.analysis.composite",
    "climcopilot.tools.analysis.eof",
    "climcopilot.tools.analysis.spectrum",
    "climcopilot.tools.analysis.comparison",
    "climcopilot.tools.analysis.early_warning",
    "climcopilot.tools.analysis.ricker",
    "climcopilot.tools.viz.maps",
    "climcopilot.tools.da.tools",
    "climcopilot.tools.causal.tools",
    "climcopilot.tools.emulators.tools",
    "climcopilot.tools.emulators.extremes",
    "climcopilot.tools.emulators.inference",
    "climcopilot.tools.emulators.constrained",
    "climcopilot.tools.emulators.uncertainty",
    "climcopilot.tools.emulators.online_sweep",
    "climcopilot.tools.emulators.generative",
)
"""The modules whose module-level :class:`~climcopilot.tools.base.Tool` objects are the
built-in tools (a test checks the list against the modules that define tools)."""


def tools_in(module: ModuleType) -> list[Tool]:
    """The Tool objects defined at module level in ``module``."""
    return [obj for obj in vars(module).values() if isinstance(obj, Tool)]


@dataclass(frozen=True)
class ToolEntry:
    """What the manifest says of one tool: where it lives (``module``), what it is, why it
    may need approval (None: it need not), its input schema and its knowledge card."""

    name: str
    family: str
    module: str
    description: str
    approval: str | None
    parameters: dict[str, Any]
    card: dict[str, Any] | None = None

    @classmethod
    def of(cls, tool: Tool) -> ToolEntry:
        """The entry of a loaded tool."""
        return cls(name=tool.name, family=tool.family, module=tool.func.__module__,
                   description=tool.description, approval=tool.approval_reason(),
                   parameters=tool.input_model.model_json_schema(),
                   card=tool.card.model_dump() if tool.card else None)

    @property
    def arguments(self) -> list[str]:
        """The argument names the tool takes."""
        return list(self.parameters.get("properties", {}))

    def first_line(self) -> str:
        return self.description.splitlines()[0] if self.description else ""

    def check(self, arguments: dict[str, Any]) -> None:
        """A ToolError if ``arguments`` names an argument the tool does not have (their
        values are checked where the tool runs)."""
        check_argument_names(self.name, arguments, self.arguments)


def build() -> list[ToolEntry]:
    """The entries of every built-in tool, read from the code (imports every tool module)."""
    return [ToolEntry.of(tool) for module in BUILTIN_MODULES
            for tool in tools_in(importlib.import_module(module))]


def dumps(found: list[ToolEntry]) -> str:
    return json.dumps([asdict(e) for e in found], indent=1, sort_keys=True) + "\n"


@lru_cache(maxsize=1)
def entries() -> dict[str, ToolEntry]:
    """The built-in tools by name, from the manifest file."""
    return {e["name"]: ToolEntry(**e) for e in json.loads(MANIFEST.read_text())}


def entry(name: str) -> ToolEntry | None:
    """The manifest entry of tool ``name`` (``family.verb`` or ``family__verb``), if built in."""
    return entries().get(name.replace("__", "."))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m climcopilot.tools.manifest",
                                description="write (or --check) tools/manifest.json")
    p.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = p.parse_args(argv)
    found = build()
    text = dumps(found)
    if args.check:
        stale = not MANIFEST.exists() or MANIFEST.read_text() != text
        print(f"{MANIFEST} is "
              + ("stale: run python -m climcopilot.tools.manifest" if stale else "up to date"))
        return int(stale)
    MANIFEST.write_text(text)
    print(f"wrote {MANIFEST} ({len(found)} tools)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
