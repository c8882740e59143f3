# The two commands of the README: `make run` (the nightly flow on the bundled demo) and `make test`.
# Each creates .venv when missing and installs only when pyproject.toml changed (a stamp keyed to its hash).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SPEC   := $(shell sha1sum pyproject.toml | cut -c1-12)
STAMP_RUN := $(VENV)/.stamp-run-$(SPEC)
STAMP_DEV := $(VENV)/.stamp-dev-$(SPEC)
PYTEST_ARGS ?=

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/onps demo run

test: $(STAMP_DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP_DEV)
	for f in bench/*.py; do [ "$$f" = bench/assemble.py ] || $(BIN)/python $$f || exit 1; done
	$(BIN)/python bench/assemble.py

clean:
	rm -rf $(VENV) var .pytest_cache
