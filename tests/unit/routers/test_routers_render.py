"""Candidate configs per platform: golden files, and registry values that cannot inject commands.

Only FRR has real routers in the lab (tests/lab/test_routers.py pushes to them); the other
platforms are checked here against golden files written from their vendors' documented CLI, as
no such router can run on this machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from confprov.exceptions import InputError
from confprov.routers.configdiff import dialect
from confprov.routers.platforms import PLATFORMS, platform
from confprov.routers.render import Conference, RouterTarget, render

GOLDEN = Path(__file__).parent / "golden"
CONFERENCE = Conference(
    network="198.18.32.0/24", server="198.18.32.10", port=5060, ntp_server="198.18.32.10"
)
INTERFACES = {
    "frr": "wan",
    "cisco_ios": "GigabitEthernet0/1",
    "huawei_vrp": "GigabitEthernet0/0/1",
    "mikrotik_routeros": "ether1",
    "juniper_junos": "ge-0/0/0",
}
NO_LAB = {
    "frr": "",
    "cisco_ios": "no IOS router can run here: golden file only",
    "huawei_vrp": "no VRP router can run here: golden file only",
    "mikrotik_routeros": "no RouterOS can run here: golden file only",
    "juniper_junos": "no Junos can run here: golden file only",
}


def target(plat: str, name: str = "UBND huyện Cẩm Khê", **kw: str) -> RouterTarget:
    fields = {
        "host": "cam-khe-rt",
        "address": "198.18.0.13",
        "platform": plat,
        "site_name": name,
        "wan_interface": INTERFACES[plat],
        "wan_gateway": "198.18.8.1",
        "username": "netops",
        "password": "s3cret",
        **kw,
    }
    return RouterTarget(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("plat", sorted(PLATFORMS))
def test_candidate_matches_golden(plat: str) -> None:
    """Regenerate after an intended change with ``CONFPROV_UPDATE_GOLDEN=1 pytest``."""
    text = render(target(plat), CONFERENCE)
    path = GOLDEN / f"{plat}.cfg"
    if os.environ.get("CONFPROV_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), NO_LAB[plat] or "FRR (the lab pushes it for real)"


@pytest.mark.parametrize("plat", sorted(PLATFORMS))
def test_candidate_covers_what_a_site_needs(plat: str) -> None:
    text = render(target(plat), CONFERENCE)
    p = platform(plat)
    assert "198.18.32.0" in text and "198.18.8.1" in text, "route to the conference network"
    assert "UBND huyen Cam Khe" in text, "the site's name, transliterated, in a description"
    if p.qos:
        assert ("dscp ef" in text or "new-dscp=46" in text) and (
            "dscp af41" in text or "new-dscp=34" in text
        ), "audio EF, video AF41"
    if p.acl:
        assert "5060" in text and "16384" in text, "signalling and media ports permitted"
    if p.ntp:
        assert "ntp" in text and "198.18.32.10" in text
    # Parsing its own candidate gives statements, and an empty router lacks all of them.
    d = dialect(p)
    assert d.missing(d.statements(text), []).add


def test_frr_has_no_qos_acl_ntp_and_says_so() -> None:
    text = render(target("frr"), CONFERENCE)
    assert "dscp" not in text and "access-list" not in text and "ntp" not in text
    assert not (platform("frr").qos or platform("frr").acl or platform("frr").ntp)


def test_tcp_transport_adds_tcp_signalling() -> None:
    conf = Conference(network="198.18.32.0/24", server="198.18.32.10", transport="tls", port=5061)
    text = render(target("cisco_ios"), conf)
    assert "permit tcp any 198.18.32.0 0.0.0.255 eq 5061" in text


def test_server_outside_network_gets_its_own_route() -> None:
    conf = Conference(network="198.18.32.0/24", server="203.0.113.5")
    text = render(target("frr"), conf)
    assert "ip route 203.0.113.5/32 198.18.8.1" in text


def test_extra_config_is_appended() -> None:
    text = render(target("frr", extra_config="ip route 10.9.0.0/16 198.18.8.1"), CONFERENCE)
    assert text.endswith("ip route 10.9.0.0/16 198.18.8.1\n")


@pytest.mark.parametrize(
    "name",
    [
        "Cẩm Khê\nip route 0.0.0.0/0 6.6.6.6",
        "Cẩm Khê\rend",
        "Cẩm\tKhê",
        "Cẩm Khê\x1b[2J",
        "Cẩm Khê\u2028end",
        "Cẩm Khê\x00",
    ],
)
@pytest.mark.parametrize("plat", sorted(PLATFORMS))
def test_control_characters_in_a_name_are_refused(plat: str, name: str) -> None:
    with pytest.raises(InputError, match=r"cam-khe-rt: site name .*line break or control"):
        render(target(plat, name), CONFERENCE)


@pytest.mark.parametrize(
    "name", ['Sở "Y tế"', "Sở Y tế; /system reset", "Sở {Y tế}", "Sở Y tế?", "Sở $x", "A|B"]
)
@pytest.mark.parametrize("plat", sorted(PLATFORMS))
def test_cli_special_characters_are_refused(plat: str, name: str) -> None:
    with pytest.raises(InputError, match=r"cam-khe-rt: site name .*not allowed in a"):
        render(target(plat, name), CONFERENCE)


def test_long_names_are_cut_to_the_platform_limit() -> None:
    text = render(target("mikrotik_routeros", "Xã " + "Rất Dài " * 40), CONFERENCE)
    comment = next(line for line in text.splitlines() if "comment=" in line and "ethernet" in line)
    value = comment.split('comment="', 1)[1].rstrip('"')
    assert len(value) <= platform("mikrotik_routeros").description_max


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("wan_interface", "wan\nshutdown", "not an interface name"),
        ("wan_interface", "eth0 ; reboot", "not an interface name"),
        ("wan_gateway", "198.18.8.1 ; x", "not an IP address"),
        ("wan_gateway", "fe80::1%eth0;reboot", "scope id"),
        ("wan_gateway", "2001:db8::1", r"IPv6 gateway .* IPv4 conference\.network"),
    ],
)
def test_bad_interface_or_gateway_is_refused(field: str, value: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        render(target("frr", **{field: value}), CONFERENCE)


def test_bad_conference_values_are_refused() -> None:
    with pytest.raises(InputError, match=r"conference\.ntp_server"):
        render(target("cisco_ios"), Conference(network="198.18.32.0/24", ntp_server="a b"))
    with pytest.raises(InputError, match=r"conference\.network"):
        render(target("frr"), Conference(network="198.18.32.0/33"))


@given(st.text(min_size=1, max_size=80))
def test_any_name_renders_one_description_line_or_is_refused(name: str) -> None:
    """Whatever a registry holds, the rendered config has exactly the template's lines."""
    base = render(target("cisco_ios", "X"), CONFERENCE)
    try:
        text = render(target("cisco_ios", name), CONFERENCE)
    except InputError:
        return
    assert len(text.splitlines()) == len(base.splitlines())
    described = [ln for ln in text.splitlines() if ln.startswith(" description ")]
    assert len(described) == 1


@pytest.mark.parametrize("plat", sorted(PLATFORMS))
@pytest.mark.parametrize(
    ("omit", "gone"),
    [
        ("wan_gateway", "198.18.8.1"),
        ("wan_interface", None),
    ],
)
def test_an_omitted_wan_field_leaves_out_its_lines_only(
    plat: str, omit: str, gone: str | None
) -> None:
    """docs/registry.md: router_wan_interface and router_wan_gateway are optional. Without one,
    the config is the full one minus the lines that need it, and still reads as the platform's
    config (the diff dialect parses it into statements)."""
    full = render(target(plat), CONFERENCE)
    text = render(target(plat, **{omit: ""}), CONFERENCE)
    gone = gone or INTERFACES[plat].partition(".")[0]
    assert gone in full and gone not in text
    kept = text.splitlines()
    assert set(kept) <= set(full.splitlines())
    assert len(kept) < len(full.splitlines())
    d = dialect(platform(plat))
    assert all(gone not in str(path) for path in d.statements(text))


def test_frr_without_both_wan_fields_has_nothing_to_configure() -> None:
    text = render(target("frr", wan_interface="", wan_gateway=""), CONFERENCE)
    assert text.strip() == ""
