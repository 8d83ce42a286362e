"""Every plugin and module against Ansible's conventions, in one place.

Modules and filters (the collection's and the roles' own) carry DOCUMENTATION, EXAMPLES and
RETURN, which parse, name the file and describe every option; `ansible-doc` reads every one of
them as an Ansible user would.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "collections/ansible_collections/confprov/core/plugins"
# An action plugin is documented as the module of its name (what its tasks call).
KINDS = {"modules": "module", "action": "module", "filter": "filter", "inventory": "inventory"}
# kind as ansible-doc names it, the file.
PLUGINS = [(KINDS[p.parent.name], p) for p in sorted(COLLECTION.glob("*/*.py"))]
# What Ansible's own plugins of each kind carry (an inventory source returns no value).
NEEDED = {
    "module": ("DOCUMENTATION", "EXAMPLES", "RETURN"),
    "filter": ("DOCUMENTATION", "EXAMPLES", "RETURN"),
    "inventory": ("DOCUMENTATION", "EXAMPLES"),
}


def _ids() -> list[str]:
    return [str(path.relative_to(REPO)) for _, path in PLUGINS]


def _constants(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in ast.parse(path.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            out[node.targets[0].id] = node.value.value
    return out


def test_every_plugin_is_covered() -> None:
    names = {path.stem for _, path in PLUGINS}
    assert {"endpoint_state", "router_config", "registry", "confprov_check"} <= names
    assert {"site_survey_save", "checksummed", "survey_records", "router_targets"} <= names


@pytest.mark.parametrize(("kind", "path"), PLUGINS, ids=_ids())
def test_plugin_documents_itself(kind: str, path: Path) -> None:
    consts = _constants(path)
    for name in NEEDED[kind]:
        assert name in consts, f"{path.name}: no {name}"
        yaml.safe_load(consts[name])  # parses
    doc: dict[str, Any] = yaml.safe_load(consts["DOCUMENTATION"])
    named = doc.get("module") or doc.get("name") or doc.get("action")
    assert named == path.stem, f"{path.name}: documents {named}"
    assert doc.get("short_description"), path.name
    for option, spec in (doc.get("options") or {}).items():
        assert spec.get("description"), f"{path.name}: option {option} says what it is for"
    if kind == "module":
        assert doc["attributes"]["check_mode"]["support"] in ("full", "partial", "none")


@pytest.mark.ansible
def test_ansible_doc_reads_every_plugin() -> None:
    """What `ansible-doc` shows an Ansible user: each plugin's DOCUMENTATION must load."""
    env = {"ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"), "PATH": "/usr/bin:/bin"}
    ansible_doc = str(Path(sys.executable).parent / "ansible-doc")
    for kind, path in PLUGINS:
        if path.parent.name == "action":
            continue  # an action without a module stub: ansible-doc has nothing to load
        name = f"confprov.core.{path.stem}"
        proc = subprocess.run(
            [ansible_doc, "-t", kind, "--json", name],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert proc.returncode == 0 and name in proc.stdout, f"{name}: {proc.stderr}"
