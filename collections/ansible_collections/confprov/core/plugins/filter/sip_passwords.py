"""confprov.core.sip_passwords: the SIP passwords as strings, from the vault or a credential."""

from __future__ import annotations

import re
from typing import Any

import yaml
from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: sip_passwords
short_description: The endpoints' SIP passwords by host, every password a string
version_added: "0.1.0"
description:
  - >-
    Takes C(vault_sip_passwords), the vault's mapping, or the text the "confprov SIP accounts"
    credential type injects (one line per endpoint, the host, a colon, the password).
  - >-
    Text is read with a loader that keeps every value a string, so C(0123), C(yes), C(12:30) and
    C(null) stay those characters (C(ansible.builtin.from_yaml) would make them 83, true, 750 and
    none). A password holding a space and a hash sign (an error here, YAML would cut it there)
    or starting with a quote, C({), C([), C(&), C(*), C(!), C(|), C(>), C(%) or C(@) needs YAML
    quoting.
  - >-
    Text that is not a mapping of host to password is an error naming the host whose play asked,
    never the text itself (it holds secrets).
positional: _input
options:
  _input:
    description: A mapping of host to password, or such YAML text.
    type: raw
    required: true
  host:
    description: The host whose password is wanted, to name it in an error.
    type: str
    required: true
"""

EXAMPLES = r"""
confprov_sip_password: >-
  {{ (vault_sip_passwords | confprov.core.sip_passwords(inventory_hostname))[inventory_hostname] }}
"""

RETURN = r"""
_value: {description: The passwords by host name., type: dict}
"""


# A `host: value` line whose value is unquoted: YAML reads " #" in it as a comment's start.
_PLAIN = re.compile(r"""^\s*([^\s#'"][^:]*):\s+([^'"\s].*)$""")


def _cut_by_comment(text: str) -> tuple[int, str] | None:
    """The first line whose unquoted password YAML would cut at " #" (silently: a wrong login)."""
    for number, line in enumerate(text.splitlines(), start=1):
        found = _PLAIN.match(line)
        if found and " #" in found.group(2):
            return number, found.group(1).strip()
    return None


def _own(data: dict[str, Any], host: str) -> dict[str, Any]:
    """The host's own password must be a non-empty string, by whichever route it came (a vault
    edited by hand with ``ep1: 0123`` is read by Ansible as the number 83: a wrong login)."""
    if host in data and (not isinstance(data[host], str) or not data[host]):
        raise AnsibleFilterError(
            f"{host}: vault_sip_passwords[{host}] must be a non-empty text; quote it: "
            f'{host}: "PASSWORD"'
        )
    return data


def sip_passwords(value: Any, host: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return _own(value, host)
    where = f"{host}: vault_sip_passwords"
    if not isinstance(value, str):
        raise AnsibleFilterError(f"{where} must be a mapping of host name to password")
    cut = _cut_by_comment(value)
    if cut is not None:
        raise AnsibleFilterError(
            f"{where}, line {cut[0]} ({cut[1]}): the password holds ' #', where YAML starts a "
            'comment; quote it: HOST: "PASSWORD"'
        )
    try:
        # BaseLoader: every scalar a string (YAML 1.1 typing would turn 0123 into 83).
        data = yaml.load(value, Loader=yaml.BaseLoader)  # noqa: S506  # BaseLoader builds no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise AnsibleFilterError(
            f'{where}: not valid YAML{line}; one line per endpoint: HOST: "PASSWORD"'
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise AnsibleFilterError(
            f"{where} must be a mapping of host name to password, one line per endpoint: "
            'HOST: "PASSWORD"'
        )
    return _own(data, host)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"sip_passwords": sip_passwords}
