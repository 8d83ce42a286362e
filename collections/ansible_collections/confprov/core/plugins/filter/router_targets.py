"""confprov.core.router_targets: the routers of a play as the router_config module takes them."""

from __future__ import annotations

from typing import Any

DOCUMENTATION = r"""
name: router_targets
short_description: Build router_config's O(routers) list from the play's hosts and hostvars
description:
  - Reads, for each host, only the variables router_config needs (address, platform, site
    name, WAN interface and gateway, credentials from the vault), so one run_once task can
    push to every router without templating every host's whole variable set.
positional: _input, hostvars
options:
  _input: {description: Host names (usually C(ansible_play_hosts))., type: list, elements: str, required: true}
  hostvars: {description: C(hostvars)., type: dict, required: true}
  extra_config:
    description: Extra config lines by host name (or V(all)), added to each router's candidate.
    type: dict
    default: {}
"""

EXAMPLES = r"""
routers: "{{ ansible_play_hosts | confprov.core.router_targets(hostvars) }}"
"""

RETURN = r"""
_value: {description: One mapping per router., type: list, elements: dict}
"""


def router_targets(
    hosts: list[str], hostvars: Any, extra_config: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    extra = extra_config or {}
    out = []
    for host in hosts:
        v = hostvars[host]
        out.append(
            {
                "host": host,
                "address": v["ansible_host"],
                "platform": v["confprov_router_platform"],
                "site_name": v["confprov_site_name_ascii"],
                "wan_interface": v["confprov_router_wan_interface"],
                "wan_gateway": v["confprov_router_wan_gateway"],
                "username": v["confprov_router_username"],
                "password": v["confprov_router_password"],
                "extra_config": "\n".join(x for x in (extra.get("all", ""), extra.get(host, "")) if x),
            }
        )
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"router_targets": router_targets}
