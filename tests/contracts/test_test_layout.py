"""The suite's own layout: modules pytest can import side by side, markers that say what a test
needs (`lab`: root and a lab; `ansible`: runs Ansible), one make target per kind."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"


def _import_name(path: Path) -> str:
    """The name pytest imports a module under (import mode `prepend`): its package chain up to
    the first folder without __init__.py, whose own folder goes on sys.path."""
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def test_no_two_test_modules_share_an_import_name() -> None:
    """Two `test_cli.py` in folders without __init__.py stop collection with an import error."""
    names = Counter(
        _import_name(path)
        for path in TESTS.rglob("*.py")
        if path.name != "conftest.py" and "data" not in path.relative_to(TESTS).parts
    )
    assert [name for name, count in names.items() if count > 1] == []


def test_markers_are_declared_and_slow_is_gone() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    declared = {line.split(":", 1)[0] for line in config["markers"]}
    assert declared == {"lab", "ansible"}
    assert "--strict-markers" in config["addopts"]


def test_every_lab_test_is_marked_lab_and_nothing_else_is() -> None:
    for path in TESTS.rglob("test_*.py"):
        marked = re.search(r"^pytestmark = .*pytest\.mark\.lab\b", path.read_text(), re.M)
        in_lab = path.parent == TESTS / "lab"
        assert bool(marked) == in_lab, f"{path.relative_to(REPO)}: lab marker iff in tests/lab"


def test_a_make_target_per_kind_and_make_test_runs_them_all() -> None:
    makefile = (REPO / "Makefile").read_text()
    for target in ("test-unit", "test-contracts", "test-ansible", "test-browser", "test-lab"):
        assert re.search(rf"^{target}: ", makefile, re.M), target
    assert re.search(r"^molecule: ", makefile, re.M)
    test = makefile.split("\ntest: ", 1)[1].split("\n\n", 1)[0]
    assert "$(VENV)/bin/pytest tests\n" in test + "\n", "make test (CI) runs every test"
