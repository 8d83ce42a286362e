"""The lab's address plan and registry: pure data, runs without root (so not marked ``lab``)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confprov.config import parse_config
from confprov.exceptions import InputError
from confprov.lab.lab_workspace import config_text
from confprov.lab.plan import (
    LAB_RANGE,
    MAX_SITES,
    SLOTS,
    example_sites,
    generated_sites,
    make_plan,
    registry_csv,
)
from confprov.registry import load_registry


def all_addresses(plan) -> list[str]:
    out = [plan.controller_mgmt, plan.conf_mgmt, plan.conf_wan, plan.conf_server]
    for s in plan.sites:
        out += [s.endpoint_mgmt, s.router_mgmt, s.router_wan, s.router_lan, s.endpoint_lan]
    return out


@settings(max_examples=30, deadline=None)
@given(slot=st.integers(0, SLOTS - 1), count=st.integers(1, MAX_SITES))
def test_every_address_is_inside_the_lab_range_and_unique(slot, count):
    plan = make_plan("t", slot, generated_sites(count))
    addrs = all_addresses(plan)
    assert len(set(addrs)) == len(addrs)
    block = ipaddress.ip_network(plan.block)
    for addr in addrs:
        ip = ipaddress.ip_address(addr)
        assert ip in LAB_RANGE and ip in block


def test_slots_do_not_overlap():
    blocks = [
        ipaddress.ip_network(make_plan("t", s, generated_sites(1)).block) for s in range(SLOTS)
    ]
    for i, a in enumerate(blocks):
        for b in blocks[i + 1 :]:
            assert not a.overlaps(b)


def test_conference_network_is_not_on_any_router_link():
    plan = make_plan("t", 0, generated_sites(5))
    conf = ipaddress.ip_network(plan.conf_net)
    for net in (plan.mgmt_net, plan.wan_net, plan.lan_net):
        assert not conf.overlaps(ipaddress.ip_network(net))
    assert ipaddress.ip_address(plan.conf_server) in conf


def test_generated_province_has_every_level():
    levels = {s.level for s in generated_sites(5)}
    assert levels == {"province", "district", "commune", "department"}
    assert {s.level for s in generated_sites(3)} == {"province", "district", "commune"}


def test_too_many_sites_is_refused():
    with pytest.raises(InputError, match="at most"):
        make_plan("t", 0, generated_sites(MAX_SITES + 1))


def test_lab_registry_passes_the_registry_loader(tmp_path):
    plan = make_plan("t", 3, generated_sites(12))
    path = tmp_path / "sites.csv"
    path.write_text(registry_csv(plan, "conf"), encoding="utf-8")
    registry = load_registry(path)
    assert [s.slug for s in registry.sites] == [s.slug for s in plan.sites]
    assert all(s.router_platform == "frr" for s in registry.sites)
    parse_config(config_text(plan), "confprov.yml")


def test_phu_tho_is_readdressed_keeping_names_and_hierarchy(tmp_path):
    specs = example_sites("phu-tho")
    assert len(specs) == 298
    plan = make_plan("t", 0, specs)
    path = tmp_path / "sites.csv"
    path.write_text(registry_csv(plan, "conf"), encoding="utf-8")
    registry = load_registry(path)
    assert [(s.name, s.level, s.parent) for s in registry.sites] == [
        (s.name, s.level, s.parent) for s in specs
    ]


def test_neighbour_table_limits_are_raised_for_big_labs_and_never_lowered(tmp_path):
    """The 298-site lab overflowed the kernel's 1024-entry neighbour table (ENOBUFS, SSH "No
    route to host"): lab up raises the limits with the lab's size. Written to a stand-in folder
    here; the real /proc/sys files are written by `lab up` (tests/lab/test_lab.py runs it)."""
    from confprov.lab.net import ensure_neighbour_room

    for key, value in (("gc_thresh1", "128"), ("gc_thresh2", "512"), ("gc_thresh3", "1024")):
        (tmp_path / key).write_text(value + "\n")
    assert ensure_neighbour_room(597, tmp_path) == {
        "gc_thresh3": 9552,
        "gc_thresh2": 4776,
        "gc_thresh1": 1194,
    }
    assert ensure_neighbour_room(7, tmp_path) == {}, "a small lab lowers nothing"
    assert (tmp_path / "gc_thresh3").read_text() == "9552"
