"""Which endpoints a run touches: the endpoints of the sites `--limit` selects.

The limits map onto groups of the rendered inventory (``site_<slug>``, ``district_<slug>``,
``level_<level>``), so what Ansible is told is what an operator reads in the inventory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from confprov.registry import Registry
from confprov.selection import select


@dataclass(frozen=True, kw_only=True)
class Targets:
    groups: tuple[str, ...]  # inventory groups the limits name (empty: every endpoint)
    hosts: tuple[str, ...]  # endpoint hosts the play will run on
    addresses: dict[str, str] = field(default_factory=dict)  # host -> management address
    windows: tuple[str, ...] = ()  # selected Windows endpoints (their own play and roles)
    windows_addresses: dict[str, str] = field(default_factory=dict)  # Windows host -> address


def resolve(
    registry: Registry, limits: Sequence[str] = (), only_hosts: Sequence[str] | None = None
) -> Targets:
    """The endpoints selected by ``limits`` (all when none), narrowed to ``only_hosts`` if given.

    Raise InputError naming every limit that matches nothing and what exists instead.
    """
    selection = select(registry, limits)
    addresses: dict[str, str] = {}
    windows: dict[str, str] = {}
    keep = set(only_hosts) if only_hosts is not None else None
    for site in selection.sites:
        for host, address in zip(site.endpoint_hosts, site.endpoints, strict=True):
            if keep is not None and host not in keep:
                continue
            if site.endpoint_os == "windows":
                windows[host] = address
            else:
                addresses[host] = address
    return Targets(
        groups=selection.groups,
        hosts=tuple(sorted(addresses)),
        addresses=addresses,
        windows=tuple(sorted(windows)),
        windows_addresses=windows,
    )
