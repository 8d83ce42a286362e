"""Excel registries read directly (sites.xlsx): the same inventory as the CSV, every problem named
by its cell, leading zeros kept or refused, formulas never evaluated; legacy Windows CSV."""

from __future__ import annotations

import csv
import json
import re
import shutil
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest

from confprov import domain
from confprov.cli import main
from confprov.exceptions import InputError
from confprov.registry import load_registry
from confprov.spreadsheet import write_workbook
from confprov.workspace import load, render_workspace_inventory
from tests.unit.test_inventory import ansible_inventory

TWO_TIER = Path(__file__).parent / "data" / "two-tier"


def rows_of(path: Path) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    return header, rows


def xlsx_workspace(tmp_path: Path, edit=None, sheet: str = "Sites") -> Path:  # type: ignore[no-untyped-def]
    ws = tmp_path / "xlsx"
    shutil.copytree(TWO_TIER, ws)
    header, rows = rows_of(ws / "sites.csv")
    (ws / "sites.csv").unlink()
    write_workbook(ws / "sites.xlsx", header, rows, sheet)
    if edit:
        book = openpyxl.load_workbook(ws / "sites.xlsx")
        edit(book[sheet])
        book.save(ws / "sites.xlsx")
    return ws


def problems(ws: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load(ws)
    return [str(p) for p in info.value.problems]


@pytest.mark.ansible
def test_xlsx_and_csv_give_the_same_inventory(tmp_path: Path) -> None:
    csv_ws = tmp_path / "csv"
    shutil.copytree(TWO_TIER, csv_ws)
    xlsx_ws = xlsx_workspace(tmp_path)
    seen = []
    for ws in (csv_ws, xlsx_ws):
        render_workspace_inventory(ws)
        seen.append(json.dumps(ansible_inventory(ws / "inventory")).replace(str(ws), "WS"))
    assert seen[0] == seen[1]
    # The leading zero of a phone number typed as text stays.
    assert load(xlsx_ws).registry.sites[0].contact_phone == "0210 3846 001"


def test_errors_name_sheet_and_cell(tmp_path: Path) -> None:
    def edit(sheet) -> None:  # type: ignore[no-untyped-def]
        sheet["C4"] = "thôn"  # level
        sheet["K4"] = 912345678  # contact_phone typed as a number: its 0 is gone
        sheet["A6"] = 7  # an id as a number
        sheet["F5"] = "198.18.300.1"  # endpoint

    found = problems(xlsx_workspace(tmp_path, edit))
    text = "\n".join(found)
    assert re.search(r"sites\.xlsx: Sites!C4: level: unknown level 'thôn'", text), text
    assert "Sites!K4: contact_phone: Excel stored 912345678 as a number" in text
    assert "'0912345678" in text  # says how to keep the zero
    assert "Sites!A6: id: Excel stored 7 as a number" in text
    assert "Sites!F5: endpoint: invalid IP address '198.18.300.1'" in text


def test_a_formula_without_a_saved_value_is_refused_never_evaluated(tmp_path: Path) -> None:
    def edit(sheet) -> None:  # type: ignore[no-untyped-def]
        sheet["B6"] = '="UBND xã "&"Cẩm Khê"'  # openpyxl saves formulas without a value

    found = problems(xlsx_workspace(tmp_path, edit))
    assert any(
        p.startswith(str(tmp_path)) and "Sites!B6: name: a formula with no saved value" in p
        for p in found
    ), found


def test_a_formula_s_saved_value_is_read(tmp_path: Path) -> None:
    ws = xlsx_workspace(tmp_path, lambda sheet: sheet.__setitem__("B6", '="UBND xã "&"Tạ Xá"'))
    path = ws / "sites.xlsx"
    # What Excel writes after calculating: the formula and its value side by side.
    with zipfile.ZipFile(path) as old:
        members = {n: old.read(n) for n in old.namelist()}
    sheet_xml = members["xl/worksheets/sheet1.xml"].decode()
    sheet_xml, count = re.subn(
        r'<c r="B6"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?</c>',
        r'<c r="B6" t="str"><f>\2</f><v>UBND xã Tạ Xá</v></c>',
        sheet_xml,
    )
    assert count == 1
    members["xl/worksheets/sheet1.xml"] = sheet_xml.encode()
    with zipfile.ZipFile(path, "w") as new:
        for name, data in members.items():
            new.writestr(name, data)
    assert "ta-xa" in load(ws).registry.by_slug()


def test_registry_sheet_picks_the_sheet(tmp_path: Path) -> None:
    ws = xlsx_workspace(tmp_path, sheet="Điểm cầu")
    book = openpyxl.load_workbook(ws / "sites.xlsx")
    book.create_sheet("Ghi chú", 0).append(["not the registry"])
    book.save(ws / "sites.xlsx")
    assert "no sheet" not in "\n".join(problems(ws))  # the first sheet is read: not a registry
    config = ws / "confprov.yml"
    config.write_text(config.read_text() + "registry_sheet: Điểm cầu\n", encoding="utf-8")
    assert len(load(ws).registry.sites) == 7
    config.write_text(config.read_text().replace("Điểm cầu", "Sites"), encoding="utf-8")
    assert any("no sheet 'Sites' (sheets: Ghi chú, Điểm cầu)" in p for p in problems(ws))


def test_init_xlsx_writes_a_formatted_workbook(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ws = tmp_path / "ws"
    assert main(["init", "--xlsx", str(ws)]) == 0
    assert not (ws / "sites.csv").exists()
    book = openpyxl.load_workbook(ws / "sites.xlsx")
    sheet = book["Sites"]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    lists = {
        header[openpyxl.utils.column_index_from_string(str(dv.sqref).split(":")[0][:1]) - 1]: (
            dv.formula1.strip('"').split(",")
        )
        for dv in sheet.data_validations.dataValidation
    }
    assert lists["router_platform"] == list(domain.PLATFORMS)
    assert set(domain.LEVELS) <= set(lists["level"])
    assert set(domain.LEVEL_NAMES_VI.values()) <= set(lists["level"])
    phone = header.index("contact_phone") + 1
    assert sheet.cell(2, phone).value == "0900 000 001"
    assert sheet.cell(50, phone).number_format == "@"  # typed later, still text
    capsys.readouterr()
    assert main(["check", "-w", str(ws)]) == 0
    assert "sites.xlsx: 4 sites" in capsys.readouterr().out


# --------------------------------------------------------------------------- legacy CSV


def cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 stores it: base letters precomposed, tone marks combining."""
    out = b""
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out += (base + tones).encode("cp1258")
    return out


def test_windows_1258_csv_is_read(tmp_path: Path) -> None:
    text = (TWO_TIER / "sites.csv").read_text(encoding="utf-8")
    path = tmp_path / "sites.csv"
    path.write_bytes(cp1258(text).replace(b"\n", b"\r\n"))
    names = [s.name for s in load_registry(path).sites]
    assert "UBND xã Hy Cương" in names and "Đặc khu Cồn Cỏ" in names


def test_windows_1252_with_lost_letters_is_refused_with_the_fix(tmp_path: Path) -> None:
    text = (
        "name,level,parent,endpoint\nTrung tâm,province,,198.18.1.1\n"
        "UBND xã Yên Tập,xã,,198.18.1.2\n"
    )
    path = tmp_path / "sites.csv"
    path.write_bytes(text.encode("cp1252", errors="replace"))
    with pytest.raises(InputError) as info:
        load_registry(path)
    message = str(info.value)
    assert "sites.csv:3" in message and "'?'" in message
    assert "'CSV UTF-8 (Comma delimited) (*.csv)'" in message
    assert "Character set 'Unicode (UTF-8)'" in message


def test_binary_junk_is_refused_as_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_bytes(b"name,level,parent,endpoint\n\x81\x8d\x8f,province,,198.18.1.1\n")
    with pytest.raises(InputError, match=r"sites\.csv:2: not UTF-8 \(byte 0x81\).*CSV UTF-8"):
        load_registry(path)


def test_windows_1252_western_names_are_read(tmp_path: Path) -> None:
    text = "name,level,parent,endpoint\nCentre Genève,province,,198.18.1.1\n"
    path = tmp_path / "sites.csv"
    path.write_bytes(text.encode("cp1252"))
    assert load_registry(path).sites[0].name == "Centre Genève"


def test_vietnamese_with_one_western_letter_is_refused_not_read_as_western(
    tmp_path: Path,
) -> None:
    # Read as Windows-1252 this file gave "PhaÌ£m" and garbage host names, with exit 0.
    starter = Path(domain.__file__).parent / "examples" / "starter" / "sites.csv"
    text = starter.read_text(encoding="utf-8")
    assert "Phạm Thị Dung" in text
    path = tmp_path / "sites.csv"
    path.write_bytes(cp1258(text.replace("Phạm Thị Dung", "Phạm Thị Müller")))
    with pytest.raises(InputError) as info:
        load_registry(path)
    message = str(info.value)
    assert "sites.csv:" in message and "not UTF-8" in message and "(ü)" in message
    assert "'CSV UTF-8 (Comma delimited) (*.csv)'" in message


# --------------------------------------------------------------------------- cells Excel wrote


def patch_cell(ws: Path, ref: str, xml: str) -> None:
    """Replace cell ``ref`` of the first sheet by ``xml``, as Excel itself would have saved it."""
    path = ws / "sites.xlsx"
    with zipfile.ZipFile(path) as old:
        members = {n: old.read(n) for n in old.namelist()}
    sheet_xml, count = re.subn(
        rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)',
        lambda _: xml,
        members["xl/worksheets/sheet1.xml"].decode(),
        count=1,
    )
    assert count == 1
    members["xl/worksheets/sheet1.xml"] = sheet_xml.encode()
    with zipfile.ZipFile(path, "w") as new:
        for name, data in members.items():
            new.writestr(name, data)


def test_merged_cells_are_refused(tmp_path: Path) -> None:
    def edit(sheet) -> None:  # type: ignore[no-untyped-def]
        sheet["E4"] = "Cụm Thanh Sơn"
        sheet["E5"] = None
        sheet.merge_cells("E4:E5")  # row 5's group would read as empty

    found = problems(xlsx_workspace(tmp_path, edit))
    assert any(
        p.endswith("Sites!E4:E5: merged cells; unmerge them and fill every row") for p in found
    ), found


def test_excel_error_cells_are_refused(tmp_path: Path) -> None:
    ws = xlsx_workspace(tmp_path)
    patch_cell(ws, "E4", '<c r="E4" t="e"><f>VLOOKUP(A4,X:Y,2,0)</f><v>#N/A</v></c>')
    patch_cell(ws, "B5", '<c r="B5" t="e"><v>#REF!</v></c>')
    found = problems(ws)
    text = "\n".join(found)
    assert (
        "Sites!E4: group: Excel error #N/A in this cell: fix the formula or type the value" in text
    )
    assert "Sites!B5: name: Excel error #REF! in this cell" in text
    assert "no saved value" not in text


def test_a_formula_s_empty_saved_result_is_an_empty_cell(tmp_path: Path) -> None:
    ws = xlsx_workspace(tmp_path)
    empty = '<c r="{}" t="str"><f>IF(1=1,"","x")</f><v></v></c>'
    patch_cell(ws, "E4", empty.format("E4"))
    # A trailing row of formulas that gave "" (a sheet prepared for more sites) is no site.
    path = ws / "sites.xlsx"
    with zipfile.ZipFile(path) as old:
        members = {n: old.read(n) for n in old.namelist()}
    sheet_xml = members["xl/worksheets/sheet1.xml"].decode()
    trailing = '<row r="40">' + empty.format("B40") + empty.format("E40") + "</row>"
    members["xl/worksheets/sheet1.xml"] = sheet_xml.replace(
        "</sheetData>", trailing + "</sheetData>"
    ).encode()
    with zipfile.ZipFile(path, "w") as new:
        for name, data in members.items():
            new.writestr(name, data)
    registry = load(ws).registry
    assert len(registry.sites) == 7
    assert registry.sites[2].group == ""


def test_cells_are_found_whatever_the_namespace_prefix() -> None:
    from confprov.spreadsheet import scan_cells

    data = (
        b'<x:worksheet xmlns:x="http://purl.oclc.org/ooxml/spreadsheetml/main"><x:sheetData>'
        b'<x:row r="2"><x:c><x:f>A1</x:f></x:c><x:c t="e"><x:v>#REF!</x:v></x:c></x:row>'
        b"</x:sheetData></x:worksheet>"
    )
    assert scan_cells(data) == ({"A2"}, {"B2": "#REF!"})


def test_a_damaged_sheet_is_bad_input_not_a_crash(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ws = xlsx_workspace(tmp_path)
    patch_cell(ws, "B3", '<c r="B3" t="s"><v>9999</v></c>')  # no such shared string
    assert main(["check", "-w", str(ws)]) == 2
    assert "not a readable .xlsx workbook" in capsys.readouterr().err


def test_a_title_row_above_the_header_is_named_once(tmp_path: Path) -> None:
    def edit(sheet) -> None:  # type: ignore[no-untyped-def]
        sheet.insert_rows(1)
        sheet["A1"] = "Danh sách điểm cầu"

    assert [p.split("sites.xlsx: ", 1)[1] for p in problems(xlsx_workspace(tmp_path, edit))] == [
        "Sites!1:1: the header must be row 1 (found the header in row 2?): delete the rows above it"
    ]


def test_messages_about_another_row_name_its_cell(tmp_path: Path) -> None:
    def edit(sheet) -> None:  # type: ignore[no-untyped-def]
        sheet["F5"] = sheet["F4"].value  # row 5's endpoint address is row 4's
        sheet.append(["", "UBND huyện Lâm Thao", "district", "", "", "198.18.9.11"])
        sheet["D7"] = "UBND huyện Lâm Thao"  # one commune under a district in a two-tier sheet

    text = "\n".join(problems(xlsx_workspace(tmp_path, edit)))
    assert "Sites!F5: endpoint: duplicate address (also on Sites!F4)" in text, text
    assert "Sites!D7: parent: under a district, but this registry is two-tier" in text, text
    assert "directly under the province, e.g. Sites!B4: 'UBND phường Việt Trì'" in text, text
    assert "line" not in text, text
