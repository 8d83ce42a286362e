"""``--limit`` of every command: which sites of the registry a run is about.

One syntax for `provision`, `verify` and `routers`, each spec one of:

- a site: its host name (slug), id, an endpoint's or its router's host name or address, or its
  name, Vietnamese or not, with or without the "UBND xã" part (``Yên Tập``, ``yen tap``);
- ``district:NAME``: a district's own site and its communes;
- ``group:NAME``: the sites whose ``group`` column says NAME (any case, with or without
  diacritics) — the grouping of a two-tier registry, which has no districts;
- ``level:LEVEL``: a level of confprov/domain.py (``province``, ``district``, ``commune``,
  ``ward``, ``special_zone``, ``department``) or its Vietnamese name (``tỉnh``, ``huyện``, ``xã``,
  ``phường``, ``đặc khu``, ``sở``);
- a group of the rendered inventory: ``site_<slug>``, ``district_<slug>``, ``group_<slug>``,
  ``level_<level>`` (other groups and Ansible patterns such as ``cam-khe*`` are not taken).

Host names and addresses match in any case. Repeat ``--limit``, or separate specs with commas as
Ansible's ``--limit`` does (a site name that holds a comma still matches as a whole). Each form
maps onto a group of the rendered inventory, so what Ansible is told is what an operator reads
there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from confprov import domain
from confprov.exceptions import InputError, Problem
from confprov.inventory import group_name
from confprov.registry import LEVELS, Registry, Site
from confprov.slugs import ascii_fold, nfc, short_name, slugify

_SHOWN = 12  # names listed when a limit matches nothing
HELP = (
    "SITE, district:NAME, group:NAME, level:LEVEL or a group site_*, district_*, group_*, level_* "
    "(repeat, or separate with commas)"
)


@dataclass(frozen=True)
class Selection:
    groups: tuple[str, ...]  # the inventory groups the limits name (empty: no limit)
    sites: tuple[Site, ...]  # the sites selected, in registry order (every site: no limit)


def _key(text: str) -> str:
    return ascii_fold(nfc(text)).casefold().strip()


def names(sites: Sequence[Site]) -> str:
    shown = ", ".join(s.slug for s in sites[:_SHOWN])
    more = f" … ({len(sites)} in all)" if len(sites) > _SHOWN else ""
    return shown + more


def _exact(registry: Registry) -> dict[str, Site]:
    """Every host name, id and address of a site, to that site (the first site wins)."""
    index: dict[str, Site] = {}
    for s in registry.sites:
        keys = [s.slug, s.id, *s.endpoint_hosts, *s.endpoints]
        if s.router:
            keys += [s.router_host, s.router]
        for key in keys:
            if key:
                index.setdefault(key.casefold(), s)
    return index


def _match_site(registry: Registry, ref: str, exact: dict[str, Site]) -> list[Site]:
    """Sites ``ref`` names: host name, id or address first, else (short) name, maybe several."""
    if ref.casefold() in exact:
        return [exact[ref.casefold()]]
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


def _group(registry: Registry, value: str) -> tuple[str, list[Site], str]:
    """A group by its name, any case, with or without diacritics; or without its "huyện" or
    "thành phố" (``group:Lâm Thao`` for "huyện Lâm Thao"), when that names one group only."""
    groups = registry.groups()
    slug = slugify(value)
    if slug not in groups:
        short = [g for g in groups if slugify(short_name(registry.group_name(g))) == slug]
        slug = short[0] if len(short) == 1 else slug
    if slug not in groups:
        known = ", ".join(f"{registry.group_name(g)} ({g})" for g in groups) or "none"
        return "", [], f"no such group (known: {known})"
    return group_name("group", slug), groups[slug], ""


def _level(registry: Registry, value: str) -> tuple[str, list[Site], str]:
    level = domain.level_of(value)
    if not level:
        used = ", ".join(registry.count_levels())  # the levels this registry's sites have
        return "", [], f"no such level (known: {used})"
    members = [s for s in registry.sites if s.level == level]
    if not members:  # a level the registry's shape has not (district in a two-tier province)
        used = ", ".join(registry.count_levels())
        return "", [], f"no site of level {level} in this registry (levels: {used})"
    return f"level_{level}", members, ""


def _inventory_group(registry: Registry, spec: str) -> tuple[str, list[Site]] | None:
    """``site_…``, ``district_…`` or ``level_…`` exactly as the rendered inventory names them."""
    for site in registry.sites:
        if spec == group_name("site", site.slug):
            return spec, [site]
        if site.level == "district" and spec == group_name("district", site.slug):
            return spec, registry.members(site)
    for slug, members in registry.groups().items():
        if spec == group_name("group", slug):
            return spec, members
    level = spec.removeprefix("level_")
    if spec.startswith("level_") and level in LEVELS:
        return spec, [s for s in registry.sites if s.level == level]
    return None


def _site(registry: Registry, spec: str, exact: dict[str, Site]) -> tuple[str, list[Site], str]:
    matches = _match_site(registry, spec, exact)
    if len(matches) > 1:
        return "", [], f"names several sites: {names(matches)}; give one"
    if not matches:
        group = _inventory_group(registry, spec)
        if group:
            return group[0], group[1], ""
        return (
            "",
            [],
            "no such site: give a site's host name, name or address, district:NAME, "
            "group:NAME, level:LEVEL or a group site_*, district_*, group_*, level_* "
            f"(sites: {names(registry.sites)})",
        )
    return group_name("site", matches[0].slug), matches, ""


def _one(registry: Registry, spec: str, exact: dict[str, Site]) -> tuple[str, list[Site], str]:
    kind, _, value = spec.partition(":")
    if kind == "district" and value:
        return _district(registry, value)
    if kind == "group" and value:
        return _group(registry, value)
    if kind == "level" and value:
        return _level(registry, value)
    return _site(registry, spec, exact)


def _resolve(
    registry: Registry, spec: str, exact: dict[str, Site]
) -> tuple[list[tuple[str, list[Site]]], str]:
    """One ``--limit`` value: a spec, else (when that fails) its comma-separated specs."""
    name, sites, error = _one(registry, spec, exact)
    if not error:
        return [(name, sites)], ""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if "," not in spec or not parts:
        return [], error
    out = []
    for part in parts:
        name, sites, part_error = _one(registry, part, exact)
        if part_error:
            return [], f"{part}: {part_error}"
        out.append((name, sites))
    return out, ""


def select(registry: Registry, limits: Sequence[str] = ()) -> Selection:
    """The sites ``limits`` name (every site when none).

    Raise InputError (exit 2) naming every limit that matches nothing and what exists instead.
    """
    problems: list[Problem] = []
    groups: list[str] = []
    chosen: set[str] = set()
    exact = _exact(registry) if limits else {}
    for raw in limits:
        spec = raw.strip()
        found, error = _resolve(registry, spec, exact)
        if error:
            problems.append(Problem("--limit", None, spec, error))
        for name, sites in found:
            groups.append(name)
            chosen.update(s.slug for s in sites)
    if problems:
        raise InputError(problems)
    if not limits:
        return Selection((), tuple(registry.sites))
    picked = tuple(s for s in registry.sites if s.slug in chosen)
    return Selection(tuple(dict.fromkeys(groups)), picked)
