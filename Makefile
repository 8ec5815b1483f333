# Two entry points on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test install install-test system-deps lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

# The client-side rewriter (@webrecorder/wombat, pinned in package.json/package-lock.json),
# installed from npm and copied where the replay origin serves it (not in git).
WOMBAT_DIR := src/vellum/replay/static/vendor/wombat
$(WOMBAT_DIR)/wombat.js: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(WOMBAT_DIR)
	cp node_modules/@webrecorder/wombat/dist/wombat.js \
		node_modules/@webrecorder/wombat/dist/wombatWorkers.js $(WOMBAT_DIR)/

install: $(VENV)/.installed $(WOMBAT_DIR)/wombat.js

# pywb, a peer the tests compare with (it reads our ZipNum shards), in its own venv, as
# the benchmarks use it (bench/benchlib.py: same place, same version).
PYWB_VENV := bench/.work/pywb-venv
$(PYWB_VENV)/.installed:
	python3 -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/pip install -q pywb==2.10.0
	touch $@

install-test: $(VENV)/.installed-test $(WOMBAT_DIR)/wombat.js $(PYWB_VENV)/.installed

# Debian packages the tests need: Chromium for the browser tests, wget for WARCs it writes,
# PostgreSQL for the catalog tests on that backend (.ci/postgres.sh starts a server).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v wget >/dev/null 2>&1; then \
		echo "installing chromium and wget (Debian packages)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium wget >/dev/null; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing postgresql (Debian package)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	fi

demo: install
	$(BIN)/vellum demo

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-test
	$(BIN)/mypy

# The catalog tests run on SQLite and on a real PostgreSQL server on 127.0.0.1, which
# they require here (without one they fail rather than skip; see tests/catalog/postgres.py).
unit: install-test system-deps
	url="$$(bash .ci/postgres.sh)" && \
		VELLUM_TEST_POSTGRES_URL="$$url" VELLUM_TEST_POSTGRES_REQUIRED=1 $(BIN)/python -m pytest

test: lint typecheck unit

bench: install-test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build src/*.egg-info .mypy_cache .ruff_cache .pytest_cache test-artifacts
	rm -rf node_modules $(WOMBAT_DIR)
