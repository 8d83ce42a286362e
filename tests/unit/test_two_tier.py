"""Registries of today's two-tier province (xã, phường, đặc khu directly under the province,
since 1 July 2025) through check, inventory and --limit; a mix with districts refused clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from confprov.cli import main
from confprov.exceptions import InputError, Problem
from confprov.registry import load_registry
from confprov.selection import select
from confprov.workspace import load, render_workspace_inventory
from tests.unit.test_inventory import ansible_inventory

DATA = Path(__file__).parent / "data" / "two-tier"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(DATA, ws)
    return ws


def test_two_tier_registry_checks_with_levels_and_groups(workspace: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", "-w", str(workspace)]) == 0
    out = capsys.readouterr().out
    assert "7 sites, 7 endpoints, 5 routers" in out
    assert "  ward              2" in out and "  special_zone      1" in out
    assert "district" not in out.split("by group")[0]  # no district level, no "by district"
    assert "by group" in out and "Việt Trì cũ     3" in out and "Cẩm Khê cũ      1" in out
    assert "warning" not in out  # the roster in confprov.yml counts wards and communes


def test_host_names_without_a_district_are_the_short_name(workspace: Path) -> None:
    reg = load(workspace).registry
    by = reg.by_slug()
    assert set(by) == {
        "trung-tam-hoi-nghi-tinh-phu-tho",
        "so-khoa-hoc-va-cong-nghe",
        "viet-tri",
        "nong-trang",
        "hy-cuong",
        "cam-khe",
        "con-co",
    }
    assert by["hy-cuong"].parent == "trung-tam-hoi-nghi-tinh-phu-tho"  # named explicitly
    assert by["viet-tri"].parent == "trung-tam-hoi-nghi-tinh-phu-tho"  # empty: the province
    assert by["con-co"].level == "special_zone" and by["viet-tri"].level == "ward"
    assert all(s.district == "" for s in reg.sites)


@pytest.mark.ansible
def test_inventory_has_group_and_level_groups(workspace: Path) -> None:
    render_workspace_inventory(workspace)
    inv = ansible_inventory(workspace / "inventory")
    assert inv["group_viet_tri_cu"]["children"] == [
        "site_viet_tri",
        "site_nong_trang",
        "site_hy_cuong",
    ]
    assert inv["group_cam_khe_cu"]["children"] == ["site_cam_khe"]
    assert inv["level_ward"]["children"] == ["site_viet_tri", "site_nong_trang"]
    assert inv["level_special_zone"]["children"] == ["site_con_co"]
    assert not any(name.startswith("district_") for name in inv)
    hv = inv["_meta"]["hostvars"]
    assert hv["viet-tri"]["confprov_group"] == "Việt Trì cũ"
    assert hv["hy-cuong-rt"]["confprov_router_wan_interface"] == ""
    assert "confprov_group" not in hv["con-co"]
    # A leading zero of a phone number stays (text in CSV).
    assert hv["trung-tam-hoi-nghi-tinh-phu-tho"]["confprov_contact"]["phone"] == "0210 3846 001"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("group:Việt Trì cũ", {"viet-tri", "nong-trang", "hy-cuong"}),
        ("group:viet tri cu", {"viet-tri", "nong-trang", "hy-cuong"}),
        ("group_cam_khe_cu", {"cam-khe"}),
        ("level:phường", {"viet-tri", "nong-trang"}),
        ("level:đặc khu", {"con-co"}),
        ("Hy Cương", {"hy-cuong"}),
    ],
)
def test_limit_by_group_and_new_levels(workspace: Path, spec: str, expected: set[str]) -> None:
    assert {s.slug for s in select(load(workspace).registry, [spec]).sites} == expected


def test_unknown_group_names_the_groups(workspace: Path) -> None:
    with pytest.raises(InputError, match=r"no such group \(known: Việt Trì cũ \(viet-tri-cu\)"):
        select(load(workspace).registry, ["group:Lâm Thao"])


def test_limit_by_a_level_the_registry_has_not_is_refused(workspace: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        InputError,
        match=r"level:district: no site of level district in this "
        r"registry \(levels: province, commune, ward, special_zone, department\)",
    ):
        select(load(workspace).registry, ["level:district"])
    assert main(["verify", "--limit", "level:huyện", "-w", str(workspace)]) == 2
    assert "no site of level district" in capsys.readouterr().err


def problems(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "sites.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_registry(path)
    return info.value.problems


HEAD = "name,level,parent,endpoint\nTrung tâm,province,,198.18.1.1\n"


def test_a_mix_of_the_two_shapes_is_refused_naming_both(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD
        + "UBND huyện Cẩm Khê,district,,198.18.1.2\n"
        + "UBND xã Yên Tập,xã,Cẩm Khê,198.18.1.3\n"
        + "UBND xã Tạ Xá,xã,Cẩm Khê,198.18.1.4\n"
        + "UBND phường Phong Châu,phường,,198.18.1.5\n",
    )
    assert [(p.line, p.field) for p in found] == [(6, "parent")]
    assert "missing parent: name the ward's district" in found[0].message
    assert "line 4: 'UBND xã Yên Tập'" in found[0].message


def test_a_lone_commune_under_a_district_in_a_two_tier_registry(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        HEAD
        + "UBND huyện Cẩm Khê,district,,198.18.1.2\n"
        + "UBND xã Yên Tập,xã,Cẩm Khê,198.18.1.3\n"
        + "UBND xã Tạ Xá,xã,,198.18.1.4\n"
        + "UBND phường Phong Châu,phường,,198.18.1.5\n",
    )
    assert [(p.line, p.field) for p in found] == [(4, "parent")]
    assert "this registry is two-tier" in found[0].message and "line 5" in found[0].message


def test_districts_without_communes_are_consistent(tmp_path: Path) -> None:
    """A former district's office as a site of its own, the communes under the province."""
    path = tmp_path / "sites.csv"
    path.write_text(
        HEAD + "UBND huyện Cẩm Khê,district,,198.18.1.2\nUBND xã Tạ Xá,xã,,198.18.1.4\n",
        encoding="utf-8",
    )
    assert {s.slug for s in load_registry(path).sites} >= {"cam-khe", "ta-xa"}


def test_same_host_name_names_both_lines(tmp_path: Path) -> None:
    found = problems(
        tmp_path, HEAD + "UBND xã Tân Sơn,xã,,198.18.1.2\nUBND xã Tấn Sơn,xã,,198.18.1.3\n"
    )
    assert [(p.line, p.field) for p in found] == [(4, "name")]
    assert "duplicate host name" in found[0].message and "also on line 3" in found[0].message


def test_a_commune_under_a_department_is_refused(tmp_path: Path) -> None:
    text = HEAD + "Sở Nội vụ,sở,,198.18.1.2\nUBND xã A,xã,Sở Nội vụ,198.18.1.3\n"
    found = problems(tmp_path, text)
    assert "must be a district or the province site" in found[0].message


def test_a_title_row_above_the_header_is_named_once(tmp_path: Path) -> None:
    text = (DATA / "sites.csv").read_text(encoding="utf-8")
    found = problems(tmp_path, "Danh sách điểm cầu truyền hình tỉnh Phú Thọ,,,\n" + text)
    assert [str(p) for p in found] == [
        f"{tmp_path / 'sites.csv'}:1: the header must be line 1 (found the header on line 2?): "
        "delete the rows above it"
    ]
