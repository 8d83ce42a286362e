"""Reading running configs (recorded output, named after the command) and diffing them."""

from __future__ import annotations

from pathlib import Path

from confprov.routers.configdiff import Change, dialect
from confprov.routers.platforms import platform
from confprov.routers.render import Conference, RouterTarget, render

FIXTURES = Path(__file__).parent / "fixtures"
CONF = Conference(network="198.18.32.0/24", server="198.18.32.10", ntp_server="198.18.32.10")


def fixture(plat: str, name: str) -> str:
    return (FIXTURES / plat / name).read_text()


def frr_target(name: str = "UBND huyện Đồi 1") -> RouterTarget:
    return RouterTarget("doi-1-rt", "198.18.0.13", "frr", name, "wan", "198.18.8.1")


def test_frr_running_config_parses_to_statements() -> None:
    d = dialect(platform("frr"))
    stmts = d.statements(fixture("frr", "show_running-config.drifted.txt"))
    assert ("interface wan", "description old uplink") in stmts
    assert ("ip route 198.18.32.0/24 198.18.9.9",) in stmts
    assert ("hostname doi-1-rt",) in stmts
    flat = [line for path in stmts for line in path]
    assert not any(x in flat for x in ("!", "exit", "end", "Building configuration..."))


def test_frr_pristine_router_misses_route_and_description() -> None:
    d = dialect(platform("frr"))
    want = d.statements(render(frr_target(), CONF))
    change = d.missing(want, d.statements(fixture("frr", "show_running-config.pristine.txt")))
    assert d.commands(change) == [
        "ip route 198.18.32.0/24 198.18.8.1",
        "interface wan",
        "description confprov UBND huyen Doi 1",
        "exit",
    ]
    assert not change.remove


def test_frr_pushed_router_misses_nothing() -> None:
    d = dialect(platform("frr"))
    want = d.statements(render(frr_target(), CONF))
    assert not d.missing(want, d.statements(fixture("frr", "show_running-config.pushed.txt")))
    assert not d.absent(want, d.statements(fixture("frr", "show_running-config.pushed.txt")))


def test_frr_drift_replaces_other_route_and_description() -> None:
    d = dialect(platform("frr"))
    want = d.statements(render(frr_target(), CONF))
    change = d.missing(want, d.statements(fixture("frr", "show_running-config.drifted.txt")))
    assert change.remove == [
        ("ip route 198.18.32.0/24 198.18.9.9",),
        ("interface wan", "description old uplink"),
    ]
    assert change.add == [("interface wan", "description confprov UBND huyen Doi 1")]
    assert change.text().splitlines() == [
        "- ip route 198.18.32.0/24 198.18.9.9",
        "  interface wan",
        "-  description old uplink",
        "+  description confprov UBND huyen Doi 1",
    ]
    assert d.commands(change) == [
        "interface wan",
        "no description",
        "exit",
        "no ip route 198.18.32.0/24 198.18.9.9",
        "interface wan",
        "description confprov UBND huyen Doi 1",
        "exit",
    ]


def test_frr_between_pushed_and_backup_empties_the_interface_block() -> None:
    """Rollback: `no interface wan` would fail on a real interface; its lines go instead."""
    d = dialect(platform("frr"))
    back = d.between(
        d.statements(fixture("frr", "show_running-config.pushed.txt")),
        d.statements(fixture("frr", "show_running-config.pristine.txt")),
    )
    assert not back.add
    assert d.commands(back) == [
        "interface wan",
        "no description",
        "exit",
        "no ip route 198.18.32.0/24 198.18.8.1",
    ]


def test_ios_running_config_skips_timestamps_and_nests_blocks() -> None:
    d = dialect(platform("cisco_ios"))
    stmts = d.statements(fixture("cisco_ios", "show_running-config.pristine.txt"))
    assert ("interface GigabitEthernet0/1", "description old uplink") in stmts
    assert not any("Last configuration change" in p[-1] for p in stmts)
    target = RouterTarget("r", "a", "cisco_ios", "Cẩm Khê", "GigabitEthernet0/1", "198.18.8.1")
    change = d.missing(d.statements(render(target, CONF)), stmts)
    assert ("ip route 198.18.32.0 255.255.255.0 198.18.9.9",) in change.remove
    commands = d.commands(change)
    # Three levels deep: policy-map → class → set, each closed again.
    i = commands.index("policy-map CONFPROV-MARK")
    assert commands[i : i + 8] == [
        "policy-map CONFPROV-MARK",
        "class CONFPROV-AUDIO",
        "set dscp ef",
        "exit",
        "class CONFPROV-VIDEO",
        "set dscp af41",
        "exit",
        "exit",
    ]
    assert commands[:4] == ["interface GigabitEthernet0/1", "no description", "exit", commands[3]]


def test_vrp_current_configuration_parses() -> None:
    d = dialect(platform("huawei_vrp"))
    stmts = d.statements(fixture("huawei_vrp", "display_current-configuration.pristine.txt"))
    assert ("interface GigabitEthernet0/0/0", "description management") in stmts
    assert ("sysname cam-khe-rt",) in stmts
    assert not any(p[-1] in ("#", "return") or p[-1].startswith("!") for p in stmts)
    change = Change(remove=[("interface GigabitEthernet0/0/1", "description x")])
    assert d.commands(change) == ["interface GigabitEthernet0/0/1", "undo description", "quit"]


def test_routeros_export_matches_by_attributes() -> None:
    """Export adds defaults (distance=1, scope=30…): a line is present when ours is a subset."""
    d = dialect(platform("mikrotik_routeros"))
    stmts = d.statements(fixture("mikrotik_routeros", "export_terse.pristine.txt"))
    assert not any(p[0].startswith("#") for p in stmts)
    target = RouterTarget("r", "a", "mikrotik_routeros", "Cẩm Khê", "ether1", "198.18.8.1")
    change = d.missing(d.statements(render(target, CONF)), stmts)
    added = [p[0] for p in change.add]
    assert not any(line.startswith("/ip route add") for line in added), "route already there"
    assert "/system ntp client set enabled=yes" not in added
    assert (
        '/interface ethernet set [ find default-name=ether1 ] comment="confprov Cam Khe"' in added
    )
    assert not change.remove
    undo = d.commands(Change(remove=[(added[1],)]))
    assert undo[0].startswith("/ip firewall filter remove [ find action=accept chain=forward")


def test_junos_set_lines_conflict_on_description_and_next_hop() -> None:
    d = dialect(platform("juniper_junos"))
    stmts = d.statements(fixture("juniper_junos", "show_configuration_display_set.pristine.txt"))
    assert ("set system host-name cam-khe-rt",) in stmts
    target = RouterTarget("r", "a", "juniper_junos", "Cẩm Khê", "ge-0/0/0", "198.18.8.1")
    change = d.missing(d.statements(render(target, CONF)), stmts)
    commands = d.commands(change)
    assert commands[:2] == [
        "delete interfaces ge-0/0/0 description",
        "delete routing-options static route 198.18.32.0/24 next-hop 198.18.9.9",
    ]
    assert 'set interfaces ge-0/0/0 description "confprov Cam Khe"' in commands
    assert "set interfaces ge-0/0/0 unit 0 family inet filter output CONFPROV-MARK" in commands


def test_error_patterns_catch_each_platforms_refusals() -> None:
    assert platform("frr").error_re.search(fixture("frr", "configure_terminal.refused.txt"))
    assert platform("cisco_ios").error_re.search(
        fixture("cisco_ios", "configure_terminal.refused.txt")
    )
    assert platform("huawei_vrp").error_re.search("Error: Unrecognized command found at '^'")
    assert platform("mikrotik_routeros").error_re.search("bad command name adds (line 1 column 5)")
    assert platform("juniper_junos").error_re.search("error: configuration check-out failed")
    # A warning is not a refusal (FRR warns on every save in the lab).
    assert not platform("frr").error_re.search("% Warning: can't chown configuration file")
