# The two commands a new user needs: `make demo` and `make test`. Both set up what they need first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CONFPROV := $(VENV)/bin/confprov

.PHONY: setup demo test lint unit clean molecule-windows

setup:
	bash scripts/setup.sh

demo: setup
	$(CONFPROV) demo

# All shipped Python: the package, the collection's plugins and modules, the roles' modules and
# action plugins, the benchmarks; and the tests. mypy's file list is in pyproject.toml.
PYTHON_SOURCES := confprov collections roles bench tests

lint: setup
	$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	$(VENV)/bin/ruff format --check $(PYTHON_SOURCES)
	$(VENV)/bin/mypy
	$(VENV)/bin/ansible-lint --profile production playbooks roles

unit: setup
	$(VENV)/bin/pytest -m "not lab" tests

test: setup
	$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	$(VENV)/bin/mypy
	$(VENV)/bin/ansible-lint --profile production playbooks roles
	$(VENV)/bin/pytest tests

# The Windows roles on a real laptop (CONFPROV_WINDOWS_HOST, _USER, _KEY, _KNOWN_HOSTS): docs/windows.md.
molecule-windows: setup
	cd roles/windows_client && PATH=$(CURDIR)/$(VENV)/bin:$$PATH molecule test -s windows

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
