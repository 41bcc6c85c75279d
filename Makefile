# One test command: lint, strict types, then the tests.
VENV ?= .venv
PY := $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,python3)
PACKAGES := domain adapters entrypoints infra sandbox tests bench

.PHONY: install test lint typecheck unit soak

install:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'

test: lint typecheck unit

lint:
	$(PY) -m ruff check $(PACKAGES)
	$(PY) -m ruff format --check $(PACKAGES)

typecheck:
	$(PY) -m mypy --strict $(PACKAGES)

unit:
	$(PY) -m pytest -m "not slow"

soak:
	$(PY) -m pytest -m slow
