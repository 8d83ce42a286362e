"""The lab's address plan and site list: pure data, no side effects (unit-testable without root).

Every lab name gets a slot, and every slot a /18 inside 198.18.0.0/15 (eight slots), so two labs
coexist without sharing an address. Inside a slot:

========================  =========================================================
``+0.0/21``               management: controller ``.1``, conference host ``.2``,
                          site *i*: endpoint ``10 + 2i``, router ``11 + 2i``
``+8.0/21``               WAN: conference host ``.1`` (the routers' next hop), router *i* ``2 + i``
``+16.0/21``              site LANs: a /30 per site, router ``.1``, endpoint ``.2``
``+32.0/24``              conference network (behind the conference host): server ``.10``
========================  =========================================================
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from confprov.domain import LEVELS
from confprov.exceptions import InputError, Problem
from confprov.registry import COLUMNS, load_registry
from confprov.slugs import site_slug

LAB_RANGE = ipaddress.IPv4Network("198.18.0.0/15")
SLOT_PREFIX = 18
SLOTS = 2 ** (SLOT_PREFIX - LAB_RANGE.prefixlen)
# A Linux bridge holds at most 1024 ports; the management bridge has one per host.
MAX_SITES = 500
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
# The registry's own columns, up to the router's, and the group: the lab fills these and leaves
# the rest empty.
CSV_COLUMNS = (*COLUMNS[: COLUMNS.index("router_wan_gateway") + 1], "group")
WAN_IF = "wan"


@dataclass(frozen=True)
class SiteSpec:
    """A site as the operator named it (before lab addresses)."""

    name: str
    level: str
    parent: str  # parent's slug ("" for the province or a top-level site)
    slug: str
    id: str = ""
    group: str = ""  # the registry's free group column (a two-tier province's grouping)


@dataclass(frozen=True)
class LabSite:
    index: int
    slug: str
    name: str
    level: str
    parent: str
    id: str
    endpoint_mgmt: str
    router_mgmt: str
    router_wan: str
    router_lan: str
    endpoint_lan: str
    lan_prefix: int
    endpoint_ns: str
    router_ns: str
    group: str = ""


@dataclass(frozen=True)
class LabPlan:
    name: str
    slot: int
    block: str
    mgmt_net: str
    wan_net: str
    lan_net: str
    conf_net: str
    controller_mgmt: str
    conf_mgmt: str
    conf_wan: str
    conf_server: str
    conf_ns: str
    bridge: str
    sites: tuple[LabSite, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabPlan:
        sites = tuple(LabSite(**s) for s in data["sites"])
        return cls(**{**data, "sites": sites})

    def site(self, ref: str) -> LabSite:
        """A site by slug, name or id (as an operator would type it)."""
        folded = ref.casefold()
        for site in self.sites:
            if folded in (site.slug.casefold(), site.name.casefold(), site.id.casefold()):
                return site
        raise InputError(
            f"lab {self.name}: no site {ref!r} (sites: "
            f"{', '.join(s.slug for s in self.sites[:8])}{', …' if len(self.sites) > 8 else ''})"
        )

    def mgmt_addresses(self) -> list[str]:
        return [self.conf_mgmt, *(a for s in self.sites for a in (s.endpoint_mgmt, s.router_mgmt))]

    def levels(self) -> dict[str, int]:
        """Sites per level, every level of confprov/domain.py in its order (0: none)."""
        counts = dict.fromkeys(LEVELS, 0)
        for site in self.sites:
            counts[site.level] += 1
        return counts


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InputError(
            f"lab name {name!r}: use 1-10 lower-case letters or digits, starting with a letter "
            "(it becomes part of interface and namespace names)"
        )
    return name


def slot_block(slot: int) -> ipaddress.IPv4Network:
    return list(LAB_RANGE.subnets(new_prefix=SLOT_PREFIX))[slot]


def make_plan(name: str, slot: int, specs: list[SiteSpec]) -> LabPlan:
    if not specs:
        raise InputError("a lab needs at least one site")
    if len(specs) > MAX_SITES:
        raise InputError(f"{len(specs)} sites: a lab holds at most {MAX_SITES}")
    block = slot_block(slot)
    base = int(block.network_address)

    def addr(offset: int) -> str:
        return str(ipaddress.IPv4Address(base + offset))

    mgmt, wan, lan, conf = 0, 8 * 256, 16 * 256, 32 * 256
    sites = []
    for i, spec in enumerate(specs):
        sites.append(
            LabSite(
                index=i,
                slug=spec.slug,
                name=spec.name,
                level=spec.level,
                parent=spec.parent,
                id=spec.id,
                endpoint_mgmt=addr(mgmt + 10 + 2 * i),
                router_mgmt=addr(mgmt + 11 + 2 * i),
                router_wan=addr(wan + 2 + i),
                router_lan=addr(lan + 4 * i + 1),
                endpoint_lan=addr(lan + 4 * i + 2),
                lan_prefix=30,
                endpoint_ns=f"cp-{name}-e{i}",
                router_ns=f"cp-{name}-r{i}",
                group=spec.group,
            )
        )
    plan = LabPlan(
        name=name,
        slot=slot,
        block=str(block),
        mgmt_net=f"{addr(mgmt)}/21",
        wan_net=f"{addr(wan)}/21",
        lan_net=f"{addr(lan)}/21",
        conf_net=f"{addr(conf)}/24",
        controller_mgmt=addr(mgmt + 1),
        conf_mgmt=addr(mgmt + 2),
        conf_wan=addr(wan + 1),
        conf_server=addr(conf + 10),
        conf_ns=f"cp-{name}-conf",
        bridge=f"cp{slot}mgmt",
        sites=tuple(sites),
    )
    _assert_inside(plan)
    return plan


def _assert_inside(plan: LabPlan) -> None:
    """The hard rule: every lab address lies in 198.18.0.0/15 (and in the lab's own block)."""
    block = ipaddress.IPv4Network(plan.block)
    for net in (plan.mgmt_net, plan.wan_net, plan.lan_net, plan.conf_net):
        if not ipaddress.IPv4Network(net).subnet_of(block) or not block.subnet_of(LAB_RANGE):
            raise AssertionError(f"lab network {net} outside {block}")


# ----------------------------------------------------------------------------- site lists


def generated_sites(count: int) -> list[SiteSpec]:
    """A small province with every level: the centre, then districts, communes and departments."""
    if count < 1:
        raise InputError("--sites must be at least 1")
    rows: list[tuple[str, str, str]] = [("Trung tâm Hội nghị tỉnh Diễn Tập", "province", "")]
    pattern = ("district", "commune", "department", "commune", "commune")
    district = ""
    counters = {"district": 0, "commune": 0, "department": 0}
    for i in range(count - 1):
        level = pattern[i % len(pattern)]
        counters[level] += 1
        n = counters[level]
        if level == "district":
            district = f"UBND huyện Đồi {n}"
            rows.append((district, level, ""))
        elif level == "commune":
            rows.append((f"UBND xã Suối {n}", level, district))
        else:
            rows.append((f"Sở Ban {n}", level, ""))
    return _specs_from_rows([{"id": "", "name": n, "level": lv, "parent": p} for n, lv, p in rows])


def _specs_from_rows(rows: list[dict[str, str]]) -> list[SiteSpec]:
    """Slugs as docs/registry.md defines them (a commune gets its district's slug as suffix)."""
    by_name: dict[str, dict[str, str]] = {r["name"]: r for r in rows}
    slugs: dict[str, str] = {}

    def slug_of(row: dict[str, str]) -> str:
        if row["name"] in slugs:
            return slugs[row["name"]]
        if row.get("id"):
            slug = row["id"]
        else:
            parent = by_name.get(row.get("parent", ""))
            district = slug_of(parent) if row["level"] == "commune" and parent else None
            slug = site_slug(row["name"], district)
        slugs[row["name"]] = slug
        return slug

    specs = []
    for row in rows:
        parent = by_name.get(row.get("parent", ""))
        specs.append(
            SiteSpec(
                name=row["name"],
                level=row["level"],
                parent=slug_of(parent) if parent else "",
                slug=slug_of(row),
                id=row.get("id", ""),
            )
        )
    return specs


def registry_sites(path: Path) -> list[SiteSpec]:
    """Names, levels and parents of a registry file (validated by confprov's registry loader)."""
    registry = load_registry(path)
    return [
        SiteSpec(name=s.name, level=s.level, parent=s.parent, slug=s.slug, id=s.id, group=s.group)
        for s in registry.sites
    ]


def example_sites(example: str) -> list[SiteSpec]:
    path = EXAMPLES_DIR / example / "sites.csv"
    if not path.exists():
        known = sorted(p.name for p in EXAMPLES_DIR.iterdir()) if EXAMPLES_DIR.exists() else []
        raise InputError(
            [Problem(str(path), None, None, f"no example {example!r} (known: {', '.join(known)})")]
        )
    return registry_sites(path)


def registry_csv(plan: LabPlan, endpoint_user: str) -> str:
    """The lab's ``sites.csv``: the operator's names and hierarchy, the lab's addresses."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    # Parents by name: what every registry reader resolves (ids stay ids).
    parents = {s.slug: (s.id or s.name) for s in plan.sites}
    for s in plan.sites:
        writer.writerow(
            [
                s.id,
                s.name,
                s.level,
                parents.get(s.parent, s.parent),
                s.endpoint_mgmt,
                "debian",
                endpoint_user,
                s.router_mgmt,
                "frr",
                WAN_IF,
                plan.conf_wan,
                s.group,
            ]
        )
    return out.getvalue()
