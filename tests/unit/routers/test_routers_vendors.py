"""IOS, VRP, Junos and RouterOS pushes, checks and reverts against fake devices.

No such router runs here (the lab's are FRR): each test drives confprov's real engine
(``engine.run_one``: plan, push, check, rollback) through a fake netmiko connection that applies
its vendor's semantics (fakedevice.py, a mock, said so) to the recorded running configs in
fixtures/ (each names its source). What a user would notice is asserted: the device ends in the
intended state, a second push changes nothing, ``check`` passes, what is not confprov's is left
alone and said so, and a failure or a rollback leaves the device as it was, with no revert timer
armed and no candidate left open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakedevice import (
    IOS_INVALID,
    IosDevice,
    JunosDevice,
    RouterosDevice,
    VrpDevice,
)

from confprov.routers import backups, engine
from confprov.routers.configdiff import dialect
from confprov.routers.device import FAILED, Session
from confprov.routers.platforms import platform
from confprov.routers.render import Conference, RouterTarget, render

FIXTURES = Path(__file__).parent / "fixtures"
CONF = Conference(network="198.18.32.0/24", server="198.18.32.10", ntp_server="198.18.32.10")
SERVER_ONLY = Conference(server="198.18.32.10", ntp_server="198.18.32.10")


def fixture(plat: str, name: str) -> str:
    return (FIXTURES / plat / name).read_text()


def target(plat: str, interface: str, name: str = "UBND huyện Đồi 1") -> RouterTarget:
    return RouterTarget("doi-1-rt", "198.18.0.13", plat, name, interface, "198.18.8.1")


def run(
    action: str,
    device: Any,
    t: RouterTarget,
    tmp_path: Path,
    conf: Conference = CONF,
    backup: str | None = None,
) -> engine.RouterResult:
    opts = engine.Options(workspace=tmp_path, known_hosts=tmp_path / "known_hosts")
    return engine.run_one(action, engine.Job(t, backup), conf, opts, lambda *_: Session(device))


def stmts(plat: str, text: str) -> set[tuple[str, ...]]:
    return set(dialect(platform(plat)).statements(text))


def intended(plat: str, t: RouterTarget, conf: Conference = CONF) -> set[tuple[str, ...]]:
    return stmts(plat, render(t, conf))


def lifecycle(device: Any, t: RouterTarget, tmp_path: Path, conf: Conference = CONF) -> Any:
    """plan → push → check → second plan → rollback; returns the push's result."""
    plat = t.platform
    before = device.show()
    plan = run("plan", device, t, tmp_path, conf)
    assert plan.status == "changed", plan.message
    assert device.show() == before, "plan changes nothing"
    pushed = run("push", device, t, tmp_path, conf)
    assert pushed.status == "changed", pushed.message
    assert pushed.diff == plan.diff, "the push does what the plan said"
    check = run("check", device, t, tmp_path, conf)
    assert check.status == "ok" and not check.missing, check.missing
    again = run("plan", device, t, tmp_path, conf)
    assert (again.status, again.commands) == ("ok", []), again.diff
    after_push = stmts(plat, device.show())
    back = run("rollback", device, t, tmp_path, conf)
    assert back.status == "changed", back.message
    assert stmts(plat, device.show()) == stmts(plat, before), "rollback restores the backup"
    pushed.after = after_push  # type: ignore[attr-defined]
    return pushed


# ============================================================================ Cisco IOS


def test_iosxe17_numbered_acl_converges_keeps_floating_route(tmp_path: Path) -> None:
    t = target("cisco_ios", "GigabitEthernet2")
    device = IosDevice(fixture("cisco_ios", "show_running-config.iosxe17.txt"), version="17")
    result = lifecycle(device, t, tmp_path)
    after = result.after
    assert intended("cisco_ios", t) <= after, "every intended statement, as IOS-XE prints it"
    acl = "ip access-list extended CONFPROV-CONFERENCE"
    assert (acl, "permit udp any 198.18.32.0 0.0.0.255 range 16000 32000") not in after, "stale"
    assert "no 20" in result.commands, "a numbered entry is removed by its number"
    assert ("ip route 198.18.32.0 255.255.255.0 198.18.20.1 250",) in after
    assert "floating" not in result.diff and "another distance" in result.diff
    assert ("ip access-list extended MGMT-IN", "deny ip any any log") in after, "not ours: kept"
    assert ("ntp server 198.18.0.1",) in after, "another NTP server is the site's: kept"
    assert ("interface GigabitEthernet2", "description old uplink") not in after
    assert not device.timer_armed


def test_ios15_host_route_and_foreign_policy(tmp_path: Path) -> None:
    t = target("cisco_ios", "GigabitEthernet0/1")
    device = IosDevice(fixture("cisco_ios", "show_running-config.ios15.txt"), version="15")
    result = lifecycle(device, t, tmp_path, SERVER_ONLY)
    after = result.after
    acl = "ip access-list extended CONFPROV-CONFERENCE"
    assert (acl, "permit udp any host 198.18.32.10 eq 5060") in after
    assert ("interface GigabitEthernet0/1", "service-policy output OPS-WAN") in after
    assert ("interface GigabitEthernet0/1", "service-policy output CONFPROV-MARK") not in after
    assert "service-policy output OPS-WAN is not confprov's" in result.diff
    assert ("ip route 198.18.32.10 255.255.255.255 198.18.9.9",) not in after, "replaced"
    assert not device.timer_armed


def test_ios_second_push_on_numbered_acl_is_idempotent(tmp_path: Path) -> None:
    """The issue's endless "missing": IOS-XE prints ` 10 permit …`; confprov must find it."""
    t = target("cisco_ios", "GigabitEthernet2")
    device = IosDevice(fixture("cisco_ios", "show_running-config.iosxe17.txt"), version="17")
    assert run("push", device, t, tmp_path).status == "changed"
    assert " 10 permit udp any 198.18.32.0 0.0.0.255 eq 5060" in device.show()
    second = run("push", device, t, tmp_path)
    assert (second.status, second.changed, second.commands) == ("ok", False, [])


def test_ios_refused_line_inside_timer_ends_as_it_was_and_disarmed(tmp_path: Path) -> None:
    t = target("cisco_ios", "GigabitEthernet2")
    device = IosDevice(
        fixture("cisco_ios", "show_running-config.iosxe17.txt"),
        refuse={"set dscp af41": IOS_INVALID},
    )
    before = device.show()
    result = run("push", device, t, tmp_path)
    assert result.status == FAILED and result.reverted, result.message
    assert "% Invalid input detected" in result.message
    assert "configure revert now" in device.sent
    assert not device.timer_armed, "the revert timer is never left armed"
    assert device.show() == before
    again = run("push", IosDevice(before), t, tmp_path)
    assert again.status == "changed", "an immediate re-push is not undone by a stale timer"


def test_ios_unexpected_error_inside_timer_still_disarms(tmp_path: Path) -> None:
    class Broken(IosDevice):
        reads = 0

        def exec(self, command: str) -> str:
            if command == "show running-config":
                self.reads += 1
                if self.reads == 2:  # the check's read fails in a way confprov did not foresee
                    raise RuntimeError("garbled output")
            return super().exec(command)

    device = Broken(fixture("cisco_ios", "show_running-config.iosxe17.txt"))
    before = device.show()
    result = run("push", device, target("cisco_ios", "GigabitEthernet2"), tmp_path)
    assert result.status == FAILED
    assert not device.timer_armed and device.show() == before


def test_ios_rollback_removes_policy_before_classes_before_acls(tmp_path: Path) -> None:
    t = target("cisco_ios", "GigabitEthernet0/1")
    pristine = fixture("cisco_ios", "show_running-config.pristine.txt")
    device = IosDevice(pristine, version="15")
    assert run("push", device, t, tmp_path).status == "changed"
    back = run("rollback", device, t, tmp_path)
    assert back.status == "changed", back.message
    sent = back.commands
    order = [
        sent.index("no service-policy output CONFPROV-MARK"),
        sent.index("no policy-map CONFPROV-MARK"),
        sent.index("no class-map match-any CONFPROV-AUDIO"),
        sent.index("no ip access-list extended CONFPROV-AUDIO"),
    ]
    assert order == sorted(order)
    assert stmts("cisco_ios", device.show()) == stmts("cisco_ios", pristine)


# ============================================================================ Huawei VRP


def test_vrp_v5_converges_with_valid_undo_forms(tmp_path: Path) -> None:
    t = target("huawei_vrp", "GigabitEthernet0/0/1")
    device = VrpDevice(fixture("huawei_vrp", "display_current-configuration.v5.txt"))
    result = lifecycle(device, t, tmp_path)
    after = result.after
    assert intended("huawei_vrp", t) <= after
    acl = "acl name CONFPROV-CONFERENCE 3990"
    assert (
        acl,
        "rule 20 permit udp destination 198.18.32.0 0.0.0.255 destination-port range 16000 32000",
    ) not in after
    assert "undo rule 20" in result.commands
    assert ("ip route-static 198.18.32.0 255.255.255.0 198.18.20.1 preference 150",) in after


@pytest.mark.parametrize("extra", ["", " share-mode\n"])
def test_vrp_v8_display_forms_are_already_intended(extra: str, tmp_path: Path) -> None:
    """V8 prints each classifier's assigned precedence (NE/ME also ``share-mode``): an
    intended device plans nothing and checks fine."""
    t = target("huawei_vrp", "GE1/0/1")
    text = fixture("huawei_vrp", "display_current-configuration.v8.txt").replace(
        "traffic policy CONFPROV-MARK\n", f"traffic policy CONFPROV-MARK\n{extra}"
    )
    device = VrpDevice(text, version="v8")
    for action in ("plan", "check"):
        result = run(action, device, t, tmp_path, SERVER_ONLY)
        assert result.status == "ok", (result.message, result.diff, result.missing)


def test_vrp_first_push_failure_reverts_in_dependency_order(tmp_path: Path) -> None:
    t = target("huawei_vrp", "GigabitEthernet0/0/1")
    pristine = fixture("huawei_vrp", "display_current-configuration.pristine.txt")
    device = VrpDevice(
        pristine,
        refuse={
            "ntp-service unicast-server 198.18.32.10": "Error: The NTP server address is invalid."
        },
    )
    before = device.show()
    result = run("push", device, t, tmp_path)
    assert result.status == FAILED and result.reverted, result.message
    assert "REVERT FAILED" not in result.message
    assert device.show() == before
    undo = [c for c in device.sent if c.startswith("undo ")]
    assert (
        undo.index("undo traffic-policy outbound")
        < undo.index("undo traffic policy CONFPROV-MARK")
        < undo.index("undo traffic classifier CONFPROV-AUDIO")
        < undo.index("undo acl name CONFPROV-AUDIO")
    )


@pytest.mark.parametrize("version", ["v5", "v8"])
def test_vrp_rollback_of_a_first_push(version: str, tmp_path: Path) -> None:
    t = target("huawei_vrp", "GigabitEthernet0/0/1")
    pristine = fixture("huawei_vrp", "display_current-configuration.pristine.txt")
    device = VrpDevice(pristine, version=version)
    lifecycle(device, t, tmp_path)
    assert stmts("huawei_vrp", device.show()) == stmts("huawei_vrp", pristine)


# ============================================================================ Junos


def test_junos_hierarchical_and_set_display_are_the_same_statements() -> None:
    hier = fixture("juniper_junos", "show_configuration.drifted.txt")
    flat = fixture("juniper_junos", "show_configuration_display_set.drifted.txt")
    assert stmts("juniper_junos", hier) == stmts("juniper_junos", flat)


def test_junos_list_values_replaced_foreign_filter_kept(tmp_path: Path) -> None:
    t = target("juniper_junos", "ge-0/0/0")
    device = JunosDevice(fixture("juniper_junos", "show_configuration_display_set.drifted.txt"))
    result = lifecycle(device, t, tmp_path)
    after = result.after
    want = intended("juniper_junos", t)
    out = "set interfaces ge-0/0/0 unit 0 family inet filter output"
    assert (f"{out} OPS-SHAPE",) in after and (f"{out} CONFPROV-MARK",) not in after
    assert "OPS-SHAPE is not confprov's" in result.diff
    assert want - {(f"{out} CONFPROV-MARK",)} <= after
    media = "set firewall family inet filter CONFPROV-CONFERENCE term media from destination-port"
    assert (f"{media} 16000-32000",) not in after and (f"{media} 16384-32767",) in after
    route = "set routing-options static route 198.18.32.0/24"
    assert (f"{route} next-hop 198.18.9.9",) not in after
    assert (f"{route} qualified-next-hop 198.18.20.1 preference 250",) in after
    assert not device.pending_confirm and not device.in_config
    assert device.candidate == device.committed


def test_junos_refused_commit_rolls_back_the_candidate(tmp_path: Path) -> None:
    device = JunosDevice(fixture("juniper_junos", "show_configuration_display_set.pristine.txt"))
    device.commit_error = (
        "error: Policy error: Policy X referenced but not defined\n"
        "error: configuration check-out failed"
    )
    before = list(device.committed)
    result = run("push", device, target("juniper_junos", "ge-0/0/0"), tmp_path)
    assert result.status == FAILED and result.reverted, result.message
    assert "commit refused: error: Policy error" in result.message
    assert "rollback 0" in device.sent
    assert device.committed == before and device.candidate == before, "nothing left behind"
    assert not device.in_config and not device.pending_confirm


def test_junos_refused_set_line_leaves_no_candidate(tmp_path: Path) -> None:
    t = target("juniper_junos", "ge-0/0/0")
    want = render(t, CONF).splitlines()
    device = JunosDevice(
        fixture("juniper_junos", "show_configuration_display_set.pristine.txt"),
        refuse={want[3]: "                 ^\nsyntax error."},
    )
    before = list(device.committed)
    result = run("push", device, t, tmp_path)
    assert result.status == FAILED and result.reverted, result.message
    assert device.committed == before and device.candidate == before
    assert "configure exclusive" in device.sent
    assert device.sent.index("rollback 0") < device.sent.index("(exit config mode)")


def test_junos_locked_by_another_user_changes_nothing(tmp_path: Path) -> None:
    device = JunosDevice(
        fixture("juniper_junos", "show_configuration_display_set.pristine.txt"),
        locked_by_other=True,
    )
    before = list(device.committed)
    result = run("push", device, target("juniper_junos", "ge-0/0/0"), tmp_path)
    assert result.status == FAILED
    assert "configure exclusive` refused: error: configuration database locked by" in (
        result.message
    )
    assert device.committed == before and device.candidate == before


def test_junos_failed_check_after_commit_confirmed_rolls_back_1(tmp_path: Path) -> None:
    class Hides(JunosDevice):
        def show(self) -> str:  # the check's read misses a line
            text = super().show()
            return (
                text.replace("set system ntp server 198.18.32.10\n", "")
                if (self.pending_confirm)
                else text
            )

    device = Hides(fixture("juniper_junos", "show_configuration_display_set.pristine.txt"))
    before = list(device.committed)
    result = run("push", device, target("juniper_junos", "ge-0/0/0"), tmp_path)
    assert result.status == FAILED and result.reverted, result.message
    assert "rollback 1" in device.sent
    assert device.committed == before and not device.pending_confirm


def test_junos_site_name_holding_description_keeps_its_quotes(tmp_path: Path) -> None:
    t = target("juniper_junos", "ge-0/0/0", name="Phong description Hoi truong")
    device = JunosDevice(fixture("juniper_junos", "show_configuration_display_set.drifted.txt"))
    lifecycle(device, t, tmp_path)
    assert run("push", device, t, tmp_path).status == "changed"
    t2 = target("juniper_junos", "ge-0/0/0", name="Phong description moi")
    result = run("push", device, t2, tmp_path)
    assert result.status == "changed", result.message
    assert "delete interfaces ge-0/0/0 description" in result.commands
    assert ('set interfaces ge-0/0/0 description "confprov Phong description moi"',) in stmts(
        "juniper_junos", device.show()
    )


# ============================================================================ RouterOS


def test_routeros_replaces_route_removes_stale_rule_places_before_drop(tmp_path: Path) -> None:
    t = target("mikrotik_routeros", "ether1")
    device = RouterosDevice(fixture("mikrotik_routeros", "export.defconf.txt"))
    result = lifecycle(device, t, tmp_path)
    assert "another distance" in result.diff
    # After the push (lifecycle rolled back since): push again and look at the device.
    assert run("push", device, t, tmp_path).status == "changed"
    routes = [i.attrs for i in device.menus["/ip route"]]
    conf_routes = [r for r in routes if r.get("dst-address") == "198.18.32.0/24"]
    assert {r["gateway"] for r in conf_routes} == {"198.18.8.1", "198.18.20.1"}, "ECMP gone"
    rules = device.filter_rules()
    forward = [r.get("comment", "") for r in rules if r.get("chain") == "forward"]
    assert "confprov-media" in forward
    assert forward.index("confprov-media") < forward.index("defconf: drop invalid")
    assert not any(r.get("dst-port") == "16000-32000" for r in rules), "stale rule removed"


def test_routeros_single_host_shown_without_32_is_found(tmp_path: Path) -> None:
    t = target("mikrotik_routeros", "ether1")
    device = RouterosDevice(fixture("mikrotik_routeros", "export.defconf.txt"))
    assert run("push", device, t, tmp_path, SERVER_ONLY).status == "changed"
    assert "dst-address=198.18.32.10 dst-port=5060" in device.show()
    again = run("plan", device, t, tmp_path, SERVER_ONLY)
    assert (again.status, again.commands) == ("ok", []), again.diff
    assert run("check", device, t, tmp_path, SERVER_ONLY).status == "ok"


def test_routeros_rollback_of_first_push_restores_defaults(tmp_path: Path) -> None:
    t = target("mikrotik_routeros", "ether1")
    pristine = (
        fixture("mikrotik_routeros", "export_terse.pristine.txt")
        .replace(" comment=uplink", "")
        .replace("/system ntp client set enabled=yes\n", "")
    )
    device = RouterosDevice(pristine)
    assert device.settings.get(("/system ntp client", ""), {}).get("enabled") is None
    before = device.show()
    assert run("push", device, t, tmp_path).status == "changed"
    assert device.settings[("/system ntp client", "")]["enabled"] == "yes"
    back = run("rollback", device, t, tmp_path)
    assert back.status == "changed", back.message
    assert device.settings[("/system ntp client", "")].get("enabled") in (None, "no")
    assert "comment" not in device.settings[("/interface ethernet", "find default-name=ether1")]
    assert device.show() == before


@pytest.mark.parametrize(
    ("plat", "device_factory", "name", "interface"),
    [
        (
            "cisco_ios",
            lambda text: IosDevice(text, version="17"),
            "show_running-config.iosxe17.txt",
            "GigabitEthernet2",
        ),
        ("huawei_vrp", VrpDevice, "display_current-configuration.v5.txt", "GigabitEthernet0/0/1"),
        ("juniper_junos", JunosDevice, "show_configuration_display_set.drifted.txt", "ge-0/0/0"),
        ("mikrotik_routeros", RouterosDevice, "export.defconf.txt", "ether1"),
    ],
)
def test_backup_is_the_devices_own_text(
    plat: str, device_factory: Any, name: str, interface: str, tmp_path: Path
) -> None:
    device = device_factory(fixture(plat, name))
    before = device.show()
    run("push", device, target(plat, interface), tmp_path)
    kept = backups.versions(tmp_path, "doi-1-rt")
    assert [b.text() for b in kept] == [before]


@pytest.mark.parametrize("name", ["export.defconf.txt", "export_terse.pristine.txt"])
def test_routeros_refused_push_is_reverted_exactly(name: str, tmp_path: Path) -> None:
    """Filter rules are sent with ``place-before`` (never printed) and the interface comment by
    a ``set`` whose revert is another line: the revert finds both by what they are, not by text."""
    t = target("mikrotik_routeros", "ether1")
    mangle = next(ln for ln in render(t, CONF).splitlines() if "confprov-video" in ln)
    device = RouterosDevice(
        fixture("mikrotik_routeros", name), refuse={mangle: "failure: refused for test"}
    )
    before = device.show()
    rules = [r.copy() for r in device.filter_rules()]
    result = run("push", device, t, tmp_path)
    assert result.status == FAILED and result.reverted, result.message
    assert "REVERT FAILED" not in result.message
    assert device.filter_rules() == rules, "every filter rule back in its place"
    # A re-added route prints last (RouterOS lists items by id); it means the same.
    assert sorted(device.show().splitlines()) == sorted(before.splitlines())


@pytest.mark.parametrize(
    "route",
    [
        "ip route 198.18.32.0 255.255.255.0 198.18.20.1 tag 10 250",
        "ip route 198.18.32.0 255.255.255.0 198.18.20.1 250 name BACKUP tag 10",
        "ip route 198.18.32.0 255.255.255.0 198.18.20.1 track 7 250",
    ],
)
def test_ios_floating_route_with_tag_or_name_is_kept(route: str, tmp_path: Path) -> None:
    """A value after ``tag``/``name``/``track`` is not the distance: the route stays a backup."""
    t = target("cisco_ios", "GigabitEthernet2")
    text = fixture("cisco_ios", "show_running-config.iosxe17.txt").replace(
        "ip route 198.18.32.0 255.255.255.0 198.18.20.1 250", route
    )
    device = IosDevice(text, version="17")
    result = run("push", device, t, tmp_path)
    assert result.status == "changed", result.message
    assert route in device.show().splitlines()
    assert "another distance" in result.diff


@pytest.mark.parametrize(
    "route",
    [
        "ip route 198.18.32.0/24 198.18.20.1 tag 10 250",
        "ip route 198.18.32.0/24 198.18.20.1 250 label 16 nexthop-vrf blue",
        "ip route 198.18.32.0/24 198.18.20.1 table 10 250",
    ],
)
def test_frr_floating_route_with_tag_is_kept(route: str) -> None:
    """FRR prints ``tag N`` before the distance (no fake FRR: the lab runs the real one)."""
    d = dialect(platform("frr"))
    running = d.statements(fixture("frr", "show_running-config.pristine.txt") + f"\n{route}\n")
    change = d.missing(d.statements(render(target("frr", "wan"), CONF)), running)
    assert (route,) not in change.remove
    assert any("another distance" in note for note in change.notes)


def test_junos_secret_data_comment_is_not_a_word() -> None:
    """``show configuration`` marks secrets with ``## SECRET-DATA``; ``display set`` quotes a
    value holding ``$``: both displays are the same statements."""
    hier = """system {
    login {
        user admin {
            authentication {
                encrypted-password "$6$abc$def"; ## SECRET-DATA
            }
        }
    }
    ntp {
        server 198.18.0.1;
    }
}
"""
    flat = (
        'set system login user admin authentication encrypted-password "$6$abc$def"\n'
        "set system ntp server 198.18.0.1\n"
    )
    assert stmts("juniper_junos", hier) == stmts("juniper_junos", flat)
    assert ('set system login user admin authentication encrypted-password "$6$abc$def"',) in (
        stmts("juniper_junos", hier)
    )


def test_junos_stale_term_goes_whole(tmp_path: Path) -> None:
    """A term of confprov's filter that the candidate no longer has is deleted as a term:
    deleting its statements one by one would leave an empty ``term old;``, which accepts all."""
    t = target("juniper_junos", "ge-0/0/0")
    old = "set firewall family inet filter CONFPROV-CONFERENCE term old"
    text = fixture("juniper_junos", "show_configuration_display_set.drifted.txt") + (
        f"{old} from destination-port 9999\n{old} from protocol udp\n{old} then accept\n"
    )
    device = JunosDevice(text)
    result = lifecycle(device, t, tmp_path)
    assert not any(line.startswith(old) for (line,) in result.after), "no trace of the term"
    assert f"delete {old[4:]}" in result.commands


def _swap_rules(device: Any) -> None:
    """Someone moved the forward chain's drop-invalid rule below the drop-not-DSTNATed one."""
    rules = device.menus["/ip firewall filter"]
    i = next(n for n, r in enumerate(rules) if r.attrs.get("comment") == "defconf: drop invalid")
    j = next(n for n, r in enumerate(rules) if "not DSTNATed" in r.attrs.get("comment", ""))
    rules[i], rules[j] = rules[j], rules[i]


def test_routeros_rollback_never_calls_reordered_rules_equal(tmp_path: Path) -> None:
    """Firewall rules act in their order: the same rules in another order are not the backup."""
    t = target("mikrotik_routeros", "ether1")
    device = RouterosDevice(fixture("mikrotik_routeros", "export.defconf.txt"))
    backups.save(tmp_path, "doi-1-rt", device.show())
    _swap_rules(device)
    back = run("rollback", device, t, tmp_path)
    assert back.status == FAILED, back.message
    assert "order" in back.message


def test_ios15_rollback_restores_acl_order(tmp_path: Path) -> None:
    """IOS 15 prints no sequence numbers and appends a re-added entry: an ACL's entries act in
    the printed order, so the rollback re-enters them from the first one out of place."""
    t = target("cisco_ios", "GigabitEthernet0/1")
    text = fixture("cisco_ios", "show_running-config.ios15.txt")
    saved = IosDevice(text, version="15").show()
    backups.save(tmp_path, "doi-1-rt", saved)
    swapped = text.replace(
        " permit tcp any host 198.18.0.13 eq 22\n deny   ip any any log\n",
        " deny   ip any any log\n permit tcp any host 198.18.0.13 eq 22\n",
    )
    assert swapped != text
    device = IosDevice(swapped, version="15")
    back = run("rollback", device, t, tmp_path)
    assert back.status == "changed", back.message
    assert device.show() == saved


def test_ios15_rollback_puts_a_removed_stale_entry_back_in_place(tmp_path: Path) -> None:
    """A push removes a stale entry from the middle of confprov's ACL; the rollback puts it
    back where it was, not at the end, and says the config is the backup's."""
    t = target("cisco_ios", "GigabitEthernet0/1")
    acl = render(t, CONF).split("ip access-list extended CONFPROV-CONFERENCE\n")[1]
    entries = acl.split("!")[0].splitlines()
    stale = " permit udp any 198.18.32.0 0.0.0.255 range 16000 32000"
    block = "\n".join(
        ["ip access-list extended CONFPROV-CONFERENCE", entries[0], stale, *entries[1:]]
    )
    device = IosDevice(
        fixture("cisco_ios", "show_running-config.ios15.txt") + f"!\n{block}\n!\n", version="15"
    )
    before = device.show()
    assert run("push", device, t, tmp_path).status == "changed"
    assert stale not in device.show()
    back = run("rollback", device, t, tmp_path)
    assert back.status == "changed", back.message
    assert device.show() == before


def test_routeros_rollback_restores_a_removed_rule_in_its_place(tmp_path: Path) -> None:
    """A rule the push removed (stale) comes back where the backup had it, not at the end."""
    t = target("mikrotik_routeros", "ether1")
    device = RouterosDevice(fixture("mikrotik_routeros", "export.defconf.txt"))
    rules = [r.copy() for r in device.filter_rules()]
    assert run("push", device, t, tmp_path).status == "changed"
    back = run("rollback", device, t, tmp_path)
    assert back.status == "changed", back.message
    assert device.filter_rules() == rules
