# qbd-sync: the commands CI and people run. Each target creates .venv when it is missing and
# installs the project from its own files, pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Integration tests mostly wait on brokers, PostgreSQL and simulated QuickBooks latency, so three
# workers (each with its own embedded stack) keep both cores of a 2-core machine busy: about
# 7 minutes for the whole suite where two workers take about 10 and one takes over 20.
PYTEST_WORKERS ?= 3

.PHONY: install run test lint format bench bench-quick chaos clean lock

$(STAMP): pyproject.toml constraints.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/qbd-sync demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy examples scripts
	$(BIN)/python scripts/check_deps.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The reliability suite at full length (kills, outages, faults); `make test` runs a short version.
chaos: $(STAMP)
	QBD_SYNC_CHAOS=full $(BIN)/python -m pytest tests/chaos $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench --full

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

# Re-pin every dependency to what resolves today (run by a maintainer, commit the result).
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet -e '.[test]'
	.lockvenv/bin/python -m pip freeze --exclude-editable | grep -v '^qbd-sync' > constraints.txt
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
