"""The dev set (evals/tasks/dev/, evals/tasks/dev_refusals/): every task file is well-formed,
the mix is what the set promises, and every expected value comes from a cited published
value, an identity, or a reference script (evals/references/dev_*.py) that prints it.

The quick references are re-run here (in-process) and must print each value they are cited
for within half its tolerance (a script cited as a check of a published value: within the
tolerance).
The slow ones run under ``-m slow``; the DAPPER one needs a Python with dapper 1.7.1, named by
``DAPPER_PYTHON`` (skipped without it).
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from climcopilot.evals.task import Task, load_suite

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "evals" / "tasks" / "dev"
REFUSALS = ROOT / "evals" / "tasks" / "dev_refusals"
REFERENCES = ROOT / "evals" / "references"
FAMILIES = ("data", "da", "emulators", "causal")
SOURCE_KINDS = ("separate computation:", "published:", "published + identity:", "identity:",
                "exact:")
SCRIPT = re.compile(r"evals/references/(dev_[a-z0-9_]+\.py)")
PRINTED = re.compile(r"^(dev_[a-z0-9_]+)\.([a-z0-9_]+) = (\S+)", re.MULTILINE)
QUICK = ("dev_enso_indices.py", "dev_monsoon_rainfall.py", "dev_global_temperature.py",
         "dev_mauna_loa_co2.py", "dev_sunspots.py", "dev_palaeo_records.py",
         "dev_winter_fields.py")
SLOW = ("dev_lorenz63.py", "dev_lorenz96.py", "dev_kuramoto_sivashinsky.py",
        "dev_causal_benchmarks.py", "dev_causal_indices.py")
DAPPER = "dev_da_dapper.py"


def dev_tasks() -> list[Task]:
    tasks, errors = load_suite(DEV)
    assert not errors, errors
    return tasks


def cited(task: Task) -> dict[str, set[str]]:
    """Script name -> the task's value names whose source cites it."""
    out: dict[str, set[str]] = {}
    for name, expected in task.expected.items():
        for script in SCRIPT.findall(expected.source):
            out.setdefault(script, set()).add(name)
    return out


def test_every_dev_task_file_is_well_formed() -> None:
    tasks = dev_tasks()
    assert len(tasks) == len(list(DEV.glob("*.toml"))) >= 60
    for task in tasks:
        path = DEV / f"{task.id}.toml"
        assert path.exists(), f"{task.id}: the file must be named after the id"
        assert task.id.startswith("dev_"), task.id
        assert task.family in FAMILIES, task.id
        assert task.expected, f"{task.id}: no expected value"
        assert task.constraints is not None and task.constraints.quantity, \
            f"{task.id}: constraints.quantity missing"
    counts = Counter(t.family for t in tasks)
    assert all(counts[f] >= 10 for f in FAMILIES), counts


def test_the_mix_has_terse_questions_and_follow_ups() -> None:
    tasks = dev_tasks()
    follow_ups = [t for t in tasks if t.history]
    terse = [t for t in tasks if t.id.endswith("_terse")]
    assert not {t.id for t in follow_ups} & {t.id for t in terse}
    assert all(not t.history for t in terse) and all(len(t.question) < 60 for t in terse)
    assert len(follow_ups) + len(terse) >= 0.3 * len(tasks), (len(follow_ups), len(terse))
    assert all(t.id.endswith("_followup") for t in follow_ups)
    assert {t.level for t in tasks} == {1, 2, 3, 4}


def test_dev_questions_are_not_core_questions() -> None:
    core, errors = load_suite(ROOT / "evals" / "tasks" / "core")
    assert not errors, errors
    asked = {t.question.casefold() for t in core}
    for task in dev_tasks():
        assert task.question.casefold() not in asked, task.id


def test_every_expected_value_has_a_source_that_exists() -> None:
    for task in dev_tasks():
        for name, expected in task.expected.items():
            where = f"{task.id}.{name}"
            assert expected.source.startswith(SOURCE_KINDS), f"{where}: {expected.source[:40]}"
            scripts = SCRIPT.findall(expected.source)
            if expected.source.startswith("separate computation:"):
                assert scripts, f"{where}: a separate computation names its script"
            for script in scripts:
                assert (REFERENCES / script).is_file(), f"{where}: no {script}"


def test_every_dev_reference_script_is_cited_or_imported_by_one() -> None:
    scripts = {s for t in dev_tasks() for s in cited(t)}
    assert set(QUICK) | set(SLOW) | {DAPPER} == scripts
    imported = {f"{m}.py" for s in scripts
                for m in re.findall(r"^from (dev_[a-z0-9_]+) import", (REFERENCES / s)
                                    .read_text(), re.MULTILINE)}
    for path in REFERENCES.glob("dev_*.py"):
        assert path.name in scripts | imported, f"{path.name} is neither cited nor imported"


def test_every_refusal_is_well_formed() -> None:
    paths = sorted(REFUSALS.glob("*.toml"))
    assert len(paths) >= 3
    ids = set()
    for path in paths:
        spec = tomllib.loads(path.read_text())
        assert set(spec) == {"id", "level", "family", "question", "history", "expect_status",
                             "reason_contains"}, path
        Task.model_validate(spec)  # the harness reads it as it reads every task
        assert spec["id"] == path.stem and spec["id"].startswith("dev_") and spec["id"] not in ids
        ids.add(spec["id"])
        assert spec["expect_status"] in ("partial", "refused", "failed"), path
        assert isinstance(spec["history"], list) and all(isinstance(h, str)
                                                         for h in spec["history"])
        assert spec["question"].strip() and spec["reason_contains"].strip(), path
    assert not ids & {t.id for t in dev_tasks()}


def run_reference(script: str, python: str = sys.executable, timeout: float = 300) -> str:
    done = subprocess.run([python, str(REFERENCES / script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def check_printed(script: str, stdout: str) -> None:
    printed: dict[tuple[str, str], float] = {}
    for task, name, number in PRINTED.findall(stdout):
        printed.setdefault((task, name), float(number))
    checked = 0
    for task in dev_tasks():
        for name in cited(task).get(script, ()):
            expected = task.expected[name]
            assert (task.id, name) in printed, f"{script} does not print {task.id}.{name}"
            computed = expected.source.startswith("separate computation:")
            allowed = expected.tol / 2 if computed else expected.tol
            got = printed[task.id, name]
            assert abs(got - expected.value) <= allowed + 1e-12, \
                f"{task.id}.{name}: committed {expected.value}, {script} prints {got}"
            checked += 1
    assert checked, f"no task cites {script}"


@pytest.mark.parametrize("script", QUICK)
def test_quick_reference_prints_the_committed_values(script: str, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.syspath_prepend(str(REFERENCES))  # as when run as a script: its folder first
    runpy.run_path(str(REFERENCES / script), run_name="__main__")
    check_printed(script, capsys.readouterr().out)


@pytest.mark.slow
@pytest.mark.parametrize("script", SLOW)
def test_slow_reference_prints_the_committed_values(script: str) -> None:
    check_printed(script, run_reference(script, timeout=2400))


@pytest.mark.slow
def test_dapper_reference_prints_the_committed_values() -> None:
    python = os.environ.get("DAPPER_PYTHON")
    if not python:
        pytest.skip("set DAPPER_PYTHON to a Python with dapper==1.7.1 (see "
                    "evals/tasks/dev/README.md)")
    check_printed(DAPPER, run_reference(DAPPER, python=python, timeout=3600))
