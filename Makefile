# The two commands a newcomer needs: `make run` (the product) and `make test` (the suite).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test generate lint install clean

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip setuptools wheel
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Copies the third-party protos, generates the Python stubs and the descriptor set into
# services/pivotal/ (the wheel build runs the same generator: setup.py).
generate: install
	$(PY) -m tools.protogen

# Runs all five services (and the gateway) in embedded mode: no servers needed.
run: generate
	$(VENV)/bin/pivotal up

test: generate
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# buf lint on the contracts, ruff (pinned in pyproject.toml) on the Python code.
lint: generate
	$(VENV)/bin/buf lint
	$(VENV)/bin/ruff check .

clean:
	rm -rf build services/pivotal .state
