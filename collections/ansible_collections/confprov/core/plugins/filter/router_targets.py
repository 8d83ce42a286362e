"""confprov.core.router_targets: the routers of a play as the router_config module takes them."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: router_targets
short_description: Build router_config's O(routers) list from the play's hosts
version_added: "0.1.0"
description:
  - For each host, the values router_config needs (address, platform, site name, WAN interface
    and gateway, credentials from the vault).
  - Hosts found in O(routers) (confprov's rendered inventory carries every router there, in
    C(confprov_routers)) are read from that one map, with O(username) and O(passwords) or
    O(password). No host's variable set is templated, which at hundreds of routers costs more
    than a second (1.2 s for 298).
  - Any other host is read from its own C(hostvars) (C(ansible_host), C(confprov_router_platform),
    C(confprov_site_name_ascii), C(confprov_router_wan_interface), C(confprov_router_wan_gateway),
    C(confprov_router_username), C(confprov_router_password)), so an inventory without the map
    still works.
positional: _input, hostvars
options:
  _input: {description: Host names (usually C(ansible_play_hosts))., type: list, elements: str, required: true}
  hostvars: {description: C(hostvars)., type: dict, required: true}
  extra_config:
    description: Extra config lines by host name (or V(all)), added to each router's candidate.
    type: dict
    default: {}
  routers:
    description:
      - Site values by host name (C(confprov_routers)), each with V(address), V(platform),
        V(site_name), V(wan_interface) and V(wan_gateway).
    type: dict
    default: {}
  username:
    description: SSH login of the routers found in O(routers).
    type: str
  passwords:
    description: Per-router passwords by host name (from the vault).
    type: dict
    default: {}
  password:
    description: The password of a router in O(routers) without its own in O(passwords).
    type: str
requirements:
  - confprov (the Python package, on the controller; the filter adapts confprov.routers.targets)
"""

EXAMPLES = r"""
- name: Configure the play's routers, read from each host's variables
  confprov.core.router_config:
    routers: "{{ ansible_play_hosts | confprov.core.router_targets(hostvars) }}"
    conference: "{{ confprov_conference }}"
    workspace: "{{ confprov_workspace }}"
  run_once: true

- name: With confprov's rendered inventory, one map instead of every host's variables
  confprov.core.router_config:
    routers: >-
      {{ ansible_play_hosts | confprov.core.router_targets(hostvars,
           routers=confprov_routers, username=confprov_router_username,
           passwords=confprov_router_passwords,
           password=confprov_router_default_password | default(none)) }}
    conference: "{{ confprov_conference }}"
    workspace: "{{ confprov_workspace }}"
  run_once: true
"""

RETURN = r"""
_value: {description: One mapping per router., type: list, elements: dict}
"""


def _from_hostvars(hostvars: Any) -> Any:
    """A host outside the map: its site values and credentials from its own hostvars."""

    def read(host: str) -> dict[str, Any]:
        v = hostvars[host]
        return {
            "address": v["ansible_host"],
            "platform": v["confprov_router_platform"],
            "site_name": v["confprov_site_name_ascii"],
            "wan_interface": v["confprov_router_wan_interface"],
            "wan_gateway": v["confprov_router_wan_gateway"],
            "username": v["confprov_router_username"],
            "password": v["confprov_router_password"],
        }

    return read


def router_targets(
    hosts: list[str],
    hostvars: Any,
    extra_config: dict[str, str] | None = None,
    *,
    routers: dict[str, Any] | None = None,
    username: str | None = None,
    passwords: dict[str, Any] | None = None,
    password: str | None = None,
) -> list[dict[str, Any]]:
    """A thin adapter: confprov.routers.targets.build defines a target, for the API too."""
    from confprov.routers import targets

    try:
        built = targets.build(
            hosts,
            routers or {},
            username=username,
            passwords=passwords,
            password=password,
            extra_config=extra_config,
            outside=_from_hostvars(hostvars),
        )
    except targets.TargetProblems as exc:
        problems = exc.problems
        raise AnsibleFilterError(
            f"{len(problems)} problem(s) with the routers' values: "
            + "; ".join(problems[:20])
            + " (site values: run `confprov inventory`; passwords: vault_router_passwords[HOST] "
            "or vault_router_password in the workspace's vault.yml, `ansible-vault edit`)"
        ) from None
    return [targets.as_vars(t) for t in built]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"router_targets": router_targets}
