"""Which tools one request offers, within a token budget: by default the tools the
question's spec points to (the offline composer's plan for it, its DA methods, system or
causal benchmark), those of a worked example, those already used or loaded, then a core
set; ``run_python`` and ``find_tools`` always, the latter naming every tool not offered so
the model can load it. ``tools_offered = all`` offers every tool (for long-context models).

Token counts are estimated from the JSON length (:data:`CHARS_PER_TOKEN`, measured on these
schemas with the o200k tokenizer: 3.5 characters per token; 3.2 here, to stay under).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from climcopilot.agent.brains.offline.composer import compose
from climcopilot.agent.spec import QuestionSpec
from climcopilot.tools.manifest import ToolEntry
from climcopilot.tools.registry import listing
from climcopilot.tools.schemas import Mode, function, short, wire_name
from climcopilot.tools.vocabulary import plain

RUN_PYTHON = "run_python"
FIND_TOOLS = "find_tools"
TOKEN_BUDGET = 6000  # most tokens of tool schemas per request (tools_offered = core)
CHARS_PER_TOKEN = 3.2
TOOL_CHARS = 300  # longest tool description offered
CORE = ("data.list_series", "data.open_series", "analysis.subset", "analysis.align",
        "analysis.lag_correlation", "analysis.describe", "analysis.trend", "viz.line_plot")
"""Offered to every question (series work is the common case)."""
FOUND = 4  # tools a find_tools call loads at most
QUANTITY_TOOLS = {"emulator_skill": ("emulators.train", "emulators.evaluate"),
                  "closure_stability": ("emulators.hybrid",),
                  "kinetic_energy": ("emulators.simulate",),
                  "causal_links": ("causal.pcmci", "causal.benchmark"),
                  "drivers": ("causal.drivers",), "model_spread": ("data.cmip6_ensemble",)}
"""Tools of the quantities the offline composer does not plan."""

RUN_PYTHON_ENTRY = {"type": "function", "function": {
    "name": RUN_PYTHON,
    "description": "Run Python in the session's Jupyter kernel (numpy, scipy, pandas, xarray, "
                   "matplotlib); returns stdout, errors and saved figures. For what no tool "
                   "does; tools are callable in code as tools.<family>.<verb>(**arguments).",
    "parameters": {"type": "object", "properties": {"code": {"type": "string"}},
                   "required": ["code"]}}}


def estimate_tokens(value: Any) -> int:
    """Tokens of ``value`` as JSON, estimated from its length."""
    return int(len(json.dumps(value)) / CHARS_PER_TOKEN) + 1


@lru_cache(maxsize=1)
def known() -> dict[str, ToolEntry]:
    """Every tool's manifest entry by name (built-ins are not imported; plugins load)."""
    return {e.name: e for e in listing()}


@lru_cache(maxsize=512)
def entry(name: str, mode: Mode) -> dict[str, Any]:
    """The function-calling entry of tool ``name`` as offered: a short description (and its
    knowledge card's valid ranges) and the ``mode`` schema."""
    tool = known()[name]
    ranges = "; ".join(f"{k} {r['low']:g}..{r['high']:g}"
                       + (f" {r['units']}" if r.get("units") else "")
                       for k, r in ((tool.card or {}).get("valid_ranges") or {}).items())
    described = short(tool.description, TOOL_CHARS) + (f" Valid ranges: {ranges}." if ranges
                                                       else "")
    return function(tool.name, described, tool.parameters, mode)


def spec_tools(spec: QuestionSpec) -> list[str]:
    """The tools a right answer to ``spec`` is likely to need."""
    plan = compose(spec)
    names = [s.tool for s in plan.steps] if plan is not None else []
    names += QUANTITY_TOOLS.get(spec.quantity or "", ())
    if spec.methods:
        names.append("da.sweep" if len(spec.methods) > 1 else "da.twin_experiment")
    if spec.system and not spec.methods:
        names += ["emulators.simulate", "emulators.lyapunov"]
    if spec.causal_tool:
        names.append(spec.causal_tool)
    if spec.causal_system:
        names.append("causal.benchmark")
    if spec.fields:
        names += ["data.open_field", "analysis.eof"]
    return [n for n in dict.fromkeys(names) if n in known()]


def find_tools_entry(offered: Iterable[str]) -> dict[str, Any]:
    """The ``find_tools`` function, naming every tool not offered, by family."""
    families: dict[str, list[str]] = {}
    for name in known():
        if name not in set(offered):
            family, _, verb = name.partition(".")
            families.setdefault(family, []).append(verb)
    rest = "; ".join(f"{f}: {', '.join(v)}" for f, v in families.items())
    return {"type": "function", "function": {
        "name": FIND_TOOLS,
        "description": "Load more tools by what you need or by name; they are offered from "
                       f"then on. Not offered yet: {rest or 'none'}.",
        "parameters": {"type": "object", "properties": {"query": {
            "type": "string", "description": "what you need, e.g. 'twin experiment "
                                             "ensemble kalman filter' or 'da.sweep'"}},
                       "required": ["query"]}}}


def find(query: str, exclude: Iterable[str] = ()) -> list[str]:
    """The tools that best match ``query`` (names first, then words of their name, family
    and description), at most :data:`FOUND`, none of ``exclude``."""
    text = plain(query)
    words = {w for w in text.replace(".", " ").replace("_", " ").split() if len(w) > 2}
    scored = []
    for name, tool in known().items():
        if name in set(exclude):
            continue
        if name in text or wire_name(name) in text:
            scored.append((100, name))
            continue
        haystack = plain(f"{name.replace('.', ' ').replace('_', ' ')} {tool.description}")
        hits = sum(w in haystack for w in words) + 2 * sum(w in name for w in words)
        if hits:
            scored.append((hits, name))
    return [name for _, name in sorted(scored, key=lambda s: -s[0])[:FOUND]]


def offered(wanted: Iterable[str], mode: Mode, scope: str,
            budget: int = TOKEN_BUDGET) -> tuple[list[str], list[dict[str, Any]]]:
    """(tool names offered, their function entries with run_python and find_tools): the
    ``wanted`` tools in order of priority, then the core set, as many as fit ``budget``
    tokens (``scope`` ``all``: every tool, no budget)."""
    tools = known()
    if scope == "all":
        names = list(tools)
        return names, [entry(n, mode) for n in names] + [RUN_PYTHON_ENTRY]
    names, entries = [], []
    used = estimate_tokens(RUN_PYTHON_ENTRY) + estimate_tokens(find_tools_entry([]))
    for name in dict.fromkeys([*wanted, *CORE]):
        if name not in tools:
            continue
        cost = estimate_tokens(entry(name, mode))
        if used + cost <= budget:
            names.append(name)
            entries.append(entry(name, mode))
            used += cost
    return names, [*entries, RUN_PYTHON_ENTRY, find_tools_entry(names)]
