"""The site registry: read strictly from CSV, Excel or YAML, validated as a whole, made a model.

Every problem is collected (file, line, field, what to do) and raised together, so an operator
fixes a spreadsheet in one pass rather than one error per run.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from confprov import domain, spreadsheet
from confprov.domain import COMMUNE_LEVELS, LEVEL_ALIASES, LEVELS, PARENT_LEVELS, PLATFORMS
from confprov.exceptions import InputError, Problem
from confprov.slugs import SLUG_RE, ascii_fold, nfc, short_name, site_slug, slugify
from confprov.yamlutil import invalid, load_with_lines

__all__ = ["COLUMNS", "LEVELS", "LEVEL_ALIASES", "PLATFORMS", "Registry", "Site", "load_registry"]
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
    "group",
)
REQUIRED = ("name", "level", "parent", "endpoint")
ROUTER_SUFFIX = "-rt"
MAX_FIELD = 200

_SUSPECT = re.compile(domain.CONTROL.pattern + "|" + domain.TEMPLATE.pattern)
_PHONE = re.compile(r"^\+?[0-9 ().-]{6,20}$")
_SPLIT = re.compile(r"[\s|]+")


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
    group: str = ""  # the free ``group`` column: a technicians' cluster, a former district, …
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

    @property
    def group_slug(self) -> str:
        return slugify(self.group)

    @property
    def grouping(self) -> str:
        """What reports count a site under: its district, else its ``group`` (two-tier), else ""."""
        return self.district or self.group_slug


@dataclass
class Registry:
    path: Path
    sites: list[Site] = field(default_factory=list)
    _members: dict[str, list[Site]] | None = field(default=None, repr=False, compare=False)

    def by_slug(self) -> dict[str, Site]:
        return {s.slug: s for s in self.sites}

    def count_levels(self) -> dict[str, int]:
        """Sites per level, for the levels the registry uses (in LEVELS order)."""
        counts = Counter(s.level for s in self.sites)
        return {level: counts[level] for level in LEVELS if counts[level]}

    def groups(self) -> dict[str, list[Site]]:
        """Sites by ``group`` column (its ASCII slug), in registry order; ungrouped: left out."""
        out: dict[str, list[Site]] = defaultdict(list)
        for site in self.sites:
            if site.group:
                out[site.group_slug].append(site)
        return dict(out)

    def grouping_names(self) -> dict[str, str]:
        """Display name of every ``Site.grouping`` value: districts' names, then groups'."""
        names = {slug: self.group_name(slug) for slug in self.groups()}
        names.update({d.slug: d.name for d in self.districts()})
        return names

    def group_name(self, slug: str) -> str:
        """The group's name as first written in the registry."""
        return next((s.group for s in self.sites if s.group_slug == slug), slug)

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
    """UTF-8 (with or without BOM); else a legacy Windows code page when certain, else refused."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return spreadsheet.decode_legacy(path, data, exc)[0]


def _header(path: Path, header: list[str], problems: list[Problem]) -> list[str]:
    """The header's columns, normalised; unknown, doubled and missing ones reported."""
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
    return columns


def _header_below(
    path: Path,
    columns: list[str],
    below: Iterable[tuple[int, list[str]]],
    problems: list[Problem],
    *,
    start: int,
    unit: str,
) -> bool:
    """True, and the header's problems replaced by one, when row 1 lacks a required column
    but a row below has them all: a title or notes above the table, not 13 unrelated errors."""
    if all(column in columns for column in REQUIRED):
        return False
    for number, cells in itertools.islice(below, 20):
        if set(REQUIRED) <= {_norm_column(_as_text(c)) for c in cells}:
            where = "on" if unit == "line" else "in"
            del problems[start:]
            problems.append(
                Problem(
                    str(path),
                    1,
                    None,
                    f"the header must be {unit} 1 (found the header {where} {unit} {number}?): "
                    "delete the rows above it",
                )
            )
            return True
    return False


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The records below the first, numbered from 2, until the first malformed one."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(itertools.islice(reader, 1, None), 2)
    except csv.Error:
        return


def _read_csv(path: Path, text: str, problems: list[Problem]) -> list[_Row]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        problems.append(Problem(str(path), 1, None, "empty file: the header line is missing"))
        return []
    start = len(problems)
    columns = _header(path, header, problems)
    if _header_below(path, columns, _records(text, delimiter), problems, start=start, unit="line"):
        return []
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


def _sheet_problems(
    path: Path, sheet: spreadsheet.Sheet, columns: list[str], problems: list[Problem]
) -> None:
    """What the cell values alone do not show: merged ranges and Excel error cells."""
    width = len(columns)
    for cells, spans_rows in sheet.merged:  # only the first cell of a merge keeps its value
        fill = "fill every row" if spans_rows else "fill every cell"
        problems.append(
            Problem(
                str(path), None, f"{sheet.name}!{cells}", f"merged cells; unmerge them and {fill}"
            )
        )
    for ref, error in sheet.errors.items():
        letter, row = spreadsheet.split_ref(ref)
        col = spreadsheet.column_index(letter)
        if row > 1 and col < width:
            problems.append(
                Problem(
                    str(path),
                    row,
                    columns[col],
                    f"Excel error {error} in this cell: fix the formula or type the value",
                )
            )


def _xlsx_header(path: Path, sheet: spreadsheet.Sheet, problems: list[Problem]) -> list[str]:
    """The worksheet's columns; none when there is no header row in row 1."""
    if not sheet.rows or not any(_as_text(c) for c in sheet.rows[0]):
        problems.append(Problem(str(path), 1, None, "empty sheet: the header row is missing"))
        return []
    header = [_as_text(c) for c in sheet.rows[0]]
    while header and not header[-1]:
        header.pop()  # cells formatted but empty at the end of the header row
    start = len(problems)
    columns = _header(path, header, problems)
    below = enumerate(sheet.rows[1:], 2)
    if _header_below(path, columns, below, problems, start=start, unit="row"):
        return []
    return columns


def _read_xlsx(path: Path, sheet: spreadsheet.Sheet, problems: list[Problem]) -> list[_Row]:
    """Rows of a worksheet; a row's ``line`` is its Excel row number (cells are named later)."""
    columns = _xlsx_header(path, sheet, problems)
    if not columns:
        return []
    rows: list[_Row] = []
    width, formulas = len(columns), sheet.formulas
    letters = [spreadsheet.column_letter(col) for col in range(width)]
    _sheet_problems(path, sheet, columns, problems)
    for index, record in enumerate(sheet.rows[1:], start=2):
        values: dict[str, Any] = {}
        for col, value in enumerate(record):
            if value == "" or value is None:
                continue
            if col >= width:
                problems.append(
                    Problem(str(path), index, None, "a value right of the last header column")
                )
                break
            if type(value) is str and not formulas:
                values[columns[col]] = value  # the common cell: text, no formula in the sheet
                continue
            is_formula = f"{letters[col]}{index}" in formulas
            text, why = spreadsheet.cell_text(value, columns[col], is_formula)
            if why:
                problems.append(Problem(str(path), index, columns[col], why))
            values[columns[col]] = text
        if formulas:  # a formula whose saved value is empty is not an empty cell
            for col, letter in enumerate(letters):
                if f"{letter}{index}" in formulas and columns[col] not in values:
                    _, why = spreadsheet.cell_text("", columns[col], True)
                    problems.append(Problem(str(path), index, columns[col], str(why)))
        if any(values.values()):
            rows.append(_Row(index, values, {}))
    return rows


Locate = Callable[[int, str | None], str]


def line_of(line: int, column: str | None = None) -> str:
    """Where a row is, as a message about a CSV or YAML registry says it: ``line 4``."""
    return f"line {line}"


def cell_locator(sheet: str, columns: list[str]) -> Locate:
    """Where a row's field is in a workbook, as Excel names it: ``Sites!B4`` (``Sites!4:4``:
    the whole row, for a field that is no column of the sheet)."""
    letters = {c: spreadsheet.column_letter(i) for i, c in enumerate(columns) if c}

    def locate(line: int, column: str | None = None) -> str:
        if column in letters:
            return f"{sheet}!{letters[column]}{line}"
        return f"{sheet}!{line}:{line}"

    return locate


def _cells(found: list[Problem], locate: Locate) -> list[Problem]:
    """Problems located as Excel names cells: ``Sites!C14: contact_phone: …``."""
    out = []
    for p in found:
        if p.line is None:
            out.append(p)
            continue
        where = locate(p.line, p.field) + (f": {p.field}" if p.field else "")
        out.append(Problem(p.file, None, where, p.message))
    return out


def _read_yaml(path: Path, text: str, problems: list[Problem]) -> list[_Row]:
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        problems.append(invalid(exc, str(path)))
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


_Bad = Callable[[str, str], None]


def _clean_fields(row: _Row, bad: _Bad) -> dict[str, str]:
    """Every field as NFC text, refusing what could break a config or a template."""
    text = {column: _as_text(row.values.get(column)) for column in COLUMNS}
    joined = " ".join(text.values())
    if len(joined) <= MAX_FIELD and not _SUSPECT.search(joined):
        return text  # the common row: one scan instead of three per field
    for column, value in text.items():
        if why := domain.text_error(value):
            bad(column, why)
        elif len(value) > MAX_FIELD:
            bad(column, f"longer than {MAX_FIELD} characters")
    return text


def _check_identity(text: dict[str, str], bad: _Bad) -> str:
    if not text["name"]:
        bad("name", "empty name: every site needs its name")
    elif why := domain.sip_display_error(text["name"]):
        bad("name", why)
    level = domain.level_of(text["level"])
    if not level:
        bad("level", f"unknown level {text['level']!r} (use: {domain.level_help()})")
    if text["group"] and not slugify(text["group"]):
        bad("group", f"group {text['group']!r} gives no ASCII name: use letters or digits")
    if text["id"] and not SLUG_RE.match(text["id"]):
        bad("id", f"invalid id {text['id']!r}: lower-case ASCII letters, digits, '-', '.'")
    return level


def _check_endpoint(text: dict[str, str], default_user: str, bad: _Bad) -> tuple[str, ...]:
    endpoints = tuple(e for e in _SPLIT.split(text["endpoint"]) if e)
    if not endpoints:
        bad("endpoint", "no endpoint address: give the laptop's management address")
    for address in endpoints:
        if why := domain.address_error(address):
            bad("endpoint", why)
    text["endpoint_os"] = text["endpoint_os"].casefold() or "debian"
    if text["endpoint_os"] not in OSES:
        bad("endpoint_os", f"unknown OS {text['endpoint_os']!r} (use: {', '.join(OSES)})")
    text["endpoint_user"] = text["endpoint_user"] or default_user
    if not domain.LOGIN.match(text["endpoint_user"]):
        bad("endpoint_user", f"invalid login name {text['endpoint_user']!r}")
    return endpoints


def _check_router(text: dict[str, str], bad: _Bad, network: str) -> None:
    """What ``routers plan`` would refuse about this router, refused here (confprov/domain.py)."""
    platform = text["router_platform"] = text["router_platform"].casefold()
    if text["router"]:
        if why := domain.address_error(text["router"]):
            bad("router", why)
        for column, why in domain.router_row_errors(
            platform,
            text["name"],
            text["router_wan_interface"],
            text["router_wan_gateway"],
            network,
        ):
            bad(column, why)
    elif platform or text["router_wan_gateway"] or text["router_wan_interface"]:
        bad("router", "router details given but no router address")


def _check_room(text: dict[str, str], bad: _Bad) -> tuple[int | None, tuple[str, ...]]:
    wan_kbps: int | None = None
    if text["wan_kbps"]:
        digits = text["wan_kbps"].replace(" ", "").replace("_", "")
        # ASCII digits only: int() also takes other scripts' digits, which no device reads.
        ok = digits.isascii() and digits.isdigit()
        wan_kbps = int(digits) if ok and int(digits) > 0 else None
        if wan_kbps is None:
            bad("wan_kbps", f"must be a positive whole number of kbit/s, got {text['wan_kbps']!r}")
    display = tuple(d.casefold() for d in _SPLIT.split(text["display"]) if d)
    for item in display:
        if item not in DISPLAYS:
            bad("display", f"unknown display {item!r} (use: {', '.join(DISPLAYS)})")
    if text["contact_phone"] and not _PHONE.match(text["contact_phone"]):
        bad("contact_phone", f"not a phone number: {text['contact_phone']!r}")
    return wan_kbps, display


def _parse_row(
    path: str, row: _Row, default_user: str, problems: list[Problem], network: str = ""
) -> Site | None:
    start = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(Problem(path, row.lines.get(column, row.line), column, message))

    text = _clean_fields(row, bad)
    level = _check_identity(text, bad)
    endpoints = _check_endpoint(text, default_user, bad)
    _check_router(text, bad, network)
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
        group=" ".join(text["group"].split()),
    )


# --------------------------------------------------------------------------- whole registry


def _keys(site: Site) -> Iterator[str]:
    """Every way a ``parent`` cell may name this site: id, host name, name, name sans prefix."""
    if site.id:
        yield site.id.casefold()
    elif site.level not in COMMUNE_LEVELS:  # its host name may need its parent; never a parent
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
            # Empty: the province site (two-tier: a xã/phường/đặc khu is directly under it).
            if site.level != "province" and province is None:
                problems.append(
                    Problem(path, site.line, "parent", "no province site to be the parent: add one")
                )
                continue
            parents[id(site)] = None if site.level == "province" else province
            continue
        found = index.get(ref.casefold(), [])
        if len(found) > 1:
            # "Đoan Hùng" names both the district and its thị trấn: prefer the level that fits.
            fitting = [s for s in found if s.level in PARENT_LEVELS[site.level]]
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
    *,
    locate: Locate,
) -> None:
    under: dict[str, list[Site]] = {"district": [], "province": []}
    for site in sites:
        if id(site) in in_cycle or id(site) not in parents:
            continue
        parent = parents[id(site)]
        if parent is None:
            continue
        allowed = PARENT_LEVELS[site.level]
        if site.level == "province":
            problems.append(Problem(path, site.line, "parent", "the province site has no parent"))
        elif parent.level not in allowed:
            where = (
                "a district or the province site (or empty: the province)"
                if site.level in COMMUNE_LEVELS
                else "the province site (or empty)"
            )
            problems.append(
                Problem(
                    path,
                    site.line,
                    "parent",
                    f"a {site.level}'s parent must be {where}; {parent.name!r} is a {parent.level}",
                )
            )
        elif site.level in COMMUNE_LEVELS:
            under[parent.level].append(site)
    _check_shape(path, under, problems, locate)


def _check_shape(
    path: str, under: dict[str, list[Site]], problems: list[Problem], locate: Locate
) -> None:
    """A registry is three-tier (every commune-level unit under its district) or two-tier (none
    under a district): a mix would make host names and groups depend on which rows got one."""
    by_district, by_province = under["district"], under["province"]
    if not by_district or not by_province:
        return
    if len(by_province) <= len(by_district):
        other = by_district[0]
        problems.extend(
            Problem(
                path,
                s.line,
                "parent",
                f"missing parent: name the {s.level}'s district — this registry is three-tier "
                f"({len(by_district)} commune-level sites are under a district, e.g. "
                f"{locate(other.line, 'name')}: {other.name!r}); or drop the districts for "
                "the two-tier shape",
            )
            for s in by_province
        )
    else:
        other = by_province[0]
        problems.extend(
            Problem(
                path,
                s.line,
                "parent",
                f"under a district, but this registry is two-tier ({len(by_province)} "
                f"commune-level sites are directly under the province, e.g. "
                f"{locate(other.line, 'name')}: "
                f"{other.name!r}); leave parent empty (use the group column for the former "
                "district) or give every commune-level site its district",
            )
            for s in by_district
        )


def _duplicates(
    path: str,
    items: Iterable[tuple[str, Site, str]],
    what: str,
    problems: list[Problem],
    locate: Locate,
    *,
    same_site: bool = False,
) -> None:
    """A problem for each key seen before (``same_site``: also within one site's row)."""
    first: dict[str, tuple[Site, str]] = {}
    for key, site, column in items:
        if not key:
            continue
        if key in first and (first[key][0] is not site or same_site):
            other, other_column = first[key]
            also = locate(other.line, other_column)
            problems.append(Problem(path, site.line, column, f"duplicate {what} (also on {also})"))
        else:
            first.setdefault(key, (site, column))


def build(
    path: str,
    sites: list[Site],
    problems: list[Problem],
    broken: set[str] | None = None,
    locate: Locate | None = None,
) -> list[Site]:
    """Resolve parents and host names and check everything across rows.

    ``broken`` holds the names and ids of rows that failed on their own, so a reference to them
    is not reported a second time as an unknown parent. ``locate`` says where another row is
    in a message (default ``line 4``; a workbook's ``Sites!B4``).
    """
    locate = locate or line_of
    parents = _resolve_parents(path, sites, broken or set(), problems)
    in_cycle = _find_cycles(path, sites, parents, problems)
    _check_levels(path, sites, parents, in_cycle, problems, locate=locate)
    _duplicates(path, ((s.id, s, "id") for s in sites), "id", problems, locate)
    _duplicates(
        path,
        ((f"{s.name.casefold()}\x00{s.parent_ref.casefold()}", s, "name") for s in sites),
        "name under the same parent",
        problems,
        locate,
    )
    _duplicates(
        path,
        (
            (domain.address_key(address), s, column)
            for s in sites
            for column, addresses in (("endpoint", s.endpoints), ("router", (s.router,)))
            for address in addresses
            if address
        ),
        "address",
        problems,
        locate,
        same_site=True,  # two endpoints on one address, or the router on the endpoint's
    )
    # Host names: a district's slug first, then its communes (which carry it as a suffix).
    slugs: dict[int, str] = {}
    for site in sorted(sites, key=lambda s: LEVELS.index(s.level)):
        district = ""
        if site.level in COMMUNE_LEVELS:
            parent = parents.get(id(site))
            if parent is not None and parent.level == "district":
                district = slugs.get(id(parent), "")
        slug = site.id or site_slug(site.name, district or None)
        if not slug:
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
        elif site.level in COMMUNE_LEVELS and parent is not None and parent.level == "district":
            district = slugs.get(id(parent), "")
        resolved.append(
            _replace(site, slug, slugs.get(id(parent), "") if parent is not None else "", district)
        )
    flagged = {p.line for p in problems}  # a row already reported is not reported twice
    for s in resolved:
        for host in dict.fromkeys((s.slug, *s.endpoint_hosts, s.router_host)):
            if s.line not in flagged and (why := domain.reserved_host_error(host)):
                problems.append(Problem(path, s.line, "id" if s.id else "name", why))
    _duplicates(
        path,
        (
            (host, s, "name" if not s.id else "id")
            for s in resolved
            if s.line not in flagged
            for host in dict.fromkeys((s.slug, *s.endpoint_hosts, s.router_host))
        ),
        "host name (give one of the two sites an id)",
        problems,
        locate,
    )
    return [] if problems else resolved


def _replace(site: Site, slug: str, parent: str, district: str) -> Site:
    return replace(site, slug=slug, parent=parent, district=district)


def find_registry(workspace: Path, configured: str = "") -> Path:
    if configured:
        return workspace / configured
    for name in ("sites.xlsx", "sites.csv", "sites.yml", "sites.yaml"):
        if (workspace / name).exists():
            return workspace / name
    raise InputError(
        [
            Problem(
                str(workspace / "sites.csv"),
                None,
                None,
                "no registry: put sites.xlsx, sites.csv or sites.yml in the workspace "
                "(see docs/registry.md)",
            )
        ]
    )


def load_registry(
    path: Path, default_user: str = "conf", sheet: str = "", network: str = ""
) -> Registry:
    """Read, validate and resolve a registry; raise InputError listing every problem.

    ``sheet`` names the worksheet of an .xlsx registry (default: the first); ``network`` is the
    conference network routers route to (a WAN gateway of another IP version is refused).
    """
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "registry file not found")])
    problems: list[Problem] = []
    book: spreadsheet.Sheet | None = None
    suffix = path.suffix.lower()
    if suffix in (".xls", ".xlsm", ".xlsb", ".ods"):
        raise InputError(
            [Problem(str(path), None, None, "save the workbook as .xlsx (Excel Workbook)")]
        )
    if suffix == ".xlsx":
        book = spreadsheet.read_sheet(path, sheet)
        rows = _read_xlsx(path, book, problems)
    elif suffix in (".yml", ".yaml"):
        rows = _read_yaml(path, _decode(path, path.read_bytes()), problems)
    else:
        rows = _read_csv(path, _decode(path, path.read_bytes()), problems)
    sites: list[Site] = []
    broken: set[str] = set()
    for row in rows:
        site = _parse_row(str(path), row, default_user, problems, network)
        if site is not None:
            sites.append(site)
            continue
        for column in ("id", "name"):
            value = _as_text(row.values.get(column)).casefold()
            broken.update({value, short_name(value).casefold()} - {""})
    if not problems and not sites:
        problems.append(Problem(str(path), None, None, "no sites: the registry is empty"))
    locate: Locate = line_of
    if book is not None:
        header = [_norm_column(_as_text(c)) for c in book.rows[0]] if book.rows else []
        locate = cell_locator(book.name, header)
    sites = build(str(path), sites, problems, broken, locate)
    if problems:
        unique = sorted(set(problems), key=lambda p: (p.line or 0, p.field or "", p.message))
        if book is not None:
            unique = _cells(unique, locate)
        raise InputError(unique)
    return Registry(path=path, sites=sites)
