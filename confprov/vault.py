"""Ansible-vault files, read and written with ansible-core's own VaultLib.

The password is passed in memory only: never as a process argument, never into a run folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from confprov import safefile, yamlutil
from confprov.exceptions import InputError, Problem

PASSWORD_ENV = "CONFPROV_VAULT_PASSWORD"  # noqa: S105 - the variable's name, not a password
PASSWORD_FILE = ".vault-pass"  # noqa: S105 - a file name
VAULT_FILE = "vault.yml"
_HEADER = b"$ANSIBLE_VAULT;"


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

    if not path.exists():
        raise InputError([Problem(str(path), None, None, "vault file not found")])
    if path.name == VAULT_FILE:
        check_vault(path.parent)
    else:
        safefile.check_input(path, "vault")
    try:
        raw = path.read_bytes()
        plain = _lib(password).decrypt(raw)
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
    """Vault password: environment variable first, then ``.vault-pass`` in the workspace.

    The file is refused when group or others may read it (the fix is in the message), when it is
    not a regular file, and when it is empty: an empty password would "work" with any vault
    encrypted with one, and a FIFO would hang the command.
    """
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    pass_file = workspace / PASSWORD_FILE
    if not pass_file.exists() and not pass_file.is_symlink():
        raise InputError(
            [
                Problem(
                    str(pass_file),
                    None,
                    None,
                    f"no vault password: create this file (mode 0600) or set {PASSWORD_ENV}",
                )
            ]
        )
    mode = pass_file.stat().st_mode
    if stat.S_ISREG(mode) and mode & 0o077:
        raise InputError(
            [
                Problem(
                    str(pass_file),
                    None,
                    None,
                    f"readable by others (mode {stat.S_IMODE(mode):04o}): anyone on this machine "
                    f"could read the vault; run `chmod 600 {pass_file}` (and consider the "
                    "password known: re-key the vault with `ansible-vault rekey`)",
                )
            ]
        )
    password = safefile.read_input(pass_file, "vault password file").decode("utf-8").strip()
    if not password:
        raise InputError(
            [Problem(str(pass_file), None, None, "empty: put the vault password in it")]
        )
    return password


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(_HEADER)) == _HEADER


def check_vault(workspace: Path) -> Path | None:
    """The workspace's vault, refused when it is not encrypted; None when there is none.

    Checked before any run: a vault in clear text means its secrets are already exposed to
    anyone who can read (or back up, or commit) the workspace.
    """
    path = workspace / VAULT_FILE
    if not path.exists():
        return None
    safefile.check_input(path, "vault")
    if not is_encrypted(path):
        raise InputError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    "not encrypted: its secrets are readable by anyone who can read the "
                    f"workspace; encrypt it: `ansible-vault encrypt --vault-password-file "
                    f"{workspace / PASSWORD_FILE} {path}`",
                )
            ]
        )
    return path


def require(data: dict[str, Any], keys: list[str], path: Path, needed_for: str) -> None:
    """Refuse a vault that lacks keys a command needs, naming every one (never a value)."""
    missing = [key for key in keys if data.get(key) in (None, "")]
    if missing:
        raise InputError(
            [
                Problem(str(path), None, key, f"missing from the vault (needed for {needed_for})")
                for key in missing
            ]
        )


def write_password_file(path: Path, password: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    path.chmod(0o600)
