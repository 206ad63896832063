# Two commands a newcomer needs (see README "Quickstart"):
#   make example   set up .venv, run the example project end to end on SQLite
#   make test      set up .venv, run the test suite (and lint and type checks: make check)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: example test lint check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

example: $(STAMP)
	cd example && PATH="$(CURDIR)/$(BIN):$$PATH" bash run_example.sh

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test

clean:
	rm -rf $(VENV) example/app.db
