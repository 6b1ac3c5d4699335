# Two commands: `make demo` and `make test`. Both create .venv on first use.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= What is the correlation between the Southern Oscillation Index and the Niño-3 SST anomaly?

.PHONY: install demo test test-slow lint bench clean

$(STAMP): pyproject.toml
	# bubblewrap isolates the kernel; installed here when we are root and it is missing.
	command -v bwrap >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1) || \
		echo "bubblewrap could not be installed: the kernel will run without isolation"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# CPU build of torch first, so a CPU machine does not pull a multi-GB CUDA build.
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/climcopilot ask --brain offline "$(QUESTION)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_skeleton.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
