"""Where confprov's Ansible content is: beside the package in a checkout, inside it when installed.

The wheel ships playbooks/, roles/ and collections/ under ``confprov/_ansible`` (see
pyproject.toml), so ``pip install .`` gives the same plays as a checkout.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# The shipped example workspaces (confprov/examples/<name>): `init --example`, `lab up --example`.
EXAMPLES = ("phu-tho", "phu-tho-2025")


def ansible_root() -> Path:
    installed = _PACKAGE / "_ansible"
    if (installed / "playbooks").is_dir():
        return installed
    return _PACKAGE.parent


def playbook(name: str) -> Path:
    return ansible_root() / "playbooks" / name


def roles_path() -> Path:
    return ansible_root() / "roles"


def collections_path() -> Path:
    return ansible_root() / "collections"
