# Two commands for a newcomer: `make demo` and `make test` (each installs on first use).
VENV ?= .venv
PY := $(VENV)/bin/python
PACKAGES := domain adapters entrypoints infra sandbox tests bench

.PHONY: install demo test lint typecheck unit soak

$(PY):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'

install: $(PY)

demo: $(PY)
	$(VENV)/bin/cloudsync demo

test: lint typecheck unit

lint: $(PY)
	$(PY) -m ruff check $(PACKAGES)
	$(PY) -m ruff format --check $(PACKAGES)

typecheck: $(PY)
	$(PY) -m mypy --strict $(PACKAGES)

unit: $(PY)
	$(PY) -m pytest -m "not slow"

soak: $(PY)
	$(PY) -m pytest -m slow
