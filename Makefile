# Two commands: `make demo` and `make test`. Both create .venv on first use.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= What is the correlation between the Southern Oscillation Index and the Niño-3 SST anomaly?

.PHONY: install demo test test-slow lint bench eval eval-dev eval-smoke clean

$(STAMP): pyproject.toml
	# bubblewrap and libseccomp (its system-call filter) isolate the kernel, tmux drives the chat
	# test; installed here when we are root and one is missing.
	(command -v bwrap && command -v tmux && ldconfig -p | grep -q libseccomp.so.2) >/dev/null || \
		[ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		apt-get install -y -qq bubblewrap libseccomp2 tmux >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && \
		 apt-get install -y -qq bubblewrap libseccomp2 tmux >/dev/null 2>&1) || \
		echo "bubblewrap, libseccomp2 or tmux could not be installed: no kernel isolation or no chat test"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# CPU build of torch first, so a CPU machine does not pull a multi-GB CUDA build.
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev]"
	# the compiled Lorenz-63/96 steps, beside their source (the sandbox sees them read-only)
	$(BIN)/python -m climcopilot.tools.emulators.native
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/climcopilot ask --brain offline "$(QUESTION)"

test: lint
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# ruff, then the layering of docs/architecture.md (import-linter contracts in pyproject.toml).
# grimp walks a package's folder, so it reads climcopilot from a tree of links to the folders
# that package-dir maps.
GRAPH := build/import-graph
lint: $(STAMP)
	$(BIN)/ruff check .
	rm -rf $(GRAPH) && mkdir -p $(GRAPH)/climcopilot
	ln -s $(CURDIR)/agent/notebook_api/__init__.py $(GRAPH)/climcopilot/__init__.py
	for top in agent tools knowledge sandbox evals; do ln -s $(CURDIR)/$$top $(GRAPH)/climcopilot/$$top; done
	PYTHONPATH=$(GRAPH) $(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cli.py

eval: $(STAMP)
	$(BIN)/climcopilot eval --brain offline --parallel 2 --out eval-report

eval-dev: $(STAMP)
	$(BIN)/climcopilot eval --suite dev --brain offline --parallel 2 --out eval-report/dev
	$(BIN)/climcopilot eval --suite dev_refusals --brain offline --out eval-report/dev_refusals

eval-smoke: $(STAMP)
	$(BIN)/climcopilot eval --brain offline --smoke

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
