# Two entry points: `make demo` (run the demo store) and `make test` (everything CI runs).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-dev lint serve clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements/constraints.txt
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## demo: migrate the embedded SQLite database, seed the demo store once, serve on :8000
demo: install
	$(BIN)/shopops db upgrade
	$(BIN)/shopops demo seed --if-empty
	$(BIN)/shopops serve --host $(HOST) --port $(PORT)

## test: lint, types, import contracts, and the suite on SQLite and PostgreSQL
test: install-dev
	scripts/test.sh

lint: install-dev
	scripts/test.sh lint

clean-demo:
	rm -rf var/
