"""Plugins: tools and models from other packages or from local folders.

A plugin package declares, in its pyproject.toml::

    [project.entry-points."climcopilot.tools"]
    mymodel = "mymodel.tools"

    [project.entry-points."climcopilot.models"]   # optional: models for the DA tools
    my_emulator = "mymodel.models:my_emulator"

and defines its tools in that module with :func:`climcopilot.tools.base.tool`; a model entry
names a factory returning a :class:`~climcopilot.tools.models.Model`. Installed packages are
found through their entry points; a folder listed in ``CLIMCOPILOT_PLUGIN_PATHS``
(``os.pathsep``-separated) holding such a pyproject.toml and the package next to it is used
without installing it (the folder is put on ``sys.path``).

A plugin that cannot be imported, or a tool whose schema does not build, is skipped with a
one-line reason; the other tools still load. :func:`contract_problems` (tools),
:func:`model_problems` (models) and :func:`card_problems` (knowledge cards) are what
``climcopilot tools check`` runs.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, distributions, entry_points
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from climcopilot.tools.base import KnowledgeCard, Tool, ToolError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENTRY_POINT_GROUP = "climcopilot.tools"
MODEL_GROUP = "climcopilot.models"
GROUPS = (ENTRY_POINT_GROUP, MODEL_GROUP)
PLUGIN_PATHS_ENV = "CLIMCOPILOT_PLUGIN_PATHS"


@dataclass
class PluginLoad:
    """What loading entry points gave: usable tools, model factories that build a working
    model, and what was skipped why."""

    tools: list[Tool] = field(default_factory=list)
    models: dict[str, Callable[..., Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def one_line(exc: Exception) -> str:
    """The exception's type and first line (a validation error's first message)."""
    if isinstance(exc, ValidationError):
        return f"ValidationError in {exc.title}: {exc.errors()[0]['msg']}"
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {detail}"


def load(points: list[EntryPoint]) -> PluginLoad:
    """Import each entry point's target; keep the tools whose schemas build and the model
    factories whose model passes :func:`model_problems`."""
    out = PluginLoad()
    for ep in points:
        try:
            target = ep.load()  # a tools module, or a model factory
        except Exception as exc:  # a broken plugin must not stop the others
            out.problems.append(f"plugin {ep.name!r} ({ep.value}) failed to import: "
                                f"{one_line(exc)}")
            continue
        if ep.group == MODEL_GROUP:
            found_problems = model_problems(ep.name, target)
            out.problems += found_problems
            if not found_problems:
                out.models[ep.name] = target
            continue
        found = [obj for obj in vars(target).values() if isinstance(obj, Tool)]
        if not found:
            out.problems.append(f"plugin {ep.name!r} ({ep.value}) defines no tool")
        for t in found:
            try:
                t.openai_schema()
            except Exception as exc:
                out.problems.append(f"tool {t.name!r} of plugin {ep.name!r} has a broken "
                                    f"schema: {type(exc).__name__}: {exc}")
                continue
            out.tools.append(t)
    return out


def read_local_plugin(folder: Path) -> tuple[str, list[EntryPoint]]:
    """The project name and ClimCopilot entry points in ``folder/pyproject.toml``; ToolError
    when there is none to read."""
    manifest = Path(folder) / "pyproject.toml"
    try:
        project = tomllib.loads(manifest.read_text())["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
        raise ToolError(f"plugin folder {folder}: cannot read a [project] table from "
                        f"{manifest.name} ({why})") from None
    tables = project.get("entry-points", {})
    points = [EntryPoint(name=name, value=value, group=group)
              for group in GROUPS for name, value in tables.get(group, {}).items()]
    if not points:
        raise ToolError(f"plugin folder {folder}: {manifest.name} declares no "
                        f"[project.entry-points.\"{ENTRY_POINT_GROUP}\"] or "
                        f"\"{MODEL_GROUP}\" entry")
    return str(project.get("name", Path(folder).name)), points


def use_local_folder(folder: Path) -> None:
    """Make ``folder``'s packages importable here and in kernels started from here."""
    where = str(Path(folder).resolve())
    if where not in sys.path:
        sys.path.append(where)
    listed = os.environ.get(PLUGIN_PATHS_ENV, "").split(os.pathsep)
    if where not in listed:
        os.environ[PLUGIN_PATHS_ENV] = os.pathsep.join(p for p in [*listed, where] if p)


def local_plugins() -> tuple[dict[str, list[EntryPoint]], list[str]]:
    """Entry points of each folder in ``CLIMCOPILOT_PLUGIN_PATHS`` by project name (the folders
    go on ``sys.path``), and a line for each folder that could not be read."""
    found: dict[str, list[EntryPoint]] = {}
    problems = []
    for folder in os.environ.get(PLUGIN_PATHS_ENV, "").split(os.pathsep):
        if not folder:
            continue
        try:
            name, points = read_local_plugin(Path(folder))
        except ToolError as exc:
            problems.append(f"{exc} ({PLUGIN_PATHS_ENV})")
            continue
        use_local_folder(Path(folder))
        found[name] = points
    return found, problems


def plugin_points(group: str = ENTRY_POINT_GROUP) -> list[EntryPoint]:
    """Entry points of ``group`` of every installed package and every local plugin folder."""
    local = [ep for points in local_plugins()[0].values() for ep in points if ep.group == group]
    return [*entry_points(group=group), *local]


def installed_points(distribution: str | None = None) -> list[EntryPoint]:
    """Tool entry points of every plugin; or, given a plugin (an installed package's name, a
    local plugin's name, or a plugin folder), all its ClimCopilot entry points, tools and
    models: what ``tools check`` checks. A folder is then used as a local plugin."""
    if distribution is None:
        return plugin_points(ENTRY_POINT_GROUP)
    if Path(distribution).is_dir():
        points = read_local_plugin(Path(distribution))[1]
        use_local_folder(Path(distribution))
        return points
    wanted = distribution.lower().replace("_", "-")
    for dist in distributions():
        if (dist.metadata["Name"] or "").lower().replace("_", "-") == wanted:
            return [ep for ep in dist.entry_points if ep.group in GROUPS]
    local = {name.lower().replace("_", "-"): points
             for name, points in local_plugins()[0].items()}
    return local.get(wanted, [])


def source_dirs() -> list[Path]:
    """Folders holding the plugins' top-level packages (the sandbox binds them read-only)."""
    dirs = []
    for ep in [*plugin_points(ENTRY_POINT_GROUP), *plugin_points(MODEL_GROUP)]:
        spec = importlib.util.find_spec(ep.value.split(":")[0].split(".")[0])
        if spec is not None and spec.origin is not None:
            dirs.append(Path(spec.origin).resolve().parent.parent)
    return sorted(set(dirs))


def card_problems(subject: str, card: Any, names: set[str] | None = None) -> list[str]:
    """What is wrong with a knowledge card: not a KnowledgeCard, no references, or (``names``
    given) a valid range naming none of them."""
    if not isinstance(card, KnowledgeCard):
        return [f"{subject}: its card is a {type(card).__name__}, not a KnowledgeCard"]
    problems = []
    if not card.references:
        problems.append(f"{subject}: its card cites no references (a paper, DOI or URL)")
    for name in sorted(set(card.valid_ranges) - names) if names is not None else []:
        problems.append(f"{subject}: its card gives a valid range for {name!r}, which is "
                        f"not one of its inputs ({', '.join(sorted(names))})")
    return problems


def contract_problems(tool: Tool) -> list[str]:
    """What a tool lacks under the plugin contract: a description, a description and a range
    for every input, an example call (model ``examples`` or all-default inputs), and a sound
    knowledge card if it has one (the example call inside the card's valid ranges)."""
    problems = []
    if not tool.description.strip():
        problems.append(f"{tool.name}: no description (the function's docstring)")
    schema = tool.input_model.model_json_schema()
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description"):
            problems.append(f"{tool.name}: input {name!r} has no description (units, meaning)")
        kinds = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
        bounded = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} & prop.keys()
        if kinds & {"number", "integer"} and not bounded:
            problems.append(f"{tool.name}: numeric input {name!r} declares no range (ge/le)")
    example = example_arguments(tool)
    if example is None:
        problems.append(f"{tool.name}: no example call: give the input model "
                        "json_schema_extra={'examples': [{...}]} or defaults for every input")
    if tool.card is not None:
        problems += card_problems(tool.name, tool.card, set(schema.get("properties", {})))
        for name, valid in tool.card.valid_ranges.items():
            value = (example or {}).get(name, schema.get("properties", {}).get(name, {})
                                        .get("default"))
            if isinstance(value, int | float) and not valid.low <= value <= valid.high:
                problems.append(f"{tool.name}: the example's {name}={value} lies outside its "
                                f"card's valid range {valid.low:g}..{valid.high:g}")
    return problems


def model_problems(name: str, factory: Any) -> list[str]:
    """What a plugin model lacks under the contract: its factory builds, without parameters, a
    :class:`~climcopilot.tools.models.Model` whose step maps a (2, dim) batch to finite
    (2, dim) states (with gradients when it says it is differentiable), whose positions are
    (dim,), and whose card (``factory.card``) is sound."""
    import torch

    from climcopilot.tools.models import build_model, is_differentiable, model_positions

    subject = f"model {name!r}"
    try:
        model = build_model(name, factory, {})
        x = model.base_state().to(torch.float64).expand(2, model.dim).clone()
        x.requires_grad_(is_differentiable(model))
        with torch.enable_grad():
            out = model.step(x, model.default_dt)
            if out.shape != x.shape or not bool(torch.isfinite(out).all()):
                return [f"{subject}: step maps a (2, {model.dim}) batch to "
                        f"{tuple(out.shape)}, or to non-finite states"]
            if x.requires_grad:
                if out.requires_grad:
                    out.sum().backward()
                if x.grad is None or not bool(torch.isfinite(x.grad).all()):
                    return [f"{subject}: says differentiable=True but step gives no finite "
                            "gradient; set differentiable=False"]
        positions = model_positions(model)
    except ToolError as exc:  # the factory failed or returned no model
        return [str(exc)]
    except Exception as exc:  # whatever a plugin's model does wrong is reported, not raised
        return [f"{subject} does not work: {one_line(exc)}"]
    problems = []
    if positions is not None and tuple(positions.shape) != (model.dim,):
        problems.append(f"{subject}: positions() has shape {tuple(positions.shape)}, "
                        f"want ({model.dim},)")
    card = getattr(factory, "card", None)
    if card is not None:
        problems += card_problems(subject, card)
    return problems


def example_arguments(tool: Tool) -> dict[str, Any] | None:
    """Arguments for a trial call: the input model's first example, else all defaults."""
    extra = tool.input_model.model_config.get("json_schema_extra") or {}
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if examples:
        return dict(examples[0])
    try:
        tool.input_model()
    except Exception:
        return None
    return {}
