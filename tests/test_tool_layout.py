"""The tool library describes itself: every tool module is registered, every name a tool takes
has its words, aliases resolve to one thing, and costs are declared on the tools."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import typing

import pytest

import climcopilot.tools as tools_package
from climcopilot.tools.base import Tool, ToolError
from climcopilot.tools.manifest import BUILTIN_MODULES, MANIFEST, build, dumps, entries
from climcopilot.tools.registry import get_tool, registry
from climcopilot.tools.vocabulary import all_terms, compact, lookup, terms_of


def _modules_defining_tools() -> set[str]:
    found = set()
    for info in pkgutil.walk_packages(tools_package.__path__, tools_package.__name__ + "."):
        module = importlib.import_module(info.name)
        if any(isinstance(obj, Tool) for obj in vars(module).values()):
            found.add(info.name)
    return found


def test_builtin_modules_are_exactly_the_modules_that_define_tools() -> None:
    # scaffold.py holds a template, not a tool; base.py's docstring example is not a module
    # attribute, so neither counts.
    assert _modules_defining_tools() == set(BUILTIN_MODULES)


def _literal_keys(annotation: object) -> set[str]:
    """The string values a (possibly Annotated, Optional or list) Literal field accepts."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return {a for a in args if isinstance(a, str)}
    return set().union(*(_literal_keys(a) for a in args)) if args else set()


@pytest.mark.parametrize(("tool", "field", "kind"), [
    ("da.twin_experiment", "method", "da_method"),
    ("da.sweep", "methods", "da_method"),
    ("emulators.lyapunov", "system", "dynamical_system"),
    ("causal.pcmci", "system", "causal_system"),
])
def test_every_enum_value_a_tool_takes_has_a_term(tool: str, field: str, kind: str) -> None:
    keys = _literal_keys(get_tool(tool).input_model.model_fields[field].annotation)
    assert keys and keys <= {t.key for t in terms_of(kind)}


def test_bundled_series_are_terms() -> None:
    from climcopilot.tools.data.bundled import BUNDLED

    assert set(BUNDLED) == {t.key for t in terms_of("series")}


def test_no_alias_names_two_things_of_one_kind() -> None:
    seen: dict[tuple[str, str], str] = {}
    for term in all_terms():
        for name in term.names():
            owner = seen.setdefault((term.kind, compact(name)), term.key)
            assert owner == term.key, f"{name!r} names both {owner} and {term.key}"


@pytest.mark.parametrize(("typed", "key"), [
    ("3D-Var", "3dvar"), ("var3d", "3dvar"), ("LETKF", "letkf"), ("Particle Filter", "pf")])
def test_da_tool_takes_the_names_people_type(typed: str, key: str) -> None:
    assert lookup(terms_of("da_method"), typed).key == key
    assert get_tool("da.twin_experiment").validate({"method": typed}).method == key


@pytest.mark.parametrize(("typed", "key"), [
    ("KS", "kuramoto_sivashinsky"), ("L96", "lorenz96"), ("Lorenz-63", "lorenz63")])
def test_emulator_tools_take_system_aliases(typed: str, key: str) -> None:
    assert get_tool("emulators.lyapunov").validate({"system": typed}).system == key
    assert get_tool("da.twin_experiment").validate({"system": typed}).system == key


def test_unknown_enum_value_is_still_refused() -> None:
    with pytest.raises(ToolError, match="method"):
        get_tool("da.twin_experiment").validate({"method": "kalman-ish"})


def test_unknown_argument_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(ToolError) as err:
        get_tool("analysis.lag_correlation").validate({"a": "x", "b": "y", "maxlag": 3})
    message = str(err.value)
    assert "'maxlag'" in message and "max_lag" in message and "\n" not in message


def test_costly_tools_say_so_and_cheap_ones_do_not() -> None:
    flagged = {name for name, t in registry().items() if t.approval_reason()}
    assert {"emulators.train", "da.sweep", "causal.benchmark", "data.fetch_era5"} <= flagged
    assert not {"data.open_series", "analysis.lag_correlation", "da.twin_experiment"} & flagged


def test_the_manifest_is_the_code_s_own() -> None:
    # stale: `python -m climcopilot.tools.manifest` writes it again
    assert MANIFEST.read_text() == dumps(build())
    assert set(entries()) == {t for t in registry() if entries().get(t)}
    assert entries()["da.sweep"].approval == get_tool("da.sweep").approval_reason()


def test_a_tool_imports_only_its_own_family() -> None:
    code = ("import sys\nfrom climcopilot.tools.registry import get_tool\n"
            "get_tool('data.open_series')\n"
            "print(sorted(m for m in ('torch', 'climcopilot.tools.emulators.tools', "
            "'climcopilot.tools.da.tools', 'tigramite') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr[-500:]
