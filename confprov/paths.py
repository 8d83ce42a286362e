"""Where confprov's Ansible content is: the collection ``confprov.core``.

Roles, playbooks, modules and plugins all live in ``ansible_collections/confprov/core``: under
``collections/`` in a checkout, at the top of ``site-packages`` when installed from the wheel
(see pyproject.toml), where ansible-core finds it on ``sys.path`` without any configured path.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# The shipped example workspaces (confprov/examples/<name>): `init --example`, `lab up --example`.
EXAMPLES = ("phu-tho", "phu-tho-2025")
_COLLECTION = Path("ansible_collections", "confprov", "core")


def collections_path() -> Path:
    """The folder holding ``ansible_collections/confprov/core`` (an ANSIBLE_COLLECTIONS_PATH)."""
    checkout = _PACKAGE.parent / "collections"
    if (checkout / _COLLECTION).is_dir():
        return checkout
    return _PACKAGE.parent  # site-packages: the wheel puts the collection beside the package


def collection_root() -> Path:
    return collections_path() / _COLLECTION


def playbook(name: str) -> Path:
    return collection_root() / "playbooks" / name


def roles_path() -> Path:
    return collection_root() / "roles"


def modules_path() -> Path:
    return collection_root() / "plugins" / "modules"
