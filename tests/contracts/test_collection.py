"""The collection confprov.core as a Galaxy user gets it: its metadata agrees with the project.

One version (confprov/__init__.py), one ansible-core range (pyproject.toml) and one
ansible.windows pin (scripts/install_collections.py): galaxy.yml, meta/runtime.yml and the
changelog are tested equal to them, because ansible-galaxy reads only literals there (the
project's one licence: tests/contracts/test_role_contracts.py). The plugins that need confprov's
Python package say so; the JSONARGS modules (run on the endpoints) import the standard library
only.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from test_plugin_contracts import check_ansible_doc

import confprov
from confprov import paths

REPO = Path(__file__).resolve().parents[2]
ROOT = paths.collection_root()
PLUGINS = ROOT / "plugins"
GALAXY: dict[str, Any] = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
PYPROJECT: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent
# A module Ansible runs with the endpoint's Python without AnsiballZ (no module_utils, no confprov).
JSONARGS = "<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_collection_is_where_paths_says_and_in_the_checkout() -> None:
    assert ROOT == REPO / "collections/ansible_collections/confprov/core"
    assert (GALAXY["namespace"], GALAXY["name"]) == ("confprov", "core")
    for folder in ("roles", "playbooks"):  # a checkout reads as before: links into the collection
        assert (REPO / folder).resolve() == ROOT / folder


def test_one_version_for_package_collection_and_changelog() -> None:
    assert "version" in PYPROJECT["project"]["dynamic"]  # hatch reads confprov/__init__.py
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "confprov/__init__.py"
    assert GALAXY["version"] == confprov.__version__
    releases = _yaml(ROOT / "changelogs/changelog.yaml")["releases"]
    newest = max(releases, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert newest == confprov.__version__, "changelog: add a release for the new version"


def test_the_changelog_is_valid_and_the_markdown_is_generated_from_it(tmp_path: Path) -> None:
    """changelogs/changelog.yaml (antsibull-changelog's format) is the one source; CHANGELOG.md
    is what `antsibull-changelog generate` makes of it, never edited by hand."""
    lint = subprocess.run(
        [str(BIN / "antsibull-changelog"), "lint-changelog-yaml", "changelogs/changelog.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr
    copy = tmp_path / "core"
    shutil.copytree(ROOT / "changelogs", copy / "changelogs")
    shutil.copy(ROOT / "galaxy.yml", copy)
    subprocess.run(
        [str(BIN / "antsibull-changelog"), "generate"], cwd=copy, check=True, capture_output=True
    )
    assert (copy / "CHANGELOG.md").read_text() == (ROOT / "CHANGELOG.md").read_text(), (
        "CHANGELOG.md differs from changelogs/changelog.yaml: run `antsibull-changelog generate` "
        "in the collection"
    )


def test_the_changelog_announces_every_plugin_the_collection_ships() -> None:
    """Each module and plugin file is in the changelog's releases (a plugin added without a
    changelog entry is one a Galaxy user never hears of), and nothing gone is announced."""
    announced: set[tuple[str, str]] = set()
    for release in _yaml(ROOT / "changelogs/changelog.yaml")["releases"].values():
        for entry in release.get("modules", []):
            announced.add(("modules", entry["name"]))
        for kind, entries in release.get("plugins", {}).items():
            announced |= {(kind, entry["name"]) for entry in entries}
    shipped = {
        ("modules" if p.parent.name == "modules" else p.parent.name, p.stem)
        for p in PLUGINS.glob("*/*.py")
        if p.parent.name != "action"  # documented by its module of the same name
    }
    assert announced == shipped


def test_requires_ansible_is_the_pinned_ansible_core() -> None:
    (core,) = (
        Requirement(r)
        for r in PYPROJECT["project"]["dependencies"]
        if Requirement(r).name == "ansible-core"
    )
    runtime = _yaml(ROOT / "meta/runtime.yml")
    assert SpecifierSet(runtime["requires_ansible"]) == core.specifier


def _fqcn_collections(node: Any) -> set[str]:
    """namespace.name of every module a task calls by its full name (keys a.b.c)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and re.fullmatch(r"[a-z_]+\.[a-z_]+\.[a-z_0-9]+", key):
                found.add(key.rsplit(".", 1)[0])
            found |= _fqcn_collections(value)
    elif isinstance(node, list):
        for item in node:
            found |= _fqcn_collections(item)
    return found


def test_dependencies_are_the_collections_the_roles_use() -> None:
    files = [
        *ROOT.glob("roles/*/tasks/*.yml"),
        *ROOT.glob("roles/*/handlers/*.yml"),
        *ROOT.glob("playbooks/**/*.yml"),
    ]
    used = set().union(*(_fqcn_collections(_yaml(f)) for f in files))
    assert "ansible.windows" in used  # the walk sees the Windows roles
    assert used - {"ansible.builtin", "confprov.core"} == set(GALAXY["dependencies"])
    spec = importlib.util.spec_from_file_location(
        "install_collections", REPO / "scripts/install_collections.py"
    )
    assert spec and spec.loader
    installer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(installer)
    for name, version in installer.COLLECTIONS.items():  # what setup installs and tests run with
        wanted = SpecifierSet(GALAXY["dependencies"][name.replace("/", ".")])
        assert version in wanted
        assert f">={version}" in str(wanted), "galaxy.yml's lower bound is the tested version"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _requirements(path: Path) -> list[str]:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            assert isinstance(node.value, ast.Constant)
            return [str(r) for r in yaml.safe_load(node.value.value).get("requirements") or []]
    return []


def test_jsonargs_modules_need_nothing_but_the_standard_library() -> None:
    modules = [p for p in sorted(PLUGINS.glob("modules/*.py")) if JSONARGS in p.read_text()]
    assert {p.stem for p in modules} >= {"confprov_check", "endpoint_state"}
    for module in modules:
        outside = _imports(module) - set(sys.stdlib_module_names)
        assert not outside, f"{module.name} imports {sorted(outside)}: it runs on the endpoint"
        assert not _requirements(module), module.name


def test_plugins_that_import_confprov_say_so_in_requirements() -> None:
    needing = []
    for plugin in sorted(PLUGINS.glob("*/*.py")):
        if "confprov" in _imports(plugin):
            needing.append(plugin.stem)
            doc = plugin if plugin.parent.name != "action" else PLUGINS / "modules" / plugin.name
            assert any(r.split()[0] == "confprov" for r in _requirements(doc)), plugin.name
    assert {"registry", "router_config", "router_targets"} <= set(needing)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection as `ansible-galaxy collection build` packs it for Galaxy."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(out)],
        check=True,
        capture_output=True,
        cwd=out,
    )
    (built,) = out.glob("confprov-core-*.tar.gz")
    return built


@pytest.mark.ansible
def test_the_tarball_holds_the_collection_without_scenarios_or_caches(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))  # type: ignore[arg-type]
        links = [m.name for m in archive.getmembers() if m.issym() or m.islnk()]
    for needed in (
        "LICENSE",
        "CHANGELOG.md",
        "changelogs/changelog.yaml",
        "meta/runtime.yml",
        "playbooks/provision.yml",
        "roles/connection_check/tasks/main.yml",
        "roles/watch_agent/files/probe.py",  # a link into confprov/ in the checkout: its content
        "plugins/modules/confprov_check.py",
        "plugins/action/site_survey_save.py",
        "plugins/inventory/registry.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if "/molecule" in n or "__pycache__" in n or n.endswith(".pyc")]
    # A link may only point inside the collection (ansible-galaxy copies the others' content).
    assert links == ["roles/watch_agent/files/confprov_check.py"]
    info = manifest["collection_info"]
    assert (info["version"], info["license"]) == (confprov.__version__, ["Apache-2.0"])
    assert info["dependencies"] == GALAXY["dependencies"]


@pytest.mark.ansible
def test_the_tarball_installed_into_an_empty_path_serves_inventory_and_docs(
    tarball: Path, tmp_path: Path
) -> None:
    """What a Galaxy user does, offline (Galaxy is not reachable here): `ansible-galaxy
    collection install --offline --no-deps TARBALL -p EMPTY`; then, with only EMPTY as collections
    path (and no scan of Python's path, where other copies could be), the inventory plugin serves
    the workspace's hosts and ansible-doc reads and lists every plugin from EMPTY. The plugin needs
    confprov's Python package: this venv has it."""
    empty = tmp_path / "collections"
    empty.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),  # no copy in this machine's ~/.ansible/collections counts
        "ANSIBLE_COLLECTIONS_PATH": str(empty),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
    }
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps",
         "-p", str(empty), str(tarball)],
        check=True, capture_output=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    installed = empty / "ansible_collections/confprov/core"
    assert (installed / "MANIFEST.json").is_file()

    ws = tmp_path / "ws"
    subprocess.run([str(BIN / "confprov"), "init", str(ws)], check=True, capture_output=True)
    subprocess.run(
        [str(BIN / "confprov"), "inventory", "-w", str(ws)], check=True, capture_output=True
    )
    source = ws / "sites.confprov.yml"
    source.write_text("plugin: confprov.core.registry\n", encoding="utf-8")

    def hosts(inventory: Path) -> list[str]:
        proc = subprocess.run(
            [str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"],
            capture_output=True, text=True, check=False, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0 and "WARNING" not in proc.stderr, proc.stderr
        return sorted(json.loads(proc.stdout)["_meta"]["hostvars"])

    served = hosts(source)
    assert served == hosts(ws / "inventory")  # what `confprov inventory` rendered
    assert len(served) >= 5  # the starter workspace's endpoints and routers
    check_ansible_doc(empty, scan_sys_path=False)
