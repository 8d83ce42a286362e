"""confprov.core.router_login: the routers' login by confprov's one rule (confprov.routers)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

DOCUMENTATION = r"""
name: router_login
short_description: The routers' login, username and passwords from one source
version_added: "0.1.0"
description:
  - Takes the vault's router variables and returns the login the routers get, by the rule of
    C(confprov.routers.targets.login) (the one C(confprov verify)'s router checks use too).
  - The vault's pair (C(vault_router_username) with C(vault_router_passwords[host]) else
    C(vault_router_password)); else, when O(fallback) is true, C(ansible_user)/C(ansible_password)
    (AWX Machine credential); else C(ANSIBLE_NET_USERNAME)/C(ANSIBLE_NET_PASSWORD) from the
    controller's environment (AWX Network credential). A username never goes with another
    source's password.
  - confprov's own runs set O(fallback) false (C(confprov_router_login_fallback)), so the CLI
    never logs in as the operator's C(ANSIBLE_REMOTE_USER) or an C(ansible.cfg)'s C(remote_user).
positional: _input
options:
  _input:
    description: C(vault_router_username), C(vault_router_password), C(vault_router_passwords).
    type: dict
    required: true
  user:
    description: C(ansible_user), or none.
    type: str
  password:
    description: C(ansible_password), or none.
    type: str
  fallback:
    description: Whether a login may come from anywhere but the vault.
    type: bool
    default: true
requirements:
  - confprov (the Python package, on the controller; in AWX the execution environment)
"""

EXAMPLES = r"""
confprov_router_login: >-
  {{ {'vault_router_username': vault_router_username | default(none)}
     | confprov.core.router_login(user=ansible_user | default(none),
                                  fallback=confprov_router_login_fallback | default(true)) }}
"""

RETURN = r"""
_value:
  description: C(username), C(password) (the default), C(passwords) (by router) and C(source).
  type: dict
"""


def router_login(
    secrets: dict[str, Any],
    user: Any = None,
    password: Any = None,
    fallback: bool = True,
) -> dict[str, Any]:
    """A thin adapter: confprov.routers.targets.login is the rule."""
    from confprov.routers import targets

    if not isinstance(secrets, dict):
        raise AnsibleFilterError("router_login: takes a mapping of the vault's router variables")
    try:  # "false" from `-e key=value` or an AWX survey is false, not a non-empty string
        allowed = boolean(fallback, strict=True)
    except TypeError as exc:
        raise AnsibleFilterError(f"router_login: {targets.LOGIN_FALLBACK}: {exc}") from None
    chosen = targets.login(secrets, user=user, password=password, fallback=allowed)
    return {
        "source": chosen.source,
        "username": chosen.username,
        "password": chosen.password,
        "passwords": chosen.passwords,
    }


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"router_login": router_login}
