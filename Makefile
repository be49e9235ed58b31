# Every target creates .venv on first use, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-deep lint bench bench-audit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,notebook,distributed]'
	touch $(STAMP)

# the demo's own ledger is made afresh each time (one made by an earlier version holds an older sample catalog)
demo: $(STAMP)
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/credit-ledger demo --db demo.db

# the house's checks first (lint, types; the layer test is part of the suite), then the suite
lint: $(STAMP)
	$(BIN)/ruff check credit_ledger benchmarks examples
	$(BIN)/mypy credit_ledger

test: lint
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-fast} $(BIN)/python -m pytest

test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

bench-audit: $(STAMP)
	$(BIN)/python benchmarks/audit.py

clean:
	rm -rf $(VENV) demo.db .pytest_cache .hypothesis
