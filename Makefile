# The two commands a newcomer needs: `make run` (the product) and `make test` (the suite).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test generate lint install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip setuptools wheel
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Copies the third-party protos, builds the descriptor set, generates the Python stubs.
generate: install
	$(PY) -m tools.protogen

# Runs all five services (and the gateway) in embedded mode: no servers needed.
run: generate
	$(VENV)/bin/pivotal up

test: generate
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: generate
	$(VENV)/bin/buf lint
	$(VENV)/bin/ruff check services tests tools

clean:
	rm -rf build services/pivotal .state
