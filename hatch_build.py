"""Ship the collection confprov.core at the top of site-packages, in the wheel only.

``ansible_collections/confprov/core`` beside the ``confprov`` package is where ansible-core looks
on ``sys.path``, so ``pip install confprov`` makes the collection visible with no configured path.
The wheel holds the files ``ansible-galaxy collection build`` packs (galaxy.yml's build_ignore and
ansible-galaxy's own ignores), plus galaxy.yml. An editable install (``pip install -e .``, what
``make setup`` does) gets no copy: a snapshot in site-packages would shadow the checkout for a
plain ``ansible-doc``, and confprov/paths.py finds the checkout's collection itself.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

import yaml
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COLLECTION = Path("collections", "ansible_collections", "confprov", "core")
# What ansible-galaxy leaves out of every collection (ansible/galaxy/collection/__init__.py).
_IGNORED_DIRS = frozenset({"CVS", ".bzr", ".hg", ".git", ".svn", "__pycache__", ".tox"})
_IGNORED = ["MANIFEST.json", "FILES.json", ".git", "*.pyc", "*.retry", "tests/output"]


def collection_files(root: Path) -> list[str]:
    """The collection's files (relative to ``root``) as ansible-galaxy's build walk selects them."""
    galaxy = yaml.safe_load((root / "galaxy.yml").read_text(encoding="utf-8"))
    patterns = [*_IGNORED, *galaxy.get("build_ignore", [])]
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _IGNORED_DIRS
            and not any(fnmatch.fnmatch(str(base / d), p) for p in patterns)
        )
        found.extend(
            str(base / f)
            for f in sorted(files)
            if not any(fnmatch.fnmatch(str(base / f), p) for p in patterns)
        )
    return found


class CollectionHook(BuildHookInterface):  # type: ignore[type-arg]  # generic only in stubs
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version != "standard":
            return
        root = Path(self.root) / COLLECTION
        target = Path("ansible_collections", "confprov", "core")
        for name in collection_files(root):
            build_data["force_include"][str(root / name)] = str(target / name)
