# SceneSpark: two commands do all set-up on a fresh Debian machine.
#   make run    install what is missing, build a demo library (or index $VIDEOS), serve the web app
#   make test   install what is missing, lint, run the whole test suite (web page unit tests
#               with Node's built-in runner first, then pytest)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.scenespark-installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast test-js setup system bench lint format clean-data

system:
	@bash .ci/install-system.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: system $(STAMP)

run: setup
	$(BIN)/scenespark run --host $(HOST) --port $(PORT) $(if $(VIDEOS),--videos "$(VIDEOS)",)

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory test-js
	$(BIN)/python -m pytest

# The web page's pure helpers (server/static/js/), with Node's built-in test runner: no npm deps.
test-js:
	node --test tests/js/

# The edit loop: lint, import contracts and the unit tests (no model, media, browser or corpus
# tests; under a minute). `make test` stays the whole suite that CI runs.
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory test-js
	$(BIN)/python -m pytest -q -m "not slow and not browser and not corpus"

bench: setup
	$(BIN)/python bench/run_all.py

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

format:
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .
