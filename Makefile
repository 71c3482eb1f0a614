# saxo-bot: two commands for a new user, `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast lint bench soak test-postgres clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

## run: one dry-run cycle against the embedded Saxo simulator
run: $(STAMP)
	SAXO_ENV=local $(PY) main.py --single-cycle --dry-run

## test: the whole test suite
test: $(STAMP)
	$(PY) -m pytest

## test-fast: everything but the tests that start processes (slow) and the soak test
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not soak" -p no:cacheprovider

## lint: ruff (rules and formatting) and mypy (settings in pyproject.toml)
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

## bench: benchmarks (ARGS=--quick for a smoke run that never overwrites bench/results.json)
bench: $(STAMP)
	$(PY) -m bench $(ARGS)

soak: $(STAMP)
	$(PY) -m pytest -m soak tests/soak -p no:cacheprovider

test-postgres: $(STAMP)
	bash .ci/postgres.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
