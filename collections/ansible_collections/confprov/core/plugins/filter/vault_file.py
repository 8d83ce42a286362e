"""confprov.core.vault_file: the vault a play loads, an error when a named vault is missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: vault_file
short_description: The vault file a play's vars_files loads
version_added: "0.1.0"
description:
  - Takes C(confprov_vault_file) and returns the file for the play's C(vars_files) entry.
  - Unset or empty means no vault; the result is then C(/dev/null), which loads nothing.
  - A named file that does not exist is an error naming it, here, once and plainly (a job
    without its vault would run on without secrets, so every endpoint's SIP login fails and
    routers are refused), whatever ansible-core's own handling of a missing C(vars_files)
    entry in each context.
  - A relative path is relative to the folder ansible-playbook runs in (AWX, the project's root).
positional: _input
options:
  _input:
    description: The vault's path, or empty (or none) for no vault.
    type: str
    required: true
"""

EXAMPLES = r"""
vars_files:
  - "{{ confprov_vault_file | default('') | confprov.core.vault_file }}"
"""

RETURN = r"""
_value: {description: The vault's absolute path, or C(/dev/null) for no vault., type: str}
"""

NO_VAULT = os.devnull


def vault_file(path: Any) -> str:
    if path is None or str(path) == "":
        return NO_VAULT
    full = Path(str(path)).expanduser().absolute()
    if not full.is_file():
        raise AnsibleFilterError(
            f"confprov_vault_file {full}: no such file; point confprov_vault_file at the "
            "workspace's vault.yml, or set it empty for a run without a vault"
        )
    return str(full)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"vault_file": vault_file}
