"""Which endpoints a run touches: ``--limit SITE|district:NAME|level:LEVEL`` on the registry.

Each form maps onto a group of the rendered inventory (``site_<slug>``, ``district_<slug>``,
``level_<level>``), so what Ansible is told is what an operator reads in the inventory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from confprov.exceptions import InputError, Problem
from confprov.inventory import group_name
from confprov.registry import LEVEL_ALIASES, LEVELS, Registry, Site
from confprov.slugs import ascii_fold, nfc, short_name

_SHOWN = 12  # names listed when a limit matches nothing


@dataclass(frozen=True)
class Targets:
    groups: tuple[str, ...]  # inventory groups the limits name (empty: every endpoint)
    hosts: tuple[str, ...]  # endpoint hosts the play will run on
    addresses: dict[str, str] = field(default_factory=dict)  # host -> management address
    windows: tuple[str, ...] = ()  # selected Windows endpoints: not provisioned by these roles


def _key(text: str) -> str:
    return ascii_fold(nfc(text)).casefold().strip()


def _names(sites: Sequence[Site]) -> str:
    shown = ", ".join(s.slug for s in sites[:_SHOWN])
    more = f" … ({len(sites)} in all)" if len(sites) > _SHOWN else ""
    return shown + more


def _match_site(registry: Registry, ref: str) -> list[Site]:
    """Sites ``ref`` names: by host name or id first, else by (short) name, maybe several."""
    exact = [s for s in registry.sites if ref in (s.slug, s.id, *s.endpoint_hosts)]
    if exact:
        return exact[:1]
    want = _key(ref)
    return [
        s
        for s in registry.sites
        if want in (s.slug, _key(s.name), _key(short_name(s.name))) and want
    ]


def _match_district(registry: Registry, ref: str) -> Site | None:
    want = _key(ref)
    for district in registry.districts():
        if want in (district.slug, _key(district.name), _key(short_name(district.name))):
            return district
    return None


def _district(registry: Registry, value: str) -> tuple[str, list[Site], str]:
    district = _match_district(registry, value)
    if district is None:
        known = ", ".join(f"{d.slug} ({d.name})" for d in registry.districts()) or "none"
        return "", [], f"no such district (known: {known})"
    return group_name("district", district.slug), registry.members(district), ""


def _level(registry: Registry, value: str) -> tuple[str, list[Site], str]:
    level = LEVEL_ALIASES.get(nfc(value).casefold(), value.casefold())
    if level not in LEVELS:
        return "", [], f"no such level (known: {', '.join(LEVELS)})"
    return f"level_{level}", [s for s in registry.sites if s.level == level], ""


def _site(registry: Registry, spec: str) -> tuple[str, list[Site], str]:
    matches = _match_site(registry, spec)
    if len(matches) > 1:
        return "", [], f"names several sites: {_names(matches)}; give one"
    if not matches:
        return (
            "",
            [],
            "no such site: give a site's host name or name, district:NAME or level:LEVEL "
            f"(sites: {_names(registry.sites)})",
        )
    return group_name("site", matches[0].slug), matches, ""


def _group(registry: Registry, spec: str, problems: list[Problem]) -> tuple[str, list[Site]]:
    kind, _, value = spec.partition(":")
    if kind == "district" and value:
        name, sites, error = _district(registry, value)
    elif kind == "level" and value:
        name, sites, error = _level(registry, value)
    else:
        name, sites, error = _site(registry, spec)
    if error:
        problems.append(Problem("--limit", None, spec, error))
    return name, sites


def resolve(
    registry: Registry, limits: Sequence[str] = (), only_hosts: Sequence[str] | None = None
) -> Targets:
    """The endpoints selected by ``limits`` (all when none), narrowed to ``only_hosts`` if given.

    Raise InputError naming every limit that matches nothing and what exists instead.
    """
    problems: list[Problem] = []
    groups: list[str] = []
    chosen: dict[str, Site] = {}
    for spec in limits:
        name, sites = _group(registry, spec.strip(), problems)
        if name:
            groups.append(name)
            chosen.update((s.slug, s) for s in sites)
    if problems:
        raise InputError(problems)
    sites = list(chosen.values()) if limits else registry.sites
    addresses: dict[str, str] = {}
    windows: list[str] = []
    keep = set(only_hosts) if only_hosts is not None else None
    for site in sites:
        for host, address in zip(site.endpoint_hosts, site.endpoints, strict=True):
            if keep is not None and host not in keep:
                continue
            if site.endpoint_os == "windows":
                windows.append(host)
            else:
                addresses[host] = address
    return Targets(tuple(groups), tuple(sorted(addresses)), addresses, tuple(sorted(windows)))
