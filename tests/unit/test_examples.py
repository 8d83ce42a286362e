"""The shipped workspaces a new user starts from: the starter goes init → check → inventory →
router configs with no failure on every platform it uses, and the two-tier Phú Thọ of 2025 holds
its 148 commune-level units under the province."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from confprov.cli import main
from confprov.domain import LEVELS
from confprov.lab.plan import example_sites, make_plan, registry_csv
from confprov.registry import load_registry
from confprov.routers.render import render
from confprov.routers.targets import workspace_routers
from confprov.workspace import load
from tests.unit.test_inventory import BIN, ansible_inventory


@pytest.mark.parametrize("xlsx", [False, True], ids=["csv", "xlsx"])
@pytest.mark.ansible
def test_starter_goes_init_check_inventory_and_renders_every_router(
    tmp_path: Path, capsys, xlsx: bool
) -> None:  # type: ignore[no-untyped-def]
    ws = tmp_path / "ws"
    assert main(["init", str(ws), *(["--xlsx"] if xlsx else [])]) == 0
    assert main(["check", "-w", str(ws)]) == 0
    assert "warning" not in capsys.readouterr().out
    assert main(["inventory", "-w", str(ws)]) == 0
    inv = ansible_inventory(ws / "inventory")
    assert set(inv["group_cum_mau"]["children"]) == {"site_mau_mot", "site_mau_hai"}
    targets, conference = workspace_routers(ws, credentials=False)
    platforms = {t.platform for t in targets}
    assert platforms == {"cisco_ios", "frr", "huawei_vrp", "mikrotik_routeros"}
    for target in targets:  # what `routers plan` renders before it connects
        assert "confprov" in render(target, conference), target.host
    # The one router without a WAN gateway gets no static route, and still its description.
    ward = next(t for t in targets if t.host == "mau-hai-rt")
    assert ward.wan_gateway == "" and "/ip route" not in render(ward, conference)


def test_check_refuses_a_gateway_of_another_ip_version_than_the_conference_network(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    ws = tmp_path / "ws"
    assert main(["init", str(ws)]) == 0
    sites = ws / "sites.csv"
    assert ",198.19.13.1," in sites.read_text(encoding="utf-8")  # line 3's gateway
    sites.write_text(
        sites.read_text(encoding="utf-8").replace(",198.19.13.1,", ",2001:db8::1,"),
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["check", "-w", str(ws)]) == 2
    err = capsys.readouterr().err
    assert "sites.csv:3: router_wan_gateway: an IPv6 gateway '2001:db8::1'" in err, err
    assert "IPv4 conference.network 198.19.255.0/24" in err


def test_phu_tho_2025_is_two_tier_with_148_units(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ws = tmp_path / "ws"
    assert main(["init", str(ws), "--example", "phu-tho-2025"]) == 0
    capsys.readouterr()
    assert main(["check", "-w", str(ws)]) == 0
    out = capsys.readouterr().out
    assert "165 sites" in out and "warning" not in out
    reg = load(ws).registry
    assert reg.count_levels() == {"province": 1, "commune": 133, "ward": 15, "department": 16}
    province = next(s for s in reg.sites if s.level == "province")
    units = [s for s in reg.sites if s.level in ("commune", "ward")]
    assert len(units) == 148 and all(s.parent == province.slug for s in units)
    assert all(s.slug.isascii() and "." not in s.slug for s in units)
    assert reg.by_slug()["viet-tri"].name == "UBND phường Việt Trì"
    assert len(reg.groups()) == 32  # the former districts and towns, as a grouping
    assert {s.slug for s in reg.groups()["huyen-lam-thao"]} == {
        "lam-thao",
        "xuan-lung",
        "phung-nguyen",
        "ban-nguyen",
    }


def test_phu_tho_2025_fits_a_lab_keeping_names_levels_and_groups(tmp_path: Path) -> None:
    specs = example_sites("phu-tho-2025")
    plan = make_plan("t", 0, specs)
    path = tmp_path / "sites.csv"
    path.write_text(registry_csv(plan, "conf"), encoding="utf-8")
    registry = load_registry(path)
    assert [(s.name, s.level, s.slug, s.group) for s in registry.sites] == [
        (s.name, s.level, s.slug, s.group) for s in specs
    ]
    # The lab's confprov.yml expects what the registry holds, level by level of domain.py.
    assert plan.levels() == {level: registry.count_levels().get(level, 0) for level in LEVELS}


def test_lab_up_offers_the_example() -> None:
    out = subprocess.run(
        [str(BIN / "confprov"), "lab", "up", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "phu-tho-2025" in out
