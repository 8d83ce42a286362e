"""Generated running configs, pushed through the fake devices, against hier_config as an oracle.

Hypothesis builds a router's running config from parts, each in one of its states: confprov's
lines present, partly present, with other values or stale entries; another team's objects
(a floating route, a marking policy on the WAN, another output filter, another NTP server, an
unrelated ACL); IOS 15 or IOS-XE numbering; in any order. For each, confprov's real engine pushes
to a fake device (fakedevice.py: vendor semantics; a mock, said so), and the end state must be:

- what the generator knows is intended (confprov's lines, nothing stale, the site's own kept);
- what hier_config 3.7.1 (an independent implementation, netdevops/hier_config) computes:
  IOS, VRP: ``running.future(remediation(running → intended))``; Junos: hier_config's remediation
  (``delete``/``set`` lines) applied to the same running config (its ``future()`` does not apply
  Junos ``delete`` lines: measured, see docs/routers.md);
- unchanged by a second push, and back to the running config after a rollback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fakedevice import IosDevice, JunosDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confprov.routers import engine
from confprov.routers.configdiff import dialect
from confprov.routers.device import Session
from confprov.routers.platforms import platform
from confprov.routers.render import Conference, RouterTarget, render

hier_config = pytest.importorskip("hier_config", reason="hier_config is a dev dependency")

CONF = Conference(network="198.18.32.0/24", server="198.18.32.10", ntp_server="198.18.32.10")
PROFILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def run(action: str, device: Any, t: RouterTarget, workspace: Path) -> engine.RouterResult:
    opts = engine.Options(workspace=workspace, known_hosts=workspace / "known_hosts")
    return engine.run_one(action, engine.Job(t), CONF, opts, lambda *_: Session(device))


def stmts(plat: str, text: str) -> set[tuple[str, ...]]:
    return set(dialect(platform(plat)).statements(text))


# ============================================================================ Cisco IOS

IOS_T = RouterTarget("r1", "198.18.0.13", "cisco_ios", "Cam Khe", "GigabitEthernet2", "198.18.8.1")
IOS_ACL = "ip access-list extended CONFPROV-CONFERENCE"
IOS_ENTRIES = [
    "permit udp any 198.18.32.0 0.0.0.255 eq 5060",
    "permit udp any 198.18.32.0 0.0.0.255 range 16384 32767",
    "permit udp any 198.18.32.0 0.0.0.255 eq 50000",
]
IOS_STALE = "permit udp any 198.18.32.0 0.0.0.255 range 16000 32000"


@st.composite
def ios_running(draw: Any) -> dict[str, Any]:
    return {
        "version": draw(st.sampled_from(["15", "17"])),
        "description": draw(st.sampled_from(["none", "old", "ours"])),
        "route": draw(st.sampled_from(["none", "ours", "other"])),
        "floating": draw(st.booleans()),
        "entries": draw(st.lists(st.sampled_from(IOS_ENTRIES), unique=True)),
        "stale": draw(st.booleans()),
        "classes": draw(st.booleans()),
        "dscp": draw(st.sampled_from(["none", "ours", "other"])),
        "policy": draw(st.sampled_from(["none", "ours", "foreign"])),
        "ntp": draw(st.sampled_from(["none", "other", "ours", "both"])),
        "extra": draw(st.booleans()),
        "order": draw(st.permutations(range(8))),
    }


def ios_text(p: dict[str, Any]) -> str:
    """The running config the parts describe, as IOS 15 prints it."""
    ours = "confprov Cam Khe"
    blocks: list[list[str]] = [[] for _ in range(8)]
    blocks[0] = ["hostname r1", "archive", " path flash:confprov-", " maximum 14"]
    wan = ["interface GigabitEthernet2", " ip address 198.18.8.3 255.255.248.0"]
    if p["description"] != "none":
        wan.insert(1, f" description {'old uplink' if p['description'] == 'old' else ours}")
    if p["policy"] == "foreign" or (p["policy"] == "ours" and p["classes"] and p["dscp"] != "none"):
        # (IOS attaches only a policy-map that exists: "ours" needs the policy below)
        wan.append(f" service-policy output {'CONFPROV-MARK' if p['policy'] == 'ours' else 'OPS'}")
    blocks[1] = wan
    routes = ["ip route 0.0.0.0 0.0.0.0 198.18.0.1"]
    if p["route"] != "none":
        gw = "198.18.8.1" if p["route"] == "ours" else "198.18.9.9"
        routes.append(f"ip route 198.18.32.0 255.255.255.0 {gw}")
    if p["floating"]:
        routes.append("ip route 198.18.32.0 255.255.255.0 198.18.20.1 250")
    blocks[2] = routes
    entries = list(p["entries"]) + ([IOS_STALE] if p["stale"] else [])
    if entries:
        blocks[3] = [IOS_ACL, *(f" {e}" for e in entries)]
    if p["classes"]:
        blocks[4] = [
            f"class-map match-any CONFPROV-{c}\n match access-group name CONFPROV-{c}"
            for c in ("AUDIO", "VIDEO")
        ]
    if p["dscp"] != "none" and p["classes"]:
        ef = "ef" if p["dscp"] == "ours" else "cs5"
        blocks[5] = [
            "policy-map CONFPROV-MARK",
            " class CONFPROV-AUDIO",
            f"  set dscp {ef}",
            " class CONFPROV-VIDEO",
            "  set dscp af41",
        ]
    ntp = {"none": [], "other": ["198.18.0.1"], "ours": ["198.18.32.10"]}.get(
        p["ntp"], ["198.18.0.1", "198.18.32.10"]
    )
    blocks[6] = [f"ntp server {n}" for n in ntp]
    if p["extra"] or p["policy"] == "foreign":
        blocks[7] = [
            "ip access-list extended MGMT-IN",
            " permit tcp 198.18.0.0 0.0.7.255 any eq 22",
            " deny   ip any any log",
            "class-map match-any OPS-VOICE",
            " match dscp ef",
            "policy-map OPS",
            " class OPS-VOICE",
            "  priority percent 20",
        ]
    ordered = [blocks[i] for i in p["order"] if blocks[i]]
    return "\n".join("\n".join(b) + "\n!" for b in ordered) + "\nend\n"


def ios_intended(p: dict[str, Any]) -> str:
    """The running config confprov must leave: its own objects as intended, the rest as is."""
    q = dict(p)
    q.update(description="ours", route="ours", entries=IOS_ENTRIES, stale=False, classes=True)
    q.update(dscp="ours", policy="foreign" if p["policy"] == "foreign" else "ours")
    q.update(ntp={"none": "ours", "other": "both"}.get(p["ntp"], p["ntp"]))
    text = ios_text(q)
    # The audio and video ACLs are always confprov's whole.
    acls = "\n".join(
        f"ip access-list extended CONFPROV-{n}\n permit udp any 198.18.32.0 0.0.0.255 range {a} {b}"
        for n, a, b in (("AUDIO", 16384, 24575), ("VIDEO", 24576, 32767))
    )
    return text.replace("\nend\n", f"\n{acls}\n!\nend\n")


def hc_view(text: str) -> set[tuple[str, ...]]:
    """hier_config's reading of an IOS config, ACL sequence numbers left out (hier_config
    numbers unnumbered entries 10, 20, … itself; IOS-XE keeps the numbers it gave)."""
    config = hier_config.get_hconfig(hier_config.Platform.CISCO_IOS, text)
    return {
        tuple(re.sub(r"^\d+ ", "", c.text) for c in (*child.lineage(),))
        for child in config.all_children()
    }


@PROFILE
@given(parts=ios_running())
def test_ios_generated_configs_converge_as_hier_config_says(
    parts: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    workspace = tmp_path_factory.mktemp("ios")
    running = ios_text(parts)
    device = IosDevice(running, version=parts["version"])
    before = device.show()
    result = run("push", device, IOS_T, workspace)
    assert result.status in ("ok", "changed"), result.message
    end = device.show(version="15")
    want = ios_intended(parts)
    assert stmts("cisco_ios", end) == stmts("cisco_ios", want), result.diff
    # The oracle: hier_config's own remediation from the running to the intended config.
    run_hc = hier_config.get_hconfig(hier_config.Platform.CISCO_IOS, running)
    want_hc = hier_config.get_hconfig(hier_config.Platform.CISCO_IOS, want)
    remediation = hier_config.WorkflowRemediation(run_hc, want_hc).remediation_config
    assert hc_view(end) == hc_view(str(run_hc.future(remediation)))
    assert not device.timer_armed
    assert run("push", device, IOS_T, workspace).commands == [], "a second push changes nothing"
    if result.changed:
        back = run("rollback", device, IOS_T, workspace)
        assert back.status == "changed", back.message
        assert stmts("cisco_ios", device.show()) == stmts("cisco_ios", before)


# ============================================================================ Junos

JUNOS_T = RouterTarget("r1", "198.18.0.13", "juniper_junos", "Cam Khe", "ge-0/0/0", "198.18.8.1")
JUNOS_WANT = [line for line in render(JUNOS_T, CONF).splitlines() if line.startswith("set ")]
FOREIGN_FILTER = "set interfaces ge-0/0/0 unit 0 family inet filter output OPS-SHAPE"


@st.composite
def junos_running(draw: Any) -> list[str]:
    ours = draw(st.lists(st.sampled_from(JUNOS_WANT), unique=True))
    ours = [ln for ln in ours if "filter output" not in ln]  # attached below, or not
    other = draw(
        st.lists(
            st.sampled_from(
                [
                    'set interfaces ge-0/0/0 description "old uplink"',
                    "set routing-options static route 198.18.32.0/24 next-hop 198.18.9.9",
                    "set routing-options static route 198.18.32.0/24 qualified-next-hop "
                    "198.18.20.1 preference 250",
                    "set firewall family inet filter CONFPROV-CONFERENCE term media from "
                    "destination-port 16000-32000",
                    "set firewall family inet filter CONFPROV-MARK term audio then dscp cs5",
                    "set system ntp server 198.18.0.1",
                    "set firewall family inet filter OPS-SHAPE term all then accept",
                    FOREIGN_FILTER,
                ]
            ),
            unique=True,
        )
    )
    if FOREIGN_FILTER in other and not any("OPS-SHAPE term" in ln for ln in other):
        other.append("set firewall family inet filter OPS-SHAPE term all then accept")
    base = [
        "set system host-name r1",
        "set interfaces ge-0/0/0 unit 0 family inet address 198.18.8.3/21",
        "set routing-options static route 0.0.0.0/0 next-hop 198.18.0.1",
    ]
    lines = base + ours + other
    return draw(st.permutations(lines))


def junos_intended(running: list[str]) -> set[tuple[str, ...]]:
    foreign = FOREIGN_FILTER in running
    keep = [
        ln
        for ln in running
        if "CONFPROV-" not in ln
        and "old uplink" not in ln
        and "next-hop 198.18.9.9" not in ln
        and "description" not in ln
    ]
    want = [ln for ln in JUNOS_WANT if not (foreign and "filter output CONFPROV-MARK" in ln)]
    return stmts("juniper_junos", "\n".join(keep + want))


@PROFILE
@given(running=junos_running())
def test_junos_generated_configs_converge_as_hier_config_says(
    running: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    workspace = tmp_path_factory.mktemp("junos")
    device = JunosDevice("\n".join(running) + "\n")
    running = list(device.committed)  # as Junos holds it: one description, one `then dscp`
    text = "\n".join(running) + "\n"
    before = list(device.committed)
    result = run("push", device, JUNOS_T, workspace)
    assert result.status in ("ok", "changed"), result.message
    end = stmts("juniper_junos", device.show())
    assert end == junos_intended(running), result.diff
    # The oracle: hier_config's remediation to the same end state, applied to the same device.
    want_text = "\n".join(p[0] for p in sorted(end))
    run_hc = hier_config.get_hconfig(hier_config.Platform.JUNIPER_JUNOS, text)
    want_hc = hier_config.get_hconfig(hier_config.Platform.JUNIPER_JUNOS, want_text)
    lines = hier_config.WorkflowRemediation(run_hc, want_hc).remediation_config.dump_simple()
    other = JunosDevice(text)
    for line in lines:
        assert not other.configure(line), line
    other.commit()
    assert stmts("juniper_junos", other.show()) == end
    assert not device.pending_confirm and device.candidate == device.committed
    assert run("push", device, JUNOS_T, workspace).commands == []
    if result.changed:
        assert run("rollback", device, JUNOS_T, workspace).status == "changed"
        assert stmts("juniper_junos", "\n".join(device.committed)) == stmts(
            "juniper_junos", "\n".join(before)
        )


# ============================================================================ Huawei VRP

VRP_T = RouterTarget(
    "r1", "198.18.0.13", "huawei_vrp", "Cam Khe", "GigabitEthernet0/0/1", "198.18.8.1"
)
VRP_RULES = [
    "rule 5 permit udp destination 198.18.32.0 0.0.0.255 destination-port eq 5060",
    "rule 20 permit udp destination 198.18.32.0 0.0.0.255 destination-port range 16384 32767",
    "rule 25 permit udp destination 198.18.32.0 0.0.0.255 destination-port eq 50000",
]
VRP_STALE = (
    "rule 20 permit udp destination 198.18.32.0 0.0.0.255 destination-port range 16000 32000"
)


@st.composite
def vrp_running(draw: Any) -> dict[str, Any]:
    return {
        "version": draw(st.sampled_from(["v5", "v8"])),
        "description": draw(st.sampled_from(["none", "old", "ours"])),
        "route": draw(st.sampled_from(["none", "ours", "other"])),
        "floating": draw(st.booleans()),
        "rules": draw(st.lists(st.sampled_from(VRP_RULES), unique=True)),
        "stale": draw(st.booleans()),
        "qos": draw(st.sampled_from(["none", "ours", "other-dscp"])),
        "policy": draw(st.sampled_from(["none", "ours", "foreign"])),
        "ntp": draw(st.sampled_from(["none", "other", "ours"])),
        "order": [0, *draw(st.permutations(range(1, 6)))],  # ` sysname` first, as VRP prints
    }


def vrp_text(p: dict[str, Any]) -> str:
    blocks: list[list[str]] = [[] for _ in range(6)]
    blocks[0] = [" sysname r1", "acl number 2000", " rule 5 permit source 198.18.0.0 0.0.7.255"]
    wan = ["interface GigabitEthernet0/0/1", " ip address 198.18.8.3 255.255.248.0"]
    if p["description"] != "none":
        wan.insert(
            1, f" description {'old uplink' if p['description'] == 'old' else 'confprov Cam Khe'}"
        )
    if p["policy"] == "foreign" or (p["policy"] == "ours" and p["qos"] != "none"):
        name = "CONFPROV-MARK" if p["policy"] == "ours" else "OPS"
        wan.append(f" traffic-policy {name} outbound")
    blocks[1] = wan
    routes = ["ip route-static 0.0.0.0 0.0.0.0 198.18.0.1"]
    if p["route"] != "none":
        gw = "198.18.8.1" if p["route"] == "ours" else "198.18.9.9"
        routes.append(f"ip route-static 198.18.32.0 255.255.255.0 {gw}")
    if p["floating"]:
        routes.append("ip route-static 198.18.32.0 255.255.255.0 198.18.20.1 preference 150")
    blocks[2] = routes
    rules = [r for r in p["rules"] if not (p["stale"] and r.startswith("rule 20 "))]
    rules += [VRP_STALE] if p["stale"] else []
    if rules:
        blocks[3] = [
            "acl name CONFPROV-CONFERENCE 3990",
            *(f" {r}" for r in sorted(rules, key=lambda r: int(r.split()[1]))),
        ]
    if p["qos"] != "none":
        ef = "ef" if p["qos"] == "ours" else "cs5"
        blocks[4] = [
            "acl name CONFPROV-AUDIO 3991",
            " rule 5 permit udp destination 198.18.32.0 0.0.0.255 destination-port range "
            "16384 24575",
            "acl name CONFPROV-VIDEO 3992",
            " rule 5 permit udp destination 198.18.32.0 0.0.0.255 destination-port range "
            "24576 32767",
            "traffic classifier CONFPROV-AUDIO operator or",
            " if-match acl CONFPROV-AUDIO",
            "traffic classifier CONFPROV-VIDEO operator or",
            " if-match acl CONFPROV-VIDEO",
            "traffic behavior CONFPROV-EF",
            f" remark dscp {ef}",
            "traffic behavior CONFPROV-AF41",
            " remark dscp af41",
            "traffic policy CONFPROV-MARK",
            " classifier CONFPROV-AUDIO behavior CONFPROV-EF",
            " classifier CONFPROV-VIDEO behavior CONFPROV-AF41",
        ]
    if p["policy"] == "foreign":
        blocks[4] += ["traffic policy OPS", " statistic enable"]
    ntp = {"none": [], "other": ["198.18.0.1"], "ours": ["198.18.32.10"]}.get(p["ntp"], [])
    blocks[5] = [f"ntp-service unicast-server {n}" for n in ntp]
    ordered = [blocks[i] for i in p["order"] if blocks[i]]
    return "\n".join("\n".join(b) + "\n#" for b in ordered) + "\nreturn\n"


def vrp_intended(p: dict[str, Any]) -> str:
    q = dict(p)
    q.update(description="ours", route="ours", rules=VRP_RULES, stale=False, qos="ours")
    q.update(policy="foreign" if p["policy"] == "foreign" else "ours")
    text = vrp_text(q)
    if p["ntp"] == "other":  # another NTP server is the site's: kept beside confprov's
        text = text.replace("#\nreturn", "#\nntp-service unicast-server 198.18.32.10\n#\nreturn")
    elif p["ntp"] == "none":
        text = text.replace("\nreturn", "\nntp-service unicast-server 198.18.32.10\n#\nreturn")
    return text


def vrp_hc_view(text: str) -> set[tuple[str, ...]]:
    config = hier_config.get_hconfig(hier_config.Platform.HUAWEI_VRP, text)
    return {tuple(c.text for c in child.lineage()) for child in config.all_children()}


@PROFILE
@given(parts=vrp_running())
def test_vrp_generated_configs_converge_as_hier_config_says(
    parts: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from fakedevice import VrpDevice

    workspace = tmp_path_factory.mktemp("vrp")
    running = vrp_text(parts)
    device = VrpDevice(running, version=parts["version"])
    before = device.show()
    result = run("push", device, VRP_T, workspace)
    assert result.status in ("ok", "changed"), result.message
    device.version = "v5"  # hier_config and the intended text read V5's `operator or`
    end = device.show()
    want = vrp_intended(parts)
    assert stmts("huawei_vrp", end) == stmts("huawei_vrp", want), result.diff
    run_hc = hier_config.get_hconfig(hier_config.Platform.HUAWEI_VRP, running)
    want_hc = hier_config.get_hconfig(hier_config.Platform.HUAWEI_VRP, want)
    remediation = hier_config.WorkflowRemediation(run_hc, want_hc).remediation_config
    assert vrp_hc_view(end) == vrp_hc_view(str(run_hc.future(remediation)))
    device.version = parts["version"]
    assert run("push", device, VRP_T, workspace).commands == []
    if result.changed:
        back = run("rollback", device, VRP_T, workspace)
        assert back.status == "changed", back.message
        assert stmts("huawei_vrp", device.show()) == stmts("huawei_vrp", before)
