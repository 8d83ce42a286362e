"""Registries as operators keep them: an Excel workbook (``sites.xlsx``) read directly, and CSV
exports in the legacy Windows code pages Vietnamese Excel used to save as "CSV".

Excel cells are read with python-calamine (measured 20x faster than openpyxl's read-only mode on
20,000 rows, docs/benchmarks.md). A formula is never evaluated: its value as Excel last saved it
is read, and a formula without a saved value is refused, as are error cells (#N/A) and merged
cells (whose rows but the first read as empty). Numbers that must stay text (ids, phone
numbers) are refused when Excel stored them as numbers, because the leading 0 is gone by then.
Every problem names its cell as Excel does (``Sites!C14``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree as ET

from confprov.exceptions import InputError, Problem

# Columns whose values are text even when they look like numbers: a number has lost its leading
# zeros ("0912 345 678" → 912345678), so it is refused rather than guessed back.
TEXT_NUMBERS = ("id", "contact_phone", "endpoint", "router", "router_wan_gateway")
WHOLE_NUMBERS = ("wan_kbps",)

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
# A cheap first look: most registries hold neither a formula nor an error cell, and then the
# sheet's XML is not parsed a second time (any namespace prefix: <f>, <x:f>).
_MAYBE_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f[\s>/]")
_MAYBE_ERROR = re.compile(rb"""\st\s*=\s*["']e["']""")
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (Excel's column names)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Sheet:
    """One worksheet's cells as Python values (row 0 is Excel row 1), its formula cells with no
    saved value, its error cells (#N/A, #REF! …) and its merged ranges (as ``E4:E5``)."""

    name: str
    rows: list[list[Any]]
    formulas: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)
    merged: list[tuple[str, bool]] = field(default_factory=list)  # (range, spans rows)


def column_index(letters: str) -> int:
    """A → 0, Z → 25, AA → 26 (inverse of column_letter)."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _sheet_xml_path(archive: zipfile.ZipFile, sheet: str) -> str:
    """The zip member holding ``sheet`` (workbook.xml names it, its rels file says where)."""
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - the operator's own file
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", _NS)}
    for node in workbook.findall("m:sheets/m:sheet", _NS):
        if node.get("name") == sheet:
            target = targets.get(node.get(f"{{{_NS['r']}}}id"), "")
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return ""


def split_ref(ref: str) -> tuple[str, int]:
    """``E14`` → ("E", 14)."""
    match = _CELL_REF.fullmatch(ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return match.group(1), int(match.group(2))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def scan_cells(data: bytes) -> tuple[set[str], dict[str, str]]:
    """Formula cells with no saved value, and error cells with their error, of a sheet's XML.

    Read once with a namespace-aware parser (strict or transitional OOXML, any prefix), cells
    without an ``r`` attribute placed as Excel would. A formula's saved value is its ``<v>``:
    missing, or empty on a number (what openpyxl writes), it is no value; empty on a string
    (``t="str"``: a formula like IF(…,"",…) that gave "") it is an empty cell.
    """
    if not _MAYBE_FORMULA.search(data) and not _MAYBE_ERROR.search(data):
        return set(), {}
    formulas: set[str] = set()
    errors: dict[str, str] = {}
    row = col = 0
    for event, elem in ET.iterparse(io.BytesIO(data), events=("start", "end")):  # noqa: S314
        name = _local(elem.tag)
        if event == "start":
            if name == "row":
                row = int(elem.get("r") or row + 1)
                col = -1
            continue
        if name == "row":
            elem.clear()
            continue
        if name != "c":
            continue
        ref = elem.get("r") or ""
        match = _CELL_REF.fullmatch(ref)
        if match:
            col = column_index(match.group(1))
        else:
            col += 1
            ref = f"{column_letter(col)}{row}"
        kind, saved = _cell_value(elem)
        if kind == "e":
            errors[ref] = saved or "#VALUE!"
        elif kind == "unsaved":
            formulas.add(ref)
    return formulas, errors


def _cell_value(cell: ET.Element) -> tuple[str, str]:
    """A cell's type (``unsaved`` for a formula with no saved value) and its saved text."""
    kind = cell.get("t", "n")
    formula = value = None
    for child in cell:
        child_name = _local(child.tag)
        if child_name == "f":
            formula = child
        elif child_name == "v":
            value = child
    saved = (value.text or "").strip() if value is not None else ""
    if kind != "e" and formula is not None and (value is None or (not saved and kind != "str")):
        return "unsaved", ""
    return kind, saved


def _scan_sheet(path: Path, sheet: str) -> tuple[set[str], dict[str, str]]:
    """scan_cells of ``sheet`` in the workbook at ``path`` (never evaluated)."""
    with zipfile.ZipFile(path) as archive:
        member = _sheet_xml_path(archive, sheet)
        if not member or member not in archive.namelist():
            return set(), {}
        return scan_cells(archive.read(member))


def read_sheet(path: Path, sheet: str = "") -> Sheet:
    """The named sheet (default: the first) of an .xlsx workbook; InputError when unreadable."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError(
            [Problem(str(path), None, None, f"not a readable .xlsx workbook ({exc})")]
        ) from None
    names = list(workbook.sheet_names)
    if not names:
        raise InputError([Problem(str(path), None, None, "the workbook has no sheet")])
    chosen = sheet or names[0]
    if chosen not in names:
        raise InputError(
            [
                Problem(
                    str(path),
                    None,
                    "registry_sheet",
                    f"no sheet {chosen!r} (sheets: {', '.join(names)})",
                )
            ]
        )
    try:
        found = workbook.get_sheet_by_name(chosen)
        rows = found.to_python(skip_empty_area=False)
        ranges = found.merged_cell_ranges or []
        formulas, errors = _scan_sheet(path, chosen)
    except (CalamineError, KeyError, ValueError, zipfile.BadZipFile, ET.ParseError) as exc:
        raise InputError(
            [Problem(str(path), None, None, f"not a readable .xlsx workbook ({exc})")]
        ) from None
    merged = [
        (
            f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}",
            r1 > r0,
        )
        for (r0, c0), (r1, c1) in ranges
        if r1 >= 1  # reaches a data row (row 1 is the header)
    ]
    return Sheet(chosen, rows, formulas, errors, merged)


def cell_text(  # noqa: PLR0911 - one return per kind of cell value reads best
    value: Any, column: str, is_formula: bool
) -> tuple[str, str | None]:
    """A cell as registry text, or why it cannot be taken as it is."""
    if is_formula and value in ("", None):
        return "", (
            "a formula with no saved value (confprov never evaluates formulas): open the file "
            "in Excel or LibreOffice and save it, or paste the column as values"
        )
    if value is None or value == "":
        return "", None
    if isinstance(value, bool):
        return "", f"{'TRUE' if value else 'FALSE'} is not a value for this column"
    if isinstance(value, dt.date | dt.datetime | dt.time | dt.timedelta):
        return "", (
            f"Excel turned this into a date/time ({value}); format the column as Text "
            "and type the value again"
        )
    if isinstance(value, int | float):
        whole = float(value).is_integer()
        shown = str(int(value)) if whole else repr(value)
        if column in TEXT_NUMBERS:
            return "", (
                f"Excel stored {shown} as a number, which drops leading zeros and formatting; "
                "format the column as Text and type the value again (or begin it with an "
                f"apostrophe: '0{shown})"
            )
        if column in WHOLE_NUMBERS and not whole:
            return "", f"must be a whole number, got {shown}"
        return shown, None
    return str(value), None


# --------------------------------------------------------------------------- legacy CSV

_VOWELS = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
VIETNAMESE = frozenset(
    unicodedata.normalize("NFC", base + tone)
    for vowel in _VOWELS
    for base in (vowel, vowel.upper())
    for tone in _TONES
) | frozenset("đĐ")
_LOST = re.compile(r"\w*[^\W\d_]\?[^\W\d_]?\w*|\w*\?[^\W\d_]\w*")
# Typographic marks Windows code pages hold (dashes, quotes, ellipsis, …), by code point.
_PUNCT = frozenset(map(chr, (0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0xB0, 0xB7)))
UTF8_HOWTO = (
    "save it as UTF-8: in Excel, File → Save As → 'CSV UTF-8 (Comma delimited) (*.csv)'; "
    "in LibreOffice, File → Save As → 'Text CSV (.csv)', tick 'Edit filter settings', "
    "Character set 'Unicode (UTF-8)'; or keep the workbook and name sites.xlsx as the registry"
)


_LATIN1 = frozenset(chr(c) for c in range(0xC0, 0x100) if chr(c).isalpha())
# Letters only a Vietnamese code page gives (Windows-1252 has none of them): ơ ư ă đ, tones
# on them, and the dot below and hook above on any vowel.
_VIETNAMESE_ONLY = VIETNAMESE - _LATIN1


def _plausible(text: str, letters: frozenset[str]) -> bool:
    """Only ASCII, ``letters`` and common typographic marks (after NFC: no stray tone mark)."""
    return all(c.isascii() or c in letters or c in _PUNCT for c in set(text))


def decode_legacy(path: Path, data: bytes, error: UnicodeDecodeError) -> tuple[str, str]:
    """Text and code page of a CSV that is not UTF-8, when one reading is certain.

    Vietnamese Excel's old "CSV" is Windows-1258 (tone marks stored as combining characters),
    a Western Excel's Windows-1252 (where Vietnamese letters had already become '?'). Taken as
    Windows-1258: a file whose every character reads as Vietnamese and some as letters no
    Western code page has (ạ ơ ư đ …): a stray byte would leave a tone mark on no vowel. Taken
    as Windows-1252: a file that reads as Western letters only. Anything else is refused with
    the exact steps to save it as UTF-8, as is a file where Excel put '?' for lost letters.
    """

    def reading(codec: str) -> str:
        try:
            text = unicodedata.normalize("NFC", data.decode(codec))
        except UnicodeDecodeError:
            return ""
        return text.removeprefix("\ufeff")

    vi, west = reading("cp1258"), reading("cp1252")
    readings: dict[str, str] = {}
    if vi and _plausible(vi, VIETNAMESE) and any(c in _VIETNAMESE_ONLY for c in vi):
        readings["cp1258"] = vi
    elif west and _plausible(west, _LATIN1) and not any(c in _VIETNAMESE_ONLY for c in vi):
        # Western only when nothing in the file reads as Vietnamese: a Vietnamese name with one
        # Western letter (Phạm Thị Müller) fits no single reading and is refused, not garbled.
        readings["cp1252"] = west
    distinct = set(readings.values())
    line = data[: error.start].count(b"\n") + 1
    if len(distinct) == 1:
        codec = "cp1258" if "cp1258" in readings else "cp1252"
        text = readings[codec]
        lost = _LOST.search(text)
        if lost is None:
            return text, codec
        line = text[: lost.start()].count("\n") + 1
        raise InputError(
            [
                Problem(
                    str(path),
                    line,
                    None,
                    "saved in a Windows code page that replaced letters it could not "
                    f"hold by '?' ({lost.group(0)!r}): the diacritics are lost in this file; "
                    f"from the original workbook, {UTF8_HOWTO}",
                )
            ]
        )
    why = "it reads as neither Vietnamese (Windows-1258) nor Western (Windows-1252) text"
    foreign = sorted({c for c in vi if not (c.isascii() or c in VIETNAMESE or c in _PUNCT)})
    if foreign and any(c in _VIETNAMESE_ONLY for c in vi):
        why = (
            "read as Vietnamese (Windows-1258) it also holds letters outside Vietnamese "
            f"({' '.join(foreign[:5])}), so neither reading is certain"
        )
    raise InputError(
        [
            Problem(
                str(path),
                line,
                None,
                f"not UTF-8 (byte 0x{data[error.start]:02x}) and the code page is not certain: "
                f"{why}; {UTF8_HOWTO}",
            )
        ]
    )


# --------------------------------------------------------------------------- writing


def write_workbook(path: Path, header: list[str], rows: list[list[str]], sheet: str) -> None:
    """A registry as a formatted workbook: bold frozen header, column widths, text-formatted
    columns (leading zeros stay), and drop-down lists for ``level`` and ``router_platform``
    (both from confprov/domain.py, so the lists are what ``check`` accepts)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from confprov.domain import LEVEL_NAMES_VI, LEVELS, PLATFORMS

    book = Workbook()
    ws = book.active
    assert ws is not None  # a new workbook has its one sheet
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(
            [
                int(v) if c in WHOLE_NUMBERS and v.isdigit() else v
                for c, v in zip(header, row, strict=True)
            ]
        )
        # openpyxl writes a string starting with '=' as a formula, which Excel would evaluate
        # (a name like '=HYPERLINK(…)'): every text cell is typed as text, so it reads back as
        # exactly the registry's text (no apostrophe added, unlike the report exports).
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    ws.freeze_panes = "A2"
    last = 1000  # rows the lists and formats cover: room to add sites
    for index, column in enumerate(header):
        letter = column_letter(index)
        longest = max([len(column), *(len(r[index]) for r in rows)])
        ws.column_dimensions[letter].width = min(max(10, longest + 2), 48)
        if column in TEXT_NUMBERS:
            for (cell,) in ws.iter_rows(
                min_row=2, max_row=last, min_col=index + 1, max_col=index + 1
            ):
                cell.number_format = "@"
    lists = {
        "level": [*LEVELS, *LEVEL_NAMES_VI.values()],
        "router_platform": list(PLATFORMS),
    }
    for column, allowed in lists.items():
        if column not in header:
            continue
        letter = column_letter(header.index(column))
        check = DataValidation(
            type="list",
            formula1='"' + ",".join(allowed) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=column,
            error=f"{column}: one of {', '.join(allowed)}",
        )
        check.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(check)
    book.save(path)
