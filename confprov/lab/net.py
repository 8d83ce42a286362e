"""The lab's networks: namespaces, veth pairs, bridges and the safety nft table, in few commands.

Management: a bridge in the controller's namespace with one isolated port per host, so the
controller reaches every host and no host reaches another through it. Site LAN: a veth pair
endpoint ↔ router. WAN: a bridge inside the conference host's namespace with one isolated port per
router. The conference server's address sits on the conference host's lo, behind the WAN, so
a router reaches it only once a route to the conference network is pushed.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from confprov.lab.plan import WAN_IF, LabPlan
from confprov.lab.state import Entry, LabState
from confprov.lab.system import LabCommandError, run_command

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"


def nft_table(plan_name: str) -> str:
    return f"confprov_lab_{plan_name}"


def root_links(plan: LabPlan) -> list[str]:
    """Names of the management veth ends in the controller's namespace."""
    links = [f"cp{plan.slot}c"]
    for s in plan.sites:
        links += [f"cp{plan.slot}e{s.index}", f"cp{plan.slot}r{s.index}"]
    return links


def namespaces(plan: LabPlan) -> list[str]:
    return [plan.conf_ns, *(ns for s in plan.sites for ns in (s.endpoint_ns, s.router_ns))]


def _batch(lines: Iterable[str], netns: str | None = None) -> None:
    cmd = (
        ["ip", "-force", "-batch", "-"]
        if netns is None
        else ["ip", "-n", netns, "-force", "-batch", "-"]
    )
    run_command(cmd, input_text="\n".join(lines) + "\n")


def create(plan: LabPlan, state: LabState) -> None:
    """Create namespaces, links, bridges and the nft table; each recorded before it exists."""
    all_ns = namespaces(plan)
    links = root_links(plan)
    table = nft_table(plan.name)
    state.record(
        [Entry("netns", ns) for ns in all_ns]
        + [Entry("link", plan.bridge)]
        + [Entry("link", link) for link in links]
        + [Entry("nft", table)]
    )
    # The safety net first: nothing from the management bridge is forwarded by this machine.
    nft = (
        f"table inet {table} {{\n"
        f"  chain forward {{ type filter hook forward priority -100; policy accept;\n"
        f'    iifname "{plan.bridge}" drop\n    oifname "{plan.bridge}" drop\n  }}\n}}\n'
    )
    run_command(["nft", "-f", "-"], input_text=nft)
    ensure_neighbour_room(len(plan.sites) * 2 + 1)

    lines = [f"netns add {ns}" for ns in all_ns]
    lines += [
        f"link add {plan.bridge} type bridge",
        f"addr add {plan.controller_mgmt}/21 dev {plan.bridge}",
        f"link set {plan.bridge} up",
    ]
    hosts = [(f"cp{plan.slot}c", plan.conf_ns)]
    for s in plan.sites:
        hosts += [
            (f"cp{plan.slot}e{s.index}", s.endpoint_ns),
            (f"cp{plan.slot}r{s.index}", s.router_ns),
        ]
    for link, ns in hosts:
        lines += [
            f"link add {link} type veth peer name mgmt netns {ns}",
            f"link set {link} master {plan.bridge}",
            f"link set dev {link} type bridge_slave isolated on",
            f"link set {link} up",
        ]
    for s in plan.sites:
        lines.append(
            f"link add lan netns {s.endpoint_ns} type veth peer name lan netns {s.router_ns}"
        )
        lines.append(
            f"link add {WAN_IF} netns {s.router_ns} type veth peer name w{s.index} "
            f"netns {plan.conf_ns}"
        )
    _batch(lines)

    conf = [
        "link set lo up",
        f"addr add {plan.conf_mgmt}/21 dev mgmt",
        "link set mgmt up",
        "link add wan type bridge",
        f"addr add {plan.conf_wan}/21 dev wan",
        "link set wan up",
        # No dummy interfaces in this kernel: the server address sits on lo.
        f"addr add {plan.conf_server}/32 dev lo",
    ]
    for s in plan.sites:
        conf += [
            f"link set w{s.index} master wan",
            f"link set dev w{s.index} type bridge_slave isolated on",
            f"link set w{s.index} up",
            f"route add {ipaddress.ip_interface(f'{s.router_lan}/{s.lan_prefix}').network} "
            f"via {s.router_wan}",
        ]
    jobs: list[tuple[str, list[str]]] = [(plan.conf_ns, conf)]
    for s in plan.sites:
        jobs.append(
            (
                s.endpoint_ns,
                [
                    "link set lo up",
                    f"addr add {s.endpoint_mgmt}/21 dev mgmt",
                    "link set mgmt up",
                    f"addr add {s.endpoint_lan}/{s.lan_prefix} dev lan",
                    "link set lan up",
                    f"route add default via {s.router_lan}",
                ],
            )
        )
        jobs.append(
            (
                s.router_ns,
                [
                    "link set lo up",
                    f"addr add {s.router_mgmt}/21 dev mgmt",
                    "link set mgmt up",
                    f"addr add {s.router_lan}/{s.lan_prefix} dev lan",
                    "link set lan up",
                    f"addr add {s.router_wan}/21 dev {WAN_IF}",
                    f"link set {WAN_IF} up",
                ],
            )
        )
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda job: _batch(job[1], job[0]), jobs))
    set_sysctl([s.router_ns for s in plan.sites], "net/ipv4/ip_forward", "1")


NEIGH_DIR = Path("/proc/sys/net/ipv4/neigh/default")
NEIGH_PER_HOST = 16  # neighbour entries a lab host accounts for, across every namespace


def ensure_neighbour_room(hosts: int, folder: Path = NEIGH_DIR) -> dict[str, int]:
    """Raise the kernel's neighbour (ARP) table limits for a lab of ``hosts`` hosts; never lower.

    The IPv4 neighbour table is one table for every network namespace of the machine, with
    limits gc_thresh1/2/3 of 128/512/1024 by default. A 298-site lab (597 hosts, each in its own
    namespace, plus the management side) went past 1024 entries under a verify run: the kernel
    logged "neighbor table overflow", sends failed with ENOBUFS and SSH with "No route to
    host". Returns the values written (empty when the limits were already high enough). The
    raised limits stay after ``lab down``: they only allow a bigger table.
    """
    want3 = max(1024, NEIGH_PER_HOST * hosts)
    wanted = {"gc_thresh1": want3 // 8, "gc_thresh2": want3 // 2, "gc_thresh3": want3}
    written: dict[str, int] = {}
    for key in ("gc_thresh3", "gc_thresh2", "gc_thresh1"):  # the largest first: 1 <= 2 <= 3
        path = folder / key
        if int(path.read_text().split()[0]) < wanted[key]:
            path.write_text(str(wanted[key]))
            written[key] = wanted[key]
    return written


def set_sysctl(netns_names: list[str], key: str, value: str) -> None:
    """Write a per-namespace sysctl without a process per namespace (setns in one thread).

    Containers see /proc/sys read-only, so forwarding on the routers is switched on from here.
    """
    errors: list[str] = []

    def work() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            for name in netns_names:
                fd = os.open(f"{NETNS_DIR}/{name}", os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        errors.append(f"setns {name}: {os.strerror(ctypes.get_errno())}")
                        continue
                    with open(f"/proc/sys/{key}", "w") as fh:  # noqa: PTH123 - per-thread netns
                        fh.write(value)
                finally:
                    os.close(fd)
        finally:
            libc.setns(own, CLONE_NEWNET)
            os.close(own)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if errors:
        raise LabCommandError(f"sysctl {key}={value}: {'; '.join(errors[:5])}")


def existing_namespaces() -> set[str]:
    try:
        return {p.name for p in Path(NETNS_DIR).iterdir()}
    except FileNotFoundError:
        return set()


def remove(entries: list[Entry]) -> list[str]:
    """Delete recorded namespaces, links and nft tables that still exist; return what was done."""
    done: list[str] = []
    present = existing_namespaces()
    ns = [e.value for e in entries if e.kind == "netns" and e.value in present]
    links = [e.value for e in entries if e.kind == "link"]
    existing_links = {p.name for p in Path("/sys/class/net").iterdir()}
    gone_links = [link for link in links if link in existing_links]
    lines = [f"netns del {n}" for n in ns] + [f"link del {link}" for link in gone_links]
    if lines:
        # -force: keep going past a link that vanished with its namespace meanwhile.
        run_command(
            ["ip", "-force", "-batch", "-"], input_text="\n".join(lines) + "\n", check=False
        )
    if ns:
        done.append(f"{len(ns)} namespaces")
    if gone_links:
        done.append(f"{len(gone_links)} links")
    for entry in entries:
        if entry.kind == "nft":
            proc = run_command(["nft", "list", "table", "inet", entry.value], check=False)
            if proc.returncode == 0:
                run_command(["nft", "delete", "table", "inet", entry.value])
                done.append(f"nft table {entry.value}")
    return done
