"""Shared pieces of the verify unit tests: the check module, loaded from the role as a plain module.

The module is one self-contained file (a JSONARGS module: standard library only), so outside
Ansible it imports as it is, as the raw-SSH floor of bench/verify.py runs it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from confprov import paths


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def check_module() -> ModuleType:
    return _load("confprov_check", paths.modules_path() / "confprov_check.py")


@pytest.fixture(scope="session")
def checklib(check_module: ModuleType) -> ModuleType:
    """The check results, UDP and SIP pieces (in the module itself)."""
    return check_module
