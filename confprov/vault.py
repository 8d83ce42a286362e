"""Ansible-vault files, read and written with ansible-core's own VaultLib.

The password is passed in memory only: never as a process argument, never into a run folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from confprov import yamlutil
from confprov.exceptions import InputError, Problem

PASSWORD_ENV = "CONFPROV_VAULT_PASSWORD"  # noqa: S105 - the variable's name, not a password


def _lib(password: str) -> Any:
    # Imported here: ansible-core takes a fifth of a second to import, and most commands never
    # decrypt (a provision run passes the password to ansible-playbook without opening the vault).
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    return VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password.encode()))])


def encrypt(data: dict[str, Any], password: str) -> str:
    """Return the vault text of ``data`` (a YAML mapping)."""
    plain = yaml.safe_dump(data, allow_unicode=True, sort_keys=True)
    encrypted: bytes = _lib(password).encrypt(plain)
    return encrypted.decode()


def decrypt(path: Path, password: str) -> dict[str, Any]:
    from ansible.errors import AnsibleError

    try:
        raw = path.read_bytes()
        plain = _lib(password).decrypt(raw)
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, None, "vault file not found")]) from None
    except (AnsibleError, ValueError) as exc:
        raise InputError(
            [Problem(str(path), None, None, f"cannot decrypt ({exc}); check the vault password")]
        ) from None
    try:
        loaded = yamlutil.safe_load(plain.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        # The message names the line, never quotes it: the line holds a secret.
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(
            [Problem(str(path), line, None, "decrypted, but not a valid YAML mapping")]
        ) from None
    if not isinstance(loaded, dict):
        raise InputError([Problem(str(path), None, None, "vault must hold a YAML mapping")])
    return loaded


def read_password(workspace: Path) -> str:
    """Vault password: environment variable first, then ``.vault-pass`` in the workspace."""
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    pass_file = workspace / ".vault-pass"
    try:
        return pass_file.read_text().strip()
    except FileNotFoundError:
        raise InputError(
            [
                Problem(
                    str(pass_file),
                    None,
                    None,
                    f"no vault password: create this file (mode 0600) or set {PASSWORD_ENV}",
                )
            ]
        ) from None


def write_password_file(path: Path, password: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    path.chmod(0o600)
