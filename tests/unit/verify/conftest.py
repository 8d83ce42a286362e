"""Shared pieces of the verify unit tests: the check module and its module_utils, from the role.

Outside Ansible the module imports its shared code as the plain module ``confprov_checklib``
(the file in the role's module_utils/), as the raw-SSH floor of bench/verify.py does.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
ROLE = REPO / "roles" / "connection_check"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def checklib() -> ModuleType:
    return _load("confprov_checklib", ROLE / "module_utils" / "confprov_checklib.py")


@pytest.fixture(scope="session")
def check_module(checklib: ModuleType) -> ModuleType:
    return _load("confprov_check", ROLE / "library" / "confprov_check.py")
