"""Every role against its own specification: one place for the rules each role must keep.

A role's ``meta/argument_specs.yml`` is its one specification (STYLE.md): its defaults agree with
it, every public variable carries the role's prefix and says what it is for, and the licence in
its ``meta/main.yml`` is the project's.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from confprov.provision.run import REPORT_ACTION, REPORT_ROLES

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta").is_dir())


def _options(role: str) -> dict[str, dict[str, Any]]:
    """Every entry point's options (connection_check's entry point is `check`: see its tasks)."""
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    out: dict[str, dict[str, Any]] = {}
    for entry in spec["argument_specs"].values():
        out.update(entry.get("options") or {})
    return out


def test_every_role_is_covered() -> None:
    assert len(ROLES) >= 11
    for role in ROLES:
        assert (REPO / "roles" / role / "meta" / "argument_specs.yml").is_file(), role


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_and_defaults_agree(role: str) -> None:
    text = (REPO / "roles" / role / "defaults" / "main.yml").read_text()
    defaults: dict[str, Any] = yaml.safe_load(text) or {}
    # Required variables have no default: defaults/main.yml names them in a comment ("# name: …").
    documented = set(re.findall(rf"^# ({role}_[a-z0-9_]+):", text, re.M))
    options = _options(role)
    names = [*options, *defaults, *documented]
    assert all(name.startswith(f"{role}_") for name in names), names
    for name, option in options.items():
        assert option.get("description"), f"{name}: says what it is for"
        if option.get("required"):
            assert name in documented and name not in defaults, f"{name}: required, so commented"
        else:
            assert name in defaults, f"{name}: in the spec, not in defaults/main.yml"
            assert option.get("default") == defaults[name], name
    assert set(defaults) | documented == set(options)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_carries_the_projects_licence(role: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]
    meta = yaml.safe_load((REPO / "roles" / role / "meta" / "main.yml").read_text())
    assert meta["galaxy_info"]["license"] == project


def test_one_licence_across_the_project() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]
    assert project == "Apache-2.0"
    assert "Apache License" in (REPO / "LICENSE").read_text().splitlines()[1]
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license-files"] == [
        "LICENSE"
    ]
    collection = REPO / "collections/ansible_collections/confprov/core"
    assert yaml.safe_load((collection / "galaxy.yml").read_text())["license"] == [project]
    # The tarball and the wheel ship the project's LICENSE (a link in the checkout).
    assert (collection / "LICENSE").read_text() == (REPO / "LICENSE").read_text()
    metas = sorted(collection.glob("roles/*/meta/main.yml"))
    assert len(metas) >= 10
    for meta in metas:
        assert yaml.safe_load(meta.read_text())["galaxy_info"]["license"] == project, meta
    headers = [
        line
        for path in REPO.glob("**/*.py")
        if ".venv" not in path.parts
        for line in path.read_text(encoding="utf-8").splitlines()[:3]
        if re.search(r"licen[cs]e", line, re.I)
    ]
    assert all("Apache License 2.0" in line for line in headers), headers


@pytest.mark.parametrize("role", REPORT_ROLES)
def test_the_check_report_task_is_the_roles_only_one_of_its_action(role: str) -> None:
    """provision --check finds each role's report by role and action (never by display name):
    that only works while the role runs REPORT_ACTION in exactly one task."""
    found = []
    for path in sorted((REPO / "roles" / role / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            if REPORT_ACTION in task or REPORT_ACTION.rsplit(".", 1)[-1] in task:
                found.append((path.name, task.get("name")))
    assert [name for name, _ in found] == ["report.yml"], found
