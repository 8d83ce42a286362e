"""The registry is read strictly; every bad-input class names its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from confprov.exceptions import InputError, Problem
from confprov.registry import load_registry

HEADER = "id,name,level,parent,endpoint,router,router_platform\n"
GOOD = (
    ",Trung tâm Hội nghị tỉnh,province,,198.18.1.11,198.18.1.1,cisco_ios\n"
    ",UBND huyện Cẩm Khê,district,,198.18.2.11,198.18.2.1,frr\n"
    ",UBND xã Yên Tập,commune,Cẩm Khê,198.18.3.11,198.18.3.1,huawei_vrp\n"
    ",Sở Ngoại vụ,department,,198.18.4.11,,\n"
)


def problems(tmp_path: Path, text: str | bytes, name: str = "sites.csv") -> list[Problem]:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    with pytest.raises(InputError) as info:
        load_registry(path)
    return info.value.problems


def one(found: list[Problem], line: int, field: str | None, words: str) -> Problem:
    """The single problem at ``line``/``field``, whose message holds ``words``."""
    match = [p for p in found if p.line == line and p.field == field]
    assert len(match) == 1, f"expected one problem at line {line} field {field}: {found}"
    assert words in match[0].message, match[0]
    assert match[0].file.endswith((".csv", ".yml"))
    return match[0]


def test_good_registry_loads_with_hierarchy(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    reg = load_registry(path)
    by = reg.by_slug()
    assert set(by) == {"trung-tam-hoi-nghi-tinh", "cam-khe", "yen-tap.cam-khe", "so-ngoai-vu"}
    assert by["yen-tap.cam-khe"].district == "cam-khe"
    assert by["yen-tap.cam-khe"].parent == "cam-khe"
    assert by["cam-khe"].parent == "trung-tam-hoi-nghi-tinh"
    assert by["so-ngoai-vu"].router_host == ""
    assert by["yen-tap.cam-khe"].router_host == "yen-tap.cam-khe-rt"
    assert reg.count_levels() == {"province": 1, "district": 1, "commune": 1, "department": 1}


def test_excel_export_with_bom_and_semicolons(tmp_path: Path) -> None:
    text = (HEADER + GOOD).replace(",", ";")
    path = tmp_path / "sites.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    reg = load_registry(path)
    assert [s.name for s in reg.sites][2] == "UBND xã Yên Tập"


def test_yaml_registry_matches_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "sites.csv"
    csv_path.write_text(HEADER + GOOD, encoding="utf-8")
    yml = tmp_path / "sites.yml"
    yml.write_text(
        "sites:\n"
        "  - {name: Trung tâm Hội nghị tỉnh, level: province, endpoint: 198.18.1.11,"
        " router: 198.18.1.1, router_platform: cisco_ios}\n"
        "  - {name: UBND huyện Cẩm Khê, level: district, endpoint: [198.18.2.11],"
        " router: 198.18.2.1, router_platform: frr}\n"
        "  - name: UBND xã Yên Tập\n    level: commune\n    parent: Cẩm Khê\n"
        "    endpoint: 198.18.3.11\n    router: 198.18.3.1\n    router_platform: huawei_vrp\n"
        "  - {name: Sở Ngoại vụ, level: department, endpoint: 198.18.4.11}\n",
        encoding="utf-8",
    )
    strip = lambda reg: [(s.slug, s.level, s.endpoints, s.router, s.parent) for s in reg.sites]  # noqa: E731
    assert strip(load_registry(yml)) == strip(load_registry(csv_path))


def test_yaml_problem_names_the_yaml_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "sites:\n  - name: Trung tâm\n    level: province\n    endpoint: 198.18.1.1\n"
        "  - name: Sở A\n    level: ministry\n    endpoint: 198.18.1.2\n",
        "sites.yml",
    )
    one(found, 6, "level", "unknown level 'ministry'")


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        (",Sở A,ministry,,198.18.9.1,,", "level", "unknown level 'ministry'"),
        (",Sở A,department,,198.18.9.1,198.18.9.2,cisco_xr", "router_platform", "unknown platform"),
        (",Sở A,department,,198.18.9.1,198.18.9.2,", "router_platform", "missing"),
        (",UBND xã Mới,commune,,198.18.9.1,,", "parent", "missing parent"),
        (",UBND xã Mới,commune,Huyện Không Có,198.18.9.1,,", "parent", "unknown parent"),
        (",UBND xã Mới,commune,Sở Ngoại vụ,198.18.9.1,,", "parent", "must be a district"),
        (",Sở A,department,,198.18.300.1,,", "endpoint", "invalid IP address '198.18.300.1'"),
        (",Sở A,department,,bad_host!,,", "endpoint", "invalid host name 'bad_host!'"),
        (",Sở A,department,,198.18.9.1,999.1.1.1,frr", "router", "invalid IP address"),
        (",,department,,198.18.9.1,,", "name", "empty name"),
        (",Sở\x07A,department,,198.18.9.1,,", "name", "control character"),
        (',"Sở A\tB",department,,198.18.9.1,,', "name", "tab"),
        (",Sở {{ lookup('pipe','id') }},department,,198.18.9.1,,", "name", "template markers"),
        (",Sở A,department,,198.18.1.11,,", "endpoint", "duplicate address (also on line 2)"),
        (",Sở Ngoại vụ,department,,198.18.9.1,,", "name", "duplicate name"),
        (",Trung tâm khác,province,,198.18.9.1,,", "level", "second province"),
        ("BAD ID,Sở A,department,,198.18.9.1,,", "id", "invalid id"),
    ],
)
def test_bad_row_names_line_and_field(tmp_path: Path, row: str, field: str, words: str) -> None:
    found = problems(tmp_path, HEADER + GOOD + row + "\n")
    one(found, 6, field, words)


def test_duplicate_id(tmp_path: Path) -> None:
    text = HEADER + GOOD + "x1,Sở A,department,,198.18.9.1,,\nx1,Sở B,department,,198.18.9.2,,\n"
    one(problems(tmp_path, text), 7, "id", "duplicate id (also on line 6)")


def test_parent_cycle(tmp_path: Path) -> None:
    text = (
        HEADER
        + ",Trung tâm,province,Huyện Một,198.18.1.11,,\n"
        + ",UBND huyện Huyện Một,district,,198.18.2.11,,\n"
    )
    found = problems(tmp_path, text)
    cycle = one(found, 2, "parent", "parent cycle")
    assert "Trung tâm → UBND huyện Huyện Một → Trung tâm" in cycle.message


def test_newline_inside_a_field(tmp_path: Path) -> None:
    text = HEADER + GOOD + ',"Sở A\nphòng 2",department,,198.18.9.1,,\n'
    one(problems(tmp_path, text), 6, None, "line break")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    text = (HEADER + GOOD).encode() + b",S\xe9 A,department,,198.18.9.1,,\n"  # Latin-1
    found = problems(tmp_path, text)
    assert found[0].line == 6
    assert "not UTF-8" in found[0].message


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    found = problems(tmp_path, "id,name,parent,endpoint,routr\n,Sở A,,198.18.1.1,\n")
    one(found, 1, "level", "missing column")
    one(found, 1, "routr", "unknown column")


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = (
        HEADER
        + GOOD
        + ",Sở A,ministry,,198.18.9.1,,\n"
        + ",UBND xã B,commune,Nơi Nào,198.18.9.2,,\n"
        + ",,department,,198.18.9.300,,\n"
    )
    found = problems(tmp_path, text)
    assert {(p.line, p.field) for p in found} >= {
        (6, "level"),
        (7, "parent"),
        (8, "name"),
        (8, "endpoint"),
    }


def test_district_town_named_like_its_district(tmp_path: Path) -> None:
    """Cẩm Khê names the district and its thị trấn: the commune's parent is the district."""
    text = HEADER + GOOD + ",UBND thị trấn Cẩm Khê,commune,Cẩm Khê,198.18.9.1,,\n"
    path = tmp_path / "sites.csv"
    path.write_text(text, encoding="utf-8")
    by = load_registry(path).by_slug()
    assert by["cam-khe.cam-khe"].parent == "cam-khe"


def test_two_names_one_host_name_asks_for_an_id(tmp_path: Path) -> None:
    text = HEADER + GOOD + ",Sở Ngoại-vụ,department,,198.18.9.1,,\n"
    one(
        problems(tmp_path, text), 6, "name", "duplicate host name (give one of the two sites an id)"
    )
    fixed = HEADER + GOOD + "ngoai-vu-2,Sở Ngoại-vụ,department,,198.18.9.1,,\n"
    path = tmp_path / "fixed.csv"
    path.write_text(fixed, encoding="utf-8")
    assert "ngoai-vu-2" in load_registry(path).by_slug()


def test_example_province_is_the_reference_case() -> None:
    from confprov.workspace import _example_dir

    reg = load_registry(_example_dir("phu-tho") / "sites.csv")
    assert len(reg.sites) == 298
    assert reg.count_levels() == {"province": 1, "district": 13, "commune": 225, "department": 59}
    districts = {d.name for d in reg.districts()}
    for name in (
        "Việt Trì",
        "Phú Thọ",
        "Đoan Hùng",
        "Hạ Hòa",
        "Thanh Ba",
        "Phù Ninh",
        "Yên Lập",
        "Cẩm Khê",
        "Tam Nông",
        "Lâm Thao",
        "Thanh Sơn",
        "Thanh Thủy",
        "Tân Sơn",
    ):
        assert any(d.endswith(name) for d in districts), name
    names = {s.name for s in reg.sites}
    assert {"Sở Khoa học và Công nghệ", "Sở Ngoại vụ", "Liên đoàn Lao động tỉnh"} <= names
    assert sum(len(reg.members(d)) - 1 for d in reg.districts()) == 225


def test_parent_by_host_name(tmp_path: Path) -> None:
    text = HEADER + GOOD + ",UBND xã Tiên Lương,commune,cam-khe,198.18.9.1,,\n"
    path = tmp_path / "sites.csv"
    path.write_text(text, encoding="utf-8")
    assert load_registry(path).by_slug()["tien-luong.cam-khe"].parent == "cam-khe"
