"""One home for levels, platforms and text rules (confprov/domain.py): every copy derives from it
or is held equal to it here, and registry ``check`` refuses whatever router ``render`` would."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest
import yaml

from confprov import config, domain, registry, selection
from confprov.exceptions import InputError
from confprov.registry import load_registry
from confprov.routers.platforms import PLATFORMS
from confprov.routers.render import Conference, RouterTarget, render

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "collections/ansible_collections/confprov/core/plugins/modules/router_config.py"
CONFERENCE = Conference(network="198.18.32.0/24", server="198.18.32.10")


def test_every_list_of_levels_and_platforms_is_the_domain_s() -> None:
    assert config.LEVELS is domain.LEVELS
    assert registry.LEVELS is domain.LEVELS and selection.LEVELS is domain.LEVELS
    assert registry.PLATFORMS == domain.PLATFORMS == tuple(PLATFORMS)
    # The Ansible module cannot import confprov on a managed node: its choices are held equal.
    tree = ast.parse(MODULE.read_text())
    choices = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ROUTER_OPTIONS"
    )["platform"]["choices"]
    assert tuple(choices) == domain.PLATFORMS
    doc = next(
        yaml.safe_load(node.value.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION"
    )
    documented = doc["options"]["routers"]["suboptions"]["platform"]["choices"]
    assert tuple(documented) == domain.PLATFORMS


@pytest.mark.parametrize(
    ("word", "level"),
    [
        ("xã", "commune"),
        ("XA", "commune"),
        ("phường", "ward"),
        ("Phuong", "ward"),
        ("đặc khu", "special_zone"),
        ("dac khu", "special_zone"),
        ("special_zone", "special_zone"),
        ("huyện", "district"),
        ("sở", "department"),
        ("village", ""),
    ],
)
def test_levels_in_english_or_vietnamese(word: str, level: str) -> None:
    assert domain.level_of(word) == level


def row(name: str, **router: str) -> str:
    fields = {"router_platform": "frr", "router_wan_interface": "eth0"} | router
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "level", "parent", "endpoint", "router", *fields])
    writer.writerow(["Trung tâm", "province", "", "198.18.1.11", "", *([""] * len(fields))])
    writer.writerow([name, "department", "", "198.18.2.11", "198.18.2.1", *fields.values()])
    return out.getvalue()


# Each of these: the value render refuses for a router of that platform.
REFUSED = [
    ("Sở Y tế; reboot", {}, "name", "not allowed in a frr config"),
    ("Sở Nội vụ | Lao động", {"router_platform": "cisco_ios"}, "name", "'|'"),
    ('Sở "Y tế"', {"router_platform": "juniper_junos"}, "name", "not allowed"),
    ("Sở Y tế", {"router_wan_interface": "eth0 ; reboot"}, "router_wan_interface", "interface"),
    ("Sở Y tế", {"router_wan_gateway": "fe80::1%eth0;x"}, "router_wan_gateway", "scope id"),
    ("Sở Y tế", {"router_wan_gateway": "198.19.0.300"}, "router_wan_gateway", "not an IP"),
    ("Sở Y tế", {"router_platform": "cisco_nxos"}, "router_platform", "unknown platform"),
    ("Sở Y tế\u202e", {}, "name", "control character"),
]


@pytest.mark.parametrize(("name", "router", "field", "words"), REFUSED)
def test_check_refuses_first_what_render_refuses(
    tmp_path: Path, name: str, router: dict[str, str], field: str, words: str
) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(row(name, **router), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_registry(path)
    found = [p for p in info.value.problems if p.line == 3 and p.field == field]
    assert found and words in found[0].message, info.value.problems
    plat = router.get("router_platform", "frr")
    target = RouterTarget(
        host="x-rt",
        address="198.18.2.1",
        platform=plat,
        site_name=name,
        wan_interface=router.get("router_wan_interface", "eth0"),
        wan_gateway=router.get("router_wan_gateway", ""),
    )
    with pytest.raises(InputError):  # the later command refuses the same value
        render(target, CONFERENCE)


@pytest.mark.parametrize("plat", domain.PLATFORMS)
def test_a_row_check_accepts_renders_on_every_platform(tmp_path: Path, plat: str) -> None:
    """Optional really is optional: no WAN interface, no gateway, and the config renders."""
    path = tmp_path / "sites.csv"
    path.write_text(
        row("Sở Văn hóa, Thể thao và Du lịch", router_platform=plat, router_wan_interface=""),
        encoding="utf-8",
    )
    site = load_registry(path).sites[1]
    text = render(
        RouterTarget(
            host=site.router_host,
            address=site.router,
            platform=site.router_platform,
            site_name=site.name_ascii,
            wan_interface=site.router_wan_interface,
            wan_gateway=site.router_wan_gateway,
        ),
        CONFERENCE,
    )
    assert "ip route" not in text and "static route" not in text


@pytest.mark.parametrize("platform", sorted(domain.PLATFORMS))
@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("UBND huyện Cư M'gar", "confprov UBND huyen Cu Mgar"),
        ("UBND huyện Đắk R\u2019Lấp", "confprov UBND huyen Dak RLap"),
        ("Sở Tài nguyên & Môi trường", "confprov So Tai nguyen + Moi truong"),
    ],
)
def test_real_names_with_an_apostrophe_or_ampersand_make_a_harmless_description(
    platform: str, name: str, shown: str
) -> None:
    """Real unit names, not refused: the apostrophe dropped, '&' as '+', on every platform."""
    assert domain.description(name, platform) == shown[: domain.rules(platform).description_max]
