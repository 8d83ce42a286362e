"""The site registry: read strictly from CSV or YAML, validated as a whole, turned into a model.

Every problem is collected (file, line, field, what to do) and raised together, so an operator
fixes a spreadsheet in one pass rather than one error per run.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from confprov.exceptions import InputError, Problem
from confprov.slugs import SLUG_RE, ascii_fold, nfc, short_name, site_slug
from confprov.yamlutil import load_with_lines

LEVELS = ("province", "district", "commune", "department")
LEVEL_ALIASES = {
    "tinh": "province",
    "tỉnh": "province",
    "huyen": "district",
    "huyện": "district",
    "xa": "commune",
    "xã": "commune",
    "so": "department",
    "sở": "department",
}
PLATFORMS = ("frr", "cisco_ios", "huawei_vrp", "mikrotik_routeros", "juniper_junos")
OSES = ("debian", "ubuntu", "windows")
DISPLAYS = ("tv", "projector", "led")
COLUMNS = (
    "id",
    "name",
    "level",
    "parent",
    "endpoint",
    "endpoint_os",
    "endpoint_user",
    "router",
    "router_platform",
    "router_wan_interface",
    "router_wan_gateway",
    "wan_kbps",
    "display",
    "audio",
    "contact_name",
    "contact_phone",
)
REQUIRED = ("name", "level", "parent", "endpoint")
_PARENT_LEVEL = {"commune": "district", "district": "province", "department": "province"}
ROUTER_SUFFIX = "-rt"
MAX_FIELD = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TEMPLATE = re.compile(r"\{\{|\{%|\{#")
_SUSPECT = re.compile(_CONTROL.pattern + "|" + _TEMPLATE.pattern)
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_LOOKS_NUMERIC = re.compile(r"^[0-9.]+$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{6,20}$")
_SPLIT = re.compile(r"[\s|]+")
_LOGIN = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
_INTERFACE = re.compile(r"^[A-Za-z0-9/._:-]{1,64}$")


@dataclass(frozen=True)
class Site:
    """One row of the registry, validated; ``slug`` is its inventory host name."""

    file: str
    line: int
    id: str
    name: str
    level: str
    parent_ref: str
    endpoints: tuple[str, ...]
    endpoint_os: str
    endpoint_user: str
    router: str
    router_platform: str
    router_wan_interface: str
    router_wan_gateway: str
    wan_kbps: int | None
    display: tuple[str, ...]
    audio: str
    contact_name: str
    contact_phone: str
    slug: str = ""
    parent: str = ""  # parent's slug, resolved
    district: str = ""  # slug of the district this site belongs to, if any

    @property
    def endpoint_hosts(self) -> tuple[str, ...]:
        return tuple(
            self.slug if i == 0 else f"{self.slug}-{i + 1}" for i in range(len(self.endpoints))
        )

    @property
    def router_host(self) -> str:
        return f"{self.slug}{ROUTER_SUFFIX}" if self.router else ""

    @property
    def name_ascii(self) -> str:
        return ascii_fold(self.name)


@dataclass
class Registry:
    path: Path
    sites: list[Site] = field(default_factory=list)
    _members: dict[str, list[Site]] | None = field(default=None, repr=False, compare=False)

    def by_slug(self) -> dict[str, Site]:
        return {s.slug: s for s in self.sites}

    def count_levels(self) -> dict[str, int]:
        counts = Counter(s.level for s in self.sites)
        return {level: counts.get(level, 0) for level in LEVELS}

    def districts(self) -> list[Site]:
        return [s for s in self.sites if s.level == "district"]

    def members(self, district: Site) -> list[Site]:
        """The district's own site and its communes."""
        if self._members is None:
            index: dict[str, list[Site]] = defaultdict(list)
            for site in self.sites:
                if site.district:
                    index[site.district].append(site)
            self._members = index
        return self._members.get(district.slug, [])

    @property
    def endpoint_count(self) -> int:
        return sum(len(s.endpoints) for s in self.sites)

    @property
    def router_count(self) -> int:
        return sum(1 for s in self.sites if s.router)


# --------------------------------------------------------------------------- reading


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    lines: dict[str, int]  # line of each field (YAML); CSV rows use ``line`` for all


def _norm_column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    str(path),
                    line,
                    None,
                    f"not UTF-8 (byte 0x{data[exc.start]:02x}); save it as 'CSV UTF-8' "
                    "(Excel) or with character set Unicode (UTF-8) (LibreOffice)",
                )
            ]
        ) from None


def _read_csv(path: Path, text: str, problems: list[Problem]) -> list[_Row]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        problems.append(Problem(str(path), 1, None, "empty file: the header line is missing"))
        return []
    columns = [_norm_column(c) for c in header]
    for index, column in enumerate(columns):
        if column not in COLUMNS:
            problems.append(
                Problem(
                    str(path),
                    1,
                    header[index].strip() or f"column {index + 1}",
                    f"unknown column (known: {', '.join(COLUMNS)})",
                )
            )
    for column, count in Counter(columns).items():
        if count > 1:
            problems.append(Problem(str(path), 1, column, "column appears twice"))
    problems.extend(
        Problem(str(path), 1, column, "missing column (required: " + ", ".join(REQUIRED) + ")")
        for column in REQUIRED
        if column not in columns
    )
    rows: list[_Row] = []
    line = 1
    try:
        for record in reader:
            start = line + 1
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if line != start:
                problems.append(
                    Problem(
                        str(path),
                        start,
                        None,
                        "a field holds a line break; keep every site on one line",
                    )
                )
            if len(record) > len(columns):
                problems.append(
                    Problem(
                        str(path),
                        start,
                        None,
                        f"{len(record)} fields but the header has {len(columns)}; "
                        f"check for a stray '{delimiter}'",
                    )
                )
            values = {col: record[i] if i < len(record) else "" for i, col in enumerate(columns)}
            rows.append(_Row(start, values, {}))
    except csv.Error as exc:
        problems.append(Problem(str(path), reader.line_num, None, f"malformed CSV: {exc}"))
    return rows


def _read_yaml(path: Path, text: str, problems: list[Problem]) -> list[_Row]:
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(Problem(str(path), line, None, f"not valid YAML: {exc}"))
        return []
    if isinstance(data, dict) and isinstance(data.get("sites"), list):
        items, prefix = data["sites"], "sites"
    elif isinstance(data, list):
        items, prefix = data, ""
    else:
        problems.append(Problem(str(path), 1, "sites", "expected a list of sites under 'sites:'"))
        return []
    rows: list[_Row] = []
    for index, item in enumerate(items):
        key = f"{prefix}[{index}]"
        line = lines.get(key, 1)
        if not isinstance(item, dict):
            problems.append(Problem(str(path), line, None, "each site must be a mapping"))
            continue
        values: dict[str, Any] = {}
        field_lines: dict[str, int] = {}
        for raw_key, value in item.items():
            column = _norm_column(str(raw_key))
            field_lines[column] = lines.get(f"{key}.{raw_key}", line)
            if column not in COLUMNS:
                problems.append(
                    Problem(str(path), field_lines[column], str(raw_key), "unknown field")
                )
                continue
            values[column] = value
        problems.extend(
            Problem(str(path), line, column, "missing field")
            for column in ("name", "level", "endpoint")
            if column not in values
        )
        rows.append(_Row(line, values, field_lines))
    return rows


# --------------------------------------------------------------------------- one row


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_as_text(v) for v in value)
    return nfc(str(value)).strip()


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _valid_address(value: str) -> str | None:
    """None when ``value`` is an IP address or a host name; else why not."""
    if _is_ip(value):
        return None
    if _LOOKS_NUMERIC.match(value) or ":" in value:
        return f"invalid IP address {value!r}"
    if len(value) > 253 or not all(_HOST_LABEL.match(p) for p in value.rstrip(".").split(".")):
        return f"invalid host name {value!r} (letters, digits, '-' and '.' only)"
    return None


_Bad = Callable[[str, str], None]


def _clean_fields(row: _Row, bad: _Bad) -> dict[str, str]:
    """Every field as NFC text, refusing what could break a config or a template."""
    text = {column: _as_text(row.values.get(column)) for column in COLUMNS}
    joined = " ".join(text.values())
    if len(joined) <= MAX_FIELD and not _SUSPECT.search(joined):
        return text  # the common row: one scan instead of three per field
    for column, value in text.items():
        if _CONTROL.search(value):
            bad(column, "holds a line break, tab or control character; remove it")
        elif _TEMPLATE.search(value):
            bad(column, "holds '{{', '{%' or '{#' (template markers are not allowed)")
        elif len(value) > MAX_FIELD:
            bad(column, f"longer than {MAX_FIELD} characters")
    return text


def _check_identity(text: dict[str, str], bad: _Bad) -> str:
    if not text["name"]:
        bad("name", "empty name: every site needs its name")
    level = LEVEL_ALIASES.get(text["level"].casefold(), text["level"].casefold())
    if level not in LEVELS:
        bad("level", f"unknown level {text['level']!r} (use: {', '.join(LEVELS)})")
    if text["id"] and not SLUG_RE.match(text["id"]):
        bad("id", f"invalid id {text['id']!r}: lower-case ASCII letters, digits, '-', '.'")
    return level


def _check_endpoint(text: dict[str, str], default_user: str, bad: _Bad) -> tuple[str, ...]:
    endpoints = tuple(e for e in _SPLIT.split(text["endpoint"]) if e)
    if not endpoints:
        bad("endpoint", "no endpoint address: give the laptop's management address")
    for address in endpoints:
        if why := _valid_address(address):
            bad("endpoint", why)
    text["endpoint_os"] = text["endpoint_os"].casefold() or "debian"
    if text["endpoint_os"] not in OSES:
        bad("endpoint_os", f"unknown OS {text['endpoint_os']!r} (use: {', '.join(OSES)})")
    text["endpoint_user"] = text["endpoint_user"] or default_user
    if not _LOGIN.match(text["endpoint_user"]):
        bad("endpoint_user", f"invalid login name {text['endpoint_user']!r}")
    return endpoints


def _check_router(text: dict[str, str], bad: _Bad) -> None:
    platform = text["router_platform"] = text["router_platform"].casefold()
    if text["router"]:
        if why := _valid_address(text["router"]):
            bad("router", why)
        if not platform:
            bad("router_platform", f"missing: the router's platform ({', '.join(PLATFORMS)})")
        elif platform not in PLATFORMS:
            bad("router_platform", f"unknown platform {platform!r} (use: {', '.join(PLATFORMS)})")
    elif platform or text["router_wan_gateway"] or text["router_wan_interface"]:
        bad("router", "router details given but no router address")
    gateway = text["router_wan_gateway"]
    if gateway and not _is_ip(gateway):
        bad("router_wan_gateway", f"invalid IP address {gateway!r}")
    if text["router_wan_interface"] and not _INTERFACE.match(text["router_wan_interface"]):
        bad("router_wan_interface", "interface names: letters, digits, '/', '.', '_', ':', '-'")


def _check_room(text: dict[str, str], bad: _Bad) -> tuple[int | None, tuple[str, ...]]:
    wan_kbps: int | None = None
    if text["wan_kbps"]:
        digits = text["wan_kbps"].replace(" ", "").replace("_", "")
        wan_kbps = int(digits) if digits.isdigit() and int(digits) > 0 else None
        if wan_kbps is None:
            bad("wan_kbps", f"must be a positive whole number of kbit/s, got {text['wan_kbps']!r}")
    display = tuple(d.casefold() for d in _SPLIT.split(text["display"]) if d)
    for item in display:
        if item not in DISPLAYS:
            bad("display", f"unknown display {item!r} (use: {', '.join(DISPLAYS)})")
    if text["contact_phone"] and not _PHONE.match(text["contact_phone"]):
        bad("contact_phone", f"not a phone number: {text['contact_phone']!r}")
    return wan_kbps, display


def _parse_row(path: str, row: _Row, default_user: str, problems: list[Problem]) -> Site | None:
    start = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(Problem(path, row.lines.get(column, row.line), column, message))

    text = _clean_fields(row, bad)
    level = _check_identity(text, bad)
    endpoints = _check_endpoint(text, default_user, bad)
    _check_router(text, bad)
    wan_kbps, display = _check_room(text, bad)
    if len(problems) > start:
        return None
    return Site(
        file=path,
        line=row.line,
        id=text["id"],
        name=" ".join(text["name"].split()),
        level=level,
        parent_ref=text["parent"],
        endpoints=endpoints,
        endpoint_os=text["endpoint_os"],
        endpoint_user=text["endpoint_user"],
        router=text["router"],
        router_platform=text["router_platform"],
        router_wan_interface=text["router_wan_interface"],
        router_wan_gateway=text["router_wan_gateway"],
        wan_kbps=wan_kbps,
        display=display,
        audio=text["audio"],
        contact_name=text["contact_name"],
        contact_phone=text["contact_phone"],
    )


# --------------------------------------------------------------------------- whole registry


def _keys(site: Site) -> Iterator[str]:
    """Every way a ``parent`` cell may name this site: id, host name, name, name sans prefix."""
    if site.id:
        yield site.id.casefold()
    elif site.level != "commune":  # a commune's host name needs its parent; none is a parent
        yield site_slug(site.name)
    yield site.name.casefold()
    yield short_name(site.name).casefold()


def _resolve_parents(
    path: str, sites: list[Site], broken: set[str], problems: list[Problem]
) -> dict[int, Site | None]:
    index: dict[str, list[Site]] = defaultdict(list)
    for site in sites:
        for key in set(_keys(site)):
            index[key].append(site)
    provinces = [s for s in sites if s.level == "province"]
    if len(provinces) > 1:
        problems.extend(
            Problem(path, s.line, "level", "a second province site (there is one per registry)")
            for s in provinces[1:]
        )
    province = provinces[0] if provinces else None
    parents: dict[int, Site | None] = {}
    for site in sites:
        ref = site.parent_ref
        if not ref:
            if site.level == "commune":
                problems.append(
                    Problem(
                        path, site.line, "parent", "missing parent: name the commune's district"
                    )
                )
                continue
            if site.level != "province" and province is None:
                problems.append(
                    Problem(path, site.line, "parent", "no province site to be the parent: add one")
                )
            parents[id(site)] = None if site.level == "province" else province
            continue
        found = index.get(ref.casefold(), [])
        if len(found) > 1:
            # "Đoan Hùng" names both the district and its thị trấn: prefer the level that fits.
            fitting = [s for s in found if s.level == _PARENT_LEVEL.get(site.level)]
            found = fitting or found
        if not found and ref.casefold() in broken:
            continue  # the parent's own row is invalid and reported already
        if not found:
            problems.append(
                Problem(
                    path,
                    site.line,
                    "parent",
                    f"unknown parent {ref!r}: no site has that id or name",
                )
            )
        elif len(found) > 1:
            lines = ", ".join(str(s.line) for s in found)
            problems.append(
                Problem(
                    path,
                    site.line,
                    "parent",
                    f"ambiguous parent {ref!r}: sites on lines {lines} match; use the parent's id",
                )
            )
        else:
            parents[id(site)] = found[0]
    return parents


def _find_cycles(
    path: str, sites: list[Site], parents: dict[int, Site | None], problems: list[Problem]
) -> set[int]:
    """Every site on a parent cycle, each reported with its cycle; O(n) over the registry.

    Each site is walked at most once (a walk stops at a site an earlier walk finished), so a
    20,000-row chain costs what a flat registry does. A cycle longer than a few sites is shown
    shortened: its message stays one line, not 20,000 names.
    """
    on_walk, done = 1, 2
    state: dict[int, int] = {}
    in_cycle: set[int] = set()
    for start in sites:
        walk: list[Site] = []
        node: Site | None = start
        while node is not None and id(node) not in state:
            state[id(node)] = on_walk
            walk.append(node)
            node = parents.get(id(node))
        if node is not None and state[id(node)] == on_walk:  # this walk closed a cycle
            cycle = walk[walk.index(node) :]
            for i, site in enumerate(cycle):
                chain = _chain([*cycle[i:], *cycle[:i], site])
                problems.append(Problem(path, site.line, "parent", f"parent cycle: {chain}"))
                in_cycle.add(id(site))
        for visited in walk:
            state[id(visited)] = done
    return in_cycle


def _chain(members: list[Site], shown: int = 6) -> str:
    """``A → B → C → A``; a long cycle as its first sites, the count, and the way back."""
    if len(members) <= shown + 1:
        return " → ".join(s.name for s in members)
    head = " → ".join(s.name for s in members[: shown - 1])
    hidden = len(members) - shown - 1
    return f"{head} → … ({hidden} more) → {members[-2].name} → {members[-1].name}"


def _check_levels(
    path: str,
    sites: list[Site],
    parents: dict[int, Site | None],
    in_cycle: set[int],
    problems: list[Problem],
) -> None:
    for site in sites:
        if id(site) in in_cycle or id(site) not in parents:
            continue
        parent = parents[id(site)]
        if site.level == "province" and parent is not None:
            problems.append(Problem(path, site.line, "parent", "the province site has no parent"))
        elif site.level == "commune" and parent is not None and parent.level != "district":
            problems.append(
                Problem(
                    path,
                    site.line,
                    "parent",
                    f"a commune's parent must be a district; {parent.name!r} is a {parent.level}",
                )
            )
        elif (
            site.level in ("district", "department")
            and parent is not None
            and parent.level != "province"
        ):
            problems.append(
                Problem(
                    path,
                    site.line,
                    "parent",
                    f"a {site.level}'s parent must be the province site (or empty); "
                    f"{parent.name!r} is a {parent.level}",
                )
            )


def _duplicates(
    path: str, items: Iterable[tuple[str, Site, str]], what: str, problems: list[Problem]
) -> None:
    first: dict[str, Site] = {}
    for key, site, column in items:
        if not key:
            continue
        if key in first and first[key] is not site:
            problems.append(
                Problem(
                    path, site.line, column, f"duplicate {what} (also on line {first[key].line})"
                )
            )
        else:
            first.setdefault(key, site)


def build(
    path: str, sites: list[Site], problems: list[Problem], broken: set[str] | None = None
) -> list[Site]:
    """Resolve parents and host names and check everything across rows.

    ``broken`` holds the names and ids of rows that failed on their own, so a reference to them
    is not reported a second time as an unknown parent.
    """
    parents = _resolve_parents(path, sites, broken or set(), problems)
    in_cycle = _find_cycles(path, sites, parents, problems)
    _check_levels(path, sites, parents, in_cycle, problems)
    _duplicates(path, ((s.id, s, "id") for s in sites), "id", problems)
    _duplicates(
        path,
        ((f"{s.name.casefold()}\x00{s.parent_ref.casefold()}", s, "name") for s in sites),
        "name under the same parent",
        problems,
    )
    _duplicates(
        path,
        (
            (address.casefold(), s, column)
            for s in sites
            for column, addresses in (("endpoint", s.endpoints), ("router", (s.router,)))
            for address in addresses
        ),
        "address",
        problems,
    )
    # Host names: a district's slug first, then its communes (which carry it as a suffix).
    slugs: dict[int, str] = {}
    for site in sorted(sites, key=lambda s: LEVELS.index(s.level)):
        district = ""
        if site.level == "commune":
            parent = parents.get(id(site))
            district = slugs.get(id(parent), "") if parent is not None else ""
        slug = site.id or site_slug(site.name, district or None)
        if not slug and not (site.level == "commune" and not district):
            problems.append(
                Problem(path, site.line, "name", "gives no host name (only a prefix?); add an id")
            )
        slugs[id(site)] = slug
    resolved: list[Site] = []
    for site in sites:
        parent = parents.get(id(site))
        slug = slugs[id(site)]
        district = ""
        if site.level == "district":
            district = slug
        elif site.level == "commune" and parent is not None:
            district = slugs.get(id(parent), "")
        resolved.append(
            _replace(site, slug, slugs.get(id(parent), "") if parent is not None else "", district)
        )
    flagged = {p.line for p in problems}  # a row already reported is not reported twice
    _duplicates(
        path,
        (
            (host, s, "name" if not s.id else "id")
            for s in resolved
            if s.line not in flagged and (s.level != "commune" or s.district or s.id)
            for host in dict.fromkeys((s.slug, *s.endpoint_hosts, s.router_host))
        ),
        "host name (give one of the two sites an id)",
        problems,
    )
    return [] if problems else resolved


def _replace(site: Site, slug: str, parent: str, district: str) -> Site:
    return replace(site, slug=slug, parent=parent, district=district)


def find_registry(workspace: Path, configured: str = "") -> Path:
    if configured:
        return workspace / configured
    for name in ("sites.csv", "sites.yml", "sites.yaml"):
        if (workspace / name).exists():
            return workspace / name
    raise InputError(
        [
            Problem(
                str(workspace / "sites.csv"),
                None,
                None,
                "no registry: put sites.csv or sites.yml in the workspace (see docs/registry.md)",
            )
        ]
    )


def load_registry(path: Path, default_user: str = "conf") -> Registry:
    """Read, validate and resolve a registry; raise InputError listing every problem."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, None, "registry file not found")]) from None
    text = _decode(path, data)
    problems: list[Problem] = []
    if path.suffix.lower() in (".yml", ".yaml"):
        rows = _read_yaml(path, text, problems)
    else:
        rows = _read_csv(path, text, problems)
    sites: list[Site] = []
    broken: set[str] = set()
    for row in rows:
        site = _parse_row(str(path), row, default_user, problems)
        if site is not None:
            sites.append(site)
            continue
        for column in ("id", "name"):
            value = _as_text(row.values.get(column)).casefold()
            broken.update({value, short_name(value).casefold()} - {""})
    if not problems and not sites:
        problems.append(Problem(str(path), None, None, "no sites: the registry is empty"))
    sites = build(str(path), sites, problems, broken)
    if problems:
        unique = sorted(set(problems), key=lambda p: (p.line or 0, p.field or "", p.message))
        raise InputError(unique)
    return Registry(path=path, sites=sites)
