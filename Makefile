# The two commands a new user needs: `make demo` and `make test`. Both set up what they need first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CONFPROV := $(VENV)/bin/confprov

.PHONY: setup demo test lint unit test-unit test-contracts test-ansible test-browser test-lab \
	molecule molecule-windows clean

setup:
	bash scripts/setup.sh

demo: setup
	$(CONFPROV) demo

# All shipped Python: the package, the collection (its plugins and modules), the benchmarks; and
# the tests. mypy's file list is in pyproject.toml.
PYTHON_SOURCES := confprov collections bench tests hatch_build.py
# The collection confprov.core holds the roles and playbooks (roles/ and playbooks/ at the top are
# links into it, for reading a checkout as before).
COLLECTION := collections/ansible_collections/confprov/core
# ansible-lint takes the whole collection (galaxy.yml, meta/runtime.yml, the changelog, plugin
# examples too). The project has no public repository yet, so galaxy.yml names none: add
# `repository` there and drop the -x when it has.
ANSIBLE_LINT = $(VENV)/bin/ansible-lint --profile production -x 'galaxy[no-repository]' $(COLLECTION)

lint: setup
	$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	$(VENV)/bin/ruff format --check $(PYTHON_SOURCES)
	$(VENV)/bin/mypy
	$(ANSIBLE_LINT)

# One target per kind of test (markers in pyproject.toml say what each test needs):
#   test-unit       no root, no Ansible: seconds (an unmarked test that starts Ansible fails it)
#   test-contracts  every role and plugin against its own specification (tests/contracts)
#   test-ansible    tests that run Ansible on this machine, no root
#   test-browser    pages in headless Chromium (tests/browser; skipped where it is missing)
#   test-lab        root and a rehearsal lab (tests/lab)
# `make test` (what CI runs) runs all of them.
PYTEST := $(VENV)/bin/pytest

unit: setup
	$(PYTEST) -m "not lab" tests

test-unit: setup
	$(PYTEST) -m "not lab and not ansible" tests/unit tests/contracts

test-contracts: setup
	$(PYTEST) tests/contracts

test-ansible: setup
	$(PYTEST) -m "ansible and not lab" tests

test-browser: setup
	$(PYTEST) -m "not lab" tests/browser

test-lab: setup
	$(PYTEST) -m lab tests

# Each role's Molecule scenario on a real lab host (root; each scenario brings up its own lab).
MOLECULE_ROLES := $(patsubst $(COLLECTION)/roles/%/molecule/default/molecule.yml,%,$(wildcard $(COLLECTION)/roles/*/molecule/default/molecule.yml))

molecule: setup
	set -e; for role in $(MOLECULE_ROLES); do \
		(cd $(COLLECTION)/roles/$$role && PATH=$(CURDIR)/$(VENV)/bin:$$PATH molecule test -s default); \
	done

test: setup
	$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	$(VENV)/bin/mypy
	$(ANSIBLE_LINT)
	$(VENV)/bin/pytest tests

# The Windows roles on a real laptop (CONFPROV_WINDOWS_HOST, _USER, _KEY, _KNOWN_HOSTS): docs/windows.md.
molecule-windows: setup
	cd $(COLLECTION)/roles/windows_client && PATH=$(CURDIR)/$(VENV)/bin:$$PATH molecule test -s windows

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
