"""Plugins: tools and models from other packages or from local folders.

A plugin package declares, in its pyproject.toml::

    [project.entry-points."climcopilot.tools"]
    mymodel = "mymodel.tools"

    [project.entry-points."climcopilot.models"]   # optional: models for the DA tools
    my_emulator = "mymodel.models:my_emulator"

and defines its tools in that module with :func:`climcopilot.tools.base.tool`; a model entry
names a factory returning a :class:`~climcopilot.tools.emulators.models.Model`. Installed
packages are found through their entry points; a folder listed in ``CLIMCOPILOT_PLUGIN_PATHS``
(``os.pathsep``-separated) holding such a pyproject.toml and the package next to it is used
without installing it (the folder is put on ``sys.path``).

Loading and vetting what is found is :mod:`climcopilot.tools.contract`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib.metadata import EntryPoint, distributions, entry_points
from pathlib import Path

from pydantic import ValidationError

from climcopilot.tools.base import ToolError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENTRY_POINT_GROUP = "climcopilot.tools"
MODEL_GROUP = "climcopilot.models"
OBS_OPERATOR_GROUP = "climcopilot.obs_operators"
"""Plugin observation operators for the DA tools: name -> a callable mapping states
(..., dim) to observations (..., n_obs) with differentiable torch operations."""
GROUPS = (ENTRY_POINT_GROUP, MODEL_GROUP, OBS_OPERATOR_GROUP)
PLUGIN_PATHS_ENV = "CLIMCOPILOT_PLUGIN_PATHS"


def one_line(exc: Exception) -> str:
    """The exception's type and first line (a validation error's first message)."""
    if isinstance(exc, ValidationError):
        return f"ValidationError in {exc.title}: {exc.errors()[0]['msg']}"
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {detail}"


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
