# Two commands a newcomer needs (see README "Quickstart"):
#   make example   set up .venv, run the example project end to end on SQLite
#   make test      set up .venv, run the test suite (and lint and type checks: make check)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Test workers: the suite is mostly waiting on databases and alembic subprocesses.
WORKERS ?= 2
LOWEST := .venv-lowest
NEXT := .venv-alembic-next

.PHONY: example test test-lowest test-alembic-next soak lint check bench bench-state bench-csv differential clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

example: $(STAMP)
	cd example && PATH="$(CURDIR)/$(BIN):$$PATH" bash run_example.sh

test: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS)

# The suite again on the lowest alembic, SQLAlchemy and PyYAML that pyproject allows.
$(LOWEST)/.installed: pyproject.toml .ci/lowest-versions.txt
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c .ci/lowest-versions.txt -e '.[dev]'
	touch $(LOWEST)/.installed

# Left out here: sqlmodel's two test modules (sqlmodel needs SQLAlchemy 2.0.14 or
# newer); the long randomised and concurrency runs; and the example's and the
# features' runs through the alembic script, whose Python API tests do run here:
# they test our logic, not what the lowest versions change (the integration with
# the lowest Alembic is tested by test_alembic_init, test_plugin, test_alembic_state,
# test_alembic_internals and test_changed_alembic; `make test` runs them all; CI
# stays within its time).
LOWEST_LEFT_OUT := test_sqlmodel test_template_backend test_concurrency test_kill \
	test_fuzz test_roundtrip_property test_shortcut_differential test_precommit test_docs \
	test_alembic_example test_alembic_csv test_alembic_overlays test_alembic_references \
	test_bench
test-lowest: $(LOWEST)/.installed
	$(LOWEST)/bin/python -m pytest -n $(WORKERS) -p no:cacheprovider \
		$(foreach module,$(LOWEST_LEFT_OUT),--ignore=tests/$(module).py)

# The Alembic integration tests on the newest Alembic the package index has,
# pre-releases included: a release that breaks us is seen before users see it.
# Upgraded on every run; the rest of the venv is kept.
# (the example's scenarios are left to `make test`: the integration's surface is here.)
NEXT_TESTS := tests/test_plugin.py tests/test_changed_alembic.py tests/test_alembic_internals.py \
	tests/test_alembic_init.py

$(NEXT)/.installed: pyproject.toml
	$(PYTHON) -m venv $(NEXT)
	$(NEXT)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(NEXT)/.installed

test-alembic-next: $(NEXT)/.installed
	$(NEXT)/bin/python -m pip install --quiet --disable-pip-version-check --pre -U alembic
	@$(NEXT)/bin/python -c 'import alembic; print("alembic", alembic.__version__, "(newest on the index, pre-releases included)")'
	$(NEXT)/bin/python -m pytest -n $(WORKERS) -p no:cacheprovider $(NEXT_TESTS)

# The concurrency and kill tests at full strength (README "Testing"): 8 concurrent
# `alembic upgrade head` x SOAK_ROUNDS rounds, SIGKILL at SOAK_KILL_POINTS points of a
# 20,000-row sync; on PostgreSQL and MariaDB when their URLs are set, and SQLite.
# One test at a time, so that each has the machine; figures printed at the end.
SOAK_ROUNDS ?= 20
SOAK_KILL_POINTS ?= 50
SOAK_ARGS ?=
SOAK_REPORT := $(VENV)/soak-report.jsonl

soak: $(STAMP)
	rm -f $(SOAK_REPORT)
	DATASYNC_SOAK_ROUNDS=$(SOAK_ROUNDS) DATASYNC_SOAK_KILL_POINTS=$(SOAK_KILL_POINTS) \
	DATASYNC_SOAK_REPORT=$(CURDIR)/$(SOAK_REPORT) \
		$(BIN)/python -m pytest -p no:cacheprovider $(SOAK_ARGS) tests/test_concurrency.py tests/test_kill.py \
		|| { $(BIN)/python tests/soak.py $(SOAK_REPORT); exit 1; }
	$(BIN)/python tests/soak.py $(SOAK_REPORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test

# The benchmark (README "Performance"): SQLite, and PostgreSQL and MariaDB too when
# DATASYNC_BENCH_POSTGRESQL_URL and DATASYNC_BENCH_MYSQL_URL are set; each sync against our
# own loader alone on the same file; writes bench/RESULTS.md with the targets (issue 16).
# BENCH_ARGS=--large adds 100,000 rows.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Issue 13's targets: a no-op sync of an unchanged 100,000-row dataset against parsing it,
# and `alembic upgrade head` with and without the datasync lines, on each database whose
# DATASYNC_BENCH_*_URL is set (a few minutes).
bench-state: $(STAMP)
	$(BIN)/python bench/state.py $(BENCH_ARGS)

# Issue 14's CSV benchmark on PostgreSQL (DATASYNC_BENCH_POSTGRESQL_URL): sync of a CSV
# file against COPY of the same file; writes bench/CSV_RESULTS.md. 100,000 rows by
# default; BENCH_ARGS="--rows 1000000" for the million rows of the README's figures.
bench-csv: $(STAMP)
	$(BIN)/python bench/csv_datasets.py $(BENCH_ARGS)

# The no-parse shortcut against the full plan under random drift: a longer walk than CI's.
differential: $(STAMP)
	DATASYNC_DIFFERENTIAL_STEPS=500 DATASYNC_DIFFERENTIAL_SEEDS=1,2,3,4,5 \
		$(BIN)/python -m pytest -n $(WORKERS) tests/test_shortcut_differential.py

clean:
	rm -rf $(VENV) $(LOWEST) $(NEXT) example/app.db example/app.db.datasync-lock*
