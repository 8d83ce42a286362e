"""Every plugin and module against Ansible's conventions, in one place.

Modules and filters of the collection carry DOCUMENTATION, EXAMPLES and RETURN, which parse, name
the file and describe every option; an action plugin is documented by the module file of its name
(as Ansible's own are); `ansible-doc` reads every one of them as an Ansible user would, and lists
exactly the plugins whose files are there.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "collections/ansible_collections/confprov/core/plugins"
KINDS = {"modules": "module", "filter": "filter", "inventory": "inventory"}
# kind as ansible-doc names it, the file (action plugins: documented by their module file).
PLUGINS = [
    (KINDS[p.parent.name], p) for p in sorted(COLLECTION.glob("*/*.py")) if p.parent.name in KINDS
]
ACTIONS = sorted(COLLECTION.glob("action/*.py"))
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


def test_every_action_plugin_has_its_module_documentation() -> None:
    """`ansible-doc confprov.core.X` for an action X reads plugins/modules/X.py (Ansible's way)."""
    assert ACTIONS, "the collection's action plugins"
    for action in ACTIONS:
        assert (COLLECTION / "modules" / action.name).is_file(), f"{action.name}: no module doc"
        assert "DOCUMENTATION" not in _constants(action), f"{action.name}: documented twice"


def ansible_doc(*args: str, collections: Path, scan_sys_path: bool = True) -> Any:
    """`ansible-doc --json ARGS` as an Ansible user runs it; its JSON. Fails on any ERROR."""
    with tempfile.TemporaryDirectory() as home:  # no ansible.cfg of the checkout or of ~
        env = {
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": str(scan_sys_path),
            "PATH": "/usr/bin:/bin",
            "HOME": home,
        }
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-doc"), "--json", *args],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            cwd=home,
        )
    assert proc.returncode == 0, f"ansible-doc {' '.join(args)}: {proc.stderr}"
    assert "ERROR" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def check_ansible_doc(collections: Path, scan_sys_path: bool = True) -> None:
    """Every plugin's DOCUMENTATION loads through ansible-doc from the collection in
    ``collections`` (checkout or installed), and ansible-doc lists exactly the plugin files there.
    """
    root = collections / "ansible_collections/confprov/core/plugins"
    for folder, kind in KINDS.items():
        files = {f"confprov.core.{p.stem}" for p in root.glob(f"{folder}/*.py")}
        listed = ansible_doc("-t", kind, "--list", "confprov.core", collections=collections,
                             scan_sys_path=scan_sys_path)  # fmt: skip
        assert set(listed) == files, f"{kind}: ansible-doc lists {sorted(listed)}"
        docs = ansible_doc("-t", kind, *sorted(files), collections=collections,
                           scan_sys_path=scan_sys_path)  # fmt: skip
        assert set(docs) == files
        for name, doc in docs.items():
            assert doc["doc"]["short_description"], name
            where = Path(doc["doc"]["filename"])
            assert where.is_relative_to(root), f"{name} read from {where}, not {root}"


@pytest.mark.ansible
def test_ansible_doc_reads_and_lists_every_plugin() -> None:
    """What `ansible-doc` shows an Ansible user of the checkout."""
    check_ansible_doc(REPO / "collections")
