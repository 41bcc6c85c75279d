# Two commands for a newcomer: `make demo` and `make test` (each installs on first use).
#
# Everything installs from uv.lock: the versions (with their hashes) that the tests ran
# against are the ones the demo, CI and the Lambda layer get. `make lock` refreshes it.
VENV ?= .venv
PY := $(VENV)/bin/python
TOOLS := .tools
UV_VERSION := 0.13.9
UV := $(TOOLS)/bin/uv
PACKAGES := domain adapters entrypoints infra sandbox tests bench
# Lambda's runtime is Python 3.12: the tests run on it too. pyenv's 3.12 when there is one,
# else python3.12 on the PATH; uv never downloads an interpreter of its own.
PYTHON_312 ?= $(shell (PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.|$$)' | tail -n 1) pyenv which python3.12 || command -v python3.12) 2>/dev/null | head -n 1)
export UV_PYTHON_DOWNLOADS := never
export SSL_CERT_FILE ?= /etc/ssl/certs/ca-certificates.crt

.PHONY: install lock demo test lint typecheck docs browser unit soak

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(PY): uv.lock pyproject.toml | $(UV)
	@test -n "$(PYTHON_312)" || { echo "cloud-sync needs Python 3.12 (Lambda's runtime): install it, or set PYTHON_312=/path/to/python3.12" >&2; exit 1; }
	$(UV) sync --locked --extra dev --python $(PYTHON_312)
	@touch $(PY)

install: $(PY)

lock: | $(UV)
	$(UV) lock --upgrade --python $(PYTHON_312)

demo: $(PY)
	$(VENV)/bin/cloudsync demo

test: lint typecheck docs browser unit

# The browse page's tests drive Debian's chromium (a Playwright-downloaded browser cannot
# be fetched everywhere); installed when missing (CI runs as root).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

lint: $(PY)
	$(PY) -m ruff check $(PACKAGES)
	$(PY) -m ruff format --check $(PACKAGES)

typecheck: $(PY)
	$(PY) -m mypy --strict $(PACKAGES)

# The documentation site, in strict mode: a broken link, a missing anchor or a page left
# out of the navigation fails.
docs: $(PY)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

unit: $(PY)
	$(PY) -m pytest -m "not slow"

soak: $(PY)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)
