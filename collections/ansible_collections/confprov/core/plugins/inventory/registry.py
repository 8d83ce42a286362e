# Copyright: confprov developers
# Apache License 2.0 (see LICENSE)
"""Inventory source reading a confprov workspace's site registry directly."""

from __future__ import annotations

DOCUMENTATION = r"""
name: registry
short_description: The sites of a confprov workspace as an inventory
description:
  - Reads a confprov workspace (C(confprov.yml) and its site registry, C(sites.csv) or C(sites.yml)),
    validates it exactly as C(confprov check) does, and yields the same hosts, groups and variables as
    the inventory C(confprov inventory) renders into the workspace.
  - Use it as an AWX inventory source or with C(ansible-inventory -i FILE), where FILE is a YAML file
    whose name ends in C(.confprov.yml) (or is C(confprov_inventory.yml)).
  - Secrets are never read here; SIP and router passwords stay references into the workspace's vault.
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
"""

EXAMPLES = r"""
# inventory/phu-tho.confprov.yml
plugin: confprov.core.registry
workspace: /srv/confprov/phu-tho
"""

import os

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
        "confprov_router_username",
        "confprov_router_passwords",
        "confprov_router_default_password",
        "confprov_router_password",
        "ansible_python_interpreter",
    }
)


def _vars(data):
    return {
        key: trust_as_template(value) if key in _TEMPLATED and isinstance(value, str) else value
        for key, value in (data or {}).items()
    }


class InventoryModule(BaseInventoryPlugin):
    NAME = "confprov.core.registry"

    def verify_file(self, path):
        name = os.path.basename(path)
        return super().verify_file(path) and (
            name.endswith((".confprov.yml", ".confprov.yaml")) or name == "confprov_inventory.yml"
        )

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        if _IMPORT_ERROR is not None:
            raise AnsibleParserError(
                f"confprov.core.registry needs the confprov Python package: {_IMPORT_ERROR}"
            )
        self._read_config_data(path)
        base = os.path.dirname(os.path.abspath(path))
        workspace = os.path.join(base, os.path.expanduser(self.get_option("workspace") or base))
        from pathlib import Path

        try:
            loaded = load(Path(workspace).resolve())
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

    def _add_groups(self, children):
        for name, body in children.items():
            group = self.inventory.add_group(name)
            self.inventory.add_child("all", group)
            body = body or {}
            for host in body.get("hosts") or {}:
                self.inventory.add_host(host, group=group)
            for child in body.get("children") or {}:
                self.inventory.add_group(child)
                self.inventory.add_child(group, child)
