# Copyright: confprov developers
# Apache License 2.0 (see LICENSE)
"""Inventory source reading a confprov workspace's site registry directly."""

from __future__ import annotations

DOCUMENTATION = r"""
name: registry
short_description: The sites of a confprov workspace as an inventory
version_added: "0.1.0"
description:
  - Reads a confprov workspace (C(confprov.yml) and its site registry, C(sites.csv) or
    C(sites.yml)), validates it exactly as C(confprov check) does, and yields the same hosts,
    groups and variables as the inventory C(confprov inventory) renders into the workspace.
  - Use it as an AWX inventory source or with C(ansible-inventory -i FILE), where FILE is a YAML
    file whose name ends in C(.confprov.yml) (or is C(confprov_inventory.yml)).
  - Secrets are never read here; SIP and router passwords stay references into the workspace's
    vault.
  - Needs the C(confprov) Python package where the plugin runs.
options:
  plugin:
    description: The name of this plugin; must be C(confprov.core.registry).
    required: true
    choices: ['confprov.core.registry']
  workspace:
    description:
      - The confprov workspace folder. Relative paths are relative to this file's folder.
      - Defaults to the folder holding this file. C(~) is expanded.
    type: str
requirements:
  - confprov (the Python package, where the plugin runs; in AWX the execution environment)
"""

EXAMPLES = r"""
# inventory/phu-tho.confprov.yml
plugin: confprov.core.registry
workspace: /srv/confprov/phu-tho
"""

from pathlib import Path
from typing import Any

import yaml
from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.template import trust_as_template

try:
    from confprov.exceptions import InputError
    from confprov.inventory import render_files
    from confprov.workspace import load
except ImportError as _exc:  # reported when the plugin is used, not when Ansible lists plugins
    _IMPORT_ERROR: ImportError | None = _exc
else:
    _IMPORT_ERROR = None

# Variables whose values are meant as templates (references into the vault, the controller's
# Python); everything that comes from the registry stays untrusted data.
_TEMPLATED = frozenset(
    {
        "confprov_sip_password",
        "confprov_router_login",
        "confprov_router_username",
        "confprov_router_passwords",
        "confprov_router_default_password",
        "confprov_router_password",
        "ansible_python_interpreter",
    }
)


def _vars(data: dict[str, Any] | None) -> dict[str, Any]:
    return {
        key: trust_as_template(value) if key in _TEMPLATED and isinstance(value, str) else value
        for key, value in (data or {}).items()
    }


class InventoryModule(BaseInventoryPlugin):  # type: ignore[misc]  # Ansible's base is untyped
    NAME = "confprov.core.registry"

    def verify_file(self, path: str) -> bool:
        name = Path(path).name
        return bool(super().verify_file(path)) and (
            name.endswith((".confprov.yml", ".confprov.yaml")) or name == "confprov_inventory.yml"
        )

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        if _IMPORT_ERROR is not None:
            raise AnsibleParserError(
                f"confprov.core.registry needs the confprov Python package: {_IMPORT_ERROR}"
            )
        self._read_config_data(path)
        base = Path(path).absolute().parent
        workspace = base / Path(self.get_option("workspace") or base).expanduser()
        try:
            loaded = load(workspace.resolve())
            files = render_files(loaded.workspace, loaded.registry, loaded.config)
        except InputError as exc:
            raise AnsibleParserError(f"confprov workspace {workspace}:\n{exc}") from None
        self._add_groups(yaml.safe_load(files["hosts.yml"])["all"]["children"])
        for rel, text in files.items():
            folder, _, name = rel.partition("/")
            target = name[: -len(".yml")]
            if folder == "group_vars":
                group = self.inventory.add_group(target)
                for key, value in _vars(yaml.safe_load(text)).items():
                    self.inventory.set_variable(group, key, value)
            elif folder == "host_vars":
                host = self.inventory.add_host(target)
                for key, value in _vars(yaml.safe_load(text)).items():
                    self.inventory.set_variable(host, key, value)

    def _add_groups(self, children: dict[str, dict[str, Any] | None]) -> None:
        for name, body in children.items():
            group = self.inventory.add_group(name)
            self.inventory.add_child("all", group)
            for host in (body or {}).get("hosts") or {}:
                self.inventory.add_host(host, group=group)
            for child in (body or {}).get("children") or {}:
                self.inventory.add_group(child)
                self.inventory.add_child(group, child)
