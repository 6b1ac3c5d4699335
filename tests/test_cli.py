"""The command line, end to end: real graph, real kernel, real chromadb, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SOI_NINO3, findings_in, run_cli

from climcopilot.agent.cli import main
from climcopilot.agent.config import load_settings


def test_ask_offline_soi_nino3_matches_published_correlation(home: Path) -> None:
    # Published: monthly SOI and Nino-3 SST anomalies correlate at about -0.67 over their
    # common period (the figure the walking-skeleton issue fixes as the reference).
    proc = run_cli("ask", "--json", "--brain", "offline", SOI_NINO3)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert abs(out["values"]["r"] - (-0.67)) <= 0.03
    assert out["status"] == "done" and "r = -0.67" in out["answer"]
    assert out["figures"] and all(Path(f).stat().st_size > 10_000 for f in out["figures"])
    assert [s["ok"] for s in out["steps"]] == [True] * 5
    assert findings_in(home) == 1  # the answer was remembered with its provenance


def test_empty_question_is_a_usage_error_and_writes_nothing(home: Path) -> None:
    proc = run_cli("ask", "   ")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "empty" in proc.stderr
    assert "Traceback" not in proc.stderr and findings_in(home) == 0


def test_out_of_scope_question_is_refused_and_writes_nothing(home: Path) -> None:
    proc = run_cli("ask", "--json", "What is the capital of France?")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["status"] == "refused"
    assert len(proc.stderr.strip().splitlines()) == 1 and "Earth-science" in proc.stderr
    assert findings_in(home) == 0


def test_unreachable_llm_endpoint_is_one_line_and_writes_nothing(home: Path) -> None:
    # Port 9 on loopback (discard) has no listener here: connection refused.
    proc = run_cli("ask", "--brain", "openai", SOI_NINO3,
                   env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
                        "CLIMCOPILOT_LLM_RETRIES": "1"})
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "cannot reach the LLM endpoint" in err[0], proc.stderr
    assert "Traceback" not in proc.stderr and findings_in(home) == 0


def test_tools_list_and_run(home: Path) -> None:
    listed = json.loads(run_cli("tools", "list", "--json").stdout)
    names = {t["name"] for t in listed}
    assert {"data.open_series", "analysis.align", "analysis.lag_correlation",
            "viz.line_plot"} <= names
    proc = run_cli("tools", "run", "data.open_series", "--json",
                   "--args", '{"name": "hadcrut5", "start": "1850", "end": "1900"}')
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["values"]["n"] == 51 and result["series_units"] == "degC"


def test_result_with_a_table_prints_the_table(home: Path) -> None:
    proc = run_cli("tools", "run", "causal.benchmark", "--args",
                   '{"systems": ["linear_var"], "methods": ["granger_var"], "T": 300, '
                   '"n_realizations": 1}')
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("| system | method | auroc")
    assert lines[3].startswith("| linear_var | granger_var | ") and len(lines) == 4


def test_bad_tool_input_is_one_line_usage_error(home: Path) -> None:
    cases = [
        (["tools", "run", "no.such_tool"], "unknown tool"),
        (["tools", "run", "analysis.lag_correlation", "--args", '{"a": "x"}'], "b: Field"),
        (["tools", "run", "analysis.lag_correlation", "--args",
          '{"a": "x", "b": "y", "max_lag": -3}'], "max_lag"),
        (["tools", "run", "data.open_series", "--args", "{not json"], "not valid JSON"),
    ]
    for argv, expected in cases:
        proc = run_cli(*argv)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and expected in proc.stderr, argv
    assert findings_in(home) == 0


def test_nan_in_arguments_reaches_the_tool(home: Path) -> None:
    """--args with NaN (JSON extension) gets the tool's own one-line error, not a NameError."""
    series = ", ".join(str(float(i % 7)) for i in range(60))
    proc = run_cli("tools", "run", "causal.pcmci", "--args",
                   f'{{"data": [[{series}], [NaN, {series[4:]}]], "names": ["a", "b"]}}')
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "['b'] contain NaN or inf" in proc.stderr


def test_tool_error_inside_kernel_is_one_line(home: Path) -> None:
    proc = run_cli("tools", "run", "data.open_series", "--args", '{"name": "atlantis"}')
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "unknown dataset 'atlantis'" in proc.stderr


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("climcopilot ")


def config_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``climcopilot ARGV`` in this process (the config commands start no kernel)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_config_file_with_env_override(home: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CLIMCOPILOT_PLUGIN_PATHS", raising=False)
    monkeypatch.delenv("CLIMCOPILOT_STEP_BUDGET", raising=False)
    assert config_cli(capsys, "config", "set", "step_budget", "7")[0] == 0
    assert config_cli(capsys, "config", "set", "plugin_paths", "/opt/plugins")[0] == 0
    assert (home / "config.toml").is_file()
    shown = json.loads(config_cli(capsys, "config", "show", "--json")[1])
    assert shown["step_budget"] == {"value": 7, "from": "file",
                                    "env": "CLIMCOPILOT_STEP_BUDGET"}
    assert shown["model"]["from"] == "default"
    # The settings read the file; plugin_paths is exported to where the tool registry reads it.
    settings = load_settings()
    assert settings.step_budget == 7 and settings.plugin_paths == "/opt/plugins"
    assert os.environ.get("CLIMCOPILOT_PLUGIN_PATHS") == "/opt/plugins"
    monkeypatch.setenv("CLIMCOPILOT_STEP_BUDGET", "3")
    over = json.loads(config_cli(capsys, "config", "show", "--json")[1])
    assert over["step_budget"] == {"value": 3, "from": "env", "env": "CLIMCOPILOT_STEP_BUDGET"}
    assert load_settings().step_budget == 3


def test_bad_config_input_is_one_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, expected in [(["config", "set", "colour", "red"], "invalid choice"),
                           (["config", "set", "step_budget", "many"], "must be int"),
                           (["config", "set", "approve", "always"], "risky, never")]:
        code, _, err = config_cli(capsys, *argv)
        assert code == 2 and err.count("\n") == 1 and expected in err, err
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("step_budget = [\n")
    code, _, err = config_cli(capsys, "config", "show")
    assert code == 2 and err.count("\n") == 1 and "config.toml" in err, err


HEAVY = ("torch", "scipy", "matplotlib", "pandas", "xarray", "chromadb", "langgraph")


@pytest.mark.parametrize("command", [["--version"], ["--help"], ["tools", "list"],
                                     ["tools", "list", "--json"], ["config", "show"]])
def test_light_commands_import_no_heavy_library(home: Path, command: list[str]) -> None:
    # A command that only reads names and settings must not pay seconds of imports: it runs
    # in a fresh interpreter, which then names every heavy library it loaded.
    code = ("import sys, io, contextlib\nfrom climcopilot.agent.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try: main({command!r})\n    except SystemExit: pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "CLIMCOPILOT_HOME": str(home)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
