"""Execution nodes in a lab: hosts that run ``ansible-runner worker`` for ``--nodes``.

Each node is a lab host like the others (systemd-nspawn on the lab image, its own network
namespace on the management bridge, its own host name and pinned host key) that can reach every
lab host: its bridge port is not isolated. It runs this machine's Python, virtualenv, confprov
and the workspace through read-only (the workspace: read-write) bind mounts at the same paths,
which is what confprov.nodes asks of a node. Everything is recorded in the lab's journal before
it exists, so ``lab down`` removes the nodes with the lab.
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization

from confprov import paths
from confprov.exceptions import InputError
from confprov.lab import containers, hostfs
from confprov.lab.net import _batch, nft_table
from confprov.lab.plan import LabPlan
from confprov.lab.state import LABS_DIR, Entry, LabState
from confprov.lab.system import run_command

NODE_OFFSET = 2000  # node k's management address: the lab's management block + 2000 + k
NODES_FILE = "nodes.yml"
KNOWN_HOSTS = "nodes_known_hosts"
NODE_BOOT = "mkdir -p /run/sshd\nexec /usr/sbin/sshd -D -e\n"


@dataclass(frozen=True)
class LabNode:
    name: str  # also its host name
    machine: str  # its nspawn machine and network namespace
    address: str
    log: Path  # its console (sshd's log: who connected)


def lab_nodes(state: LabState, count: int) -> list[LabNode]:
    plan = state.plan()
    if plan is None:
        raise InputError(f"lab {state.name!r} has no plan: is it up?")
    base = ipaddress.ip_network(plan.mgmt_net, strict=False).network_address
    return [
        LabNode(
            name=f"{plan.name}-node{k}",
            machine=f"cp-{plan.name}-x{k}",
            address=str(base + NODE_OFFSET + k),
            log=state.hosts_dir / f"cp-{plan.name}-x{k}" / "console.log",
        )
        for k in range(1, count + 1)
    ]


def _binds(workspace: Path) -> list[str]:
    """What a node shares with this machine, at the same paths: Python, the virtualenv,
    confprov's Ansible content (read-only) and the workspace (read-write)."""
    package = Path(paths.__file__).resolve().parent.parent  # confprov itself (editable or not)
    shared = sorted({Path(sys.base_prefix), Path(sys.prefix), paths.collections_path()} | {package})
    kept: list[Path] = []
    for path in shared:
        if not any(path.is_relative_to(k) for k in kept) and path != workspace:
            kept.append(path)
    return [f"--bind-ro={p}" for p in kept] + [f"--bind={workspace}"]


def up(name: str, count: int = 3, *, labs_dir: Path = LABS_DIR) -> Path:
    """Start ``count`` execution nodes in lab ``name``; write and return its nodes file."""
    state = LabState(name, labs_dir)
    meta = state.meta()
    plan = state.plan()
    if plan is None or "workspace" not in meta:
        raise InputError(f"no lab {name!r} up: `confprov lab up --name {name}` first")
    workspace, image = Path(meta["workspace"]), Path(meta["image"])
    nodes = lab_nodes(state, count)
    state.record(
        [Entry("netns", n.machine) for n in nodes]
        + [Entry("link", n.machine[-15:]) for n in nodes]
        + [Entry("dir", str(containers.PROPAGATE_DIR / n.machine)) for n in nodes]
    )
    lines = []
    for n in nodes:
        link = n.machine[-15:]
        lines += [
            f"netns add {n.machine}",
            f"link add {link} type veth peer name mgmt netns {n.machine}",
            f"link set {link} master {plan.bridge}",
            f"link set {link} up",
        ]
    _batch(lines)
    for n in nodes:
        _batch(
            ["link set lo up", f"addr add {n.address}/21 dev mgmt", "link set mgmt up"], n.machine
        )
    _allow_bridged(plan, [n.address for n in nodes])
    writer = hostfs.HostWriter(image)
    client = _public_line(workspace / "id_ed25519")
    pins: list[str] = []
    for n in nodes:
        upper = n.log.parent / "upper"
        upper.mkdir(parents=True)
        pair = hostfs.new_keypair()
        writer.host_key(upper, pair)
        writer.authorized_key(upper, "root", "/root", client)
        writer.write(upper, hostfs.BOOT, NODE_BOOT, 0o755)
        writer.write(upper, "etc/hosts", f"127.0.0.1 localhost\n127.0.1.1 {n.name}\n", 0o644)
        pins.append(f"{n.address} {pair.public_line}\n")
    binds = tuple(_binds(workspace))
    specs = [
        containers.HostSpec(
            n.machine, n.name, n.machine, n.log.parent / "upper", n.log, False, binds
        )
        for n in nodes
    ]
    containers.start(image, specs, state)
    missing = containers.wait_ssh([n.address for n in nodes], 60)
    if missing:
        raise InputError(f"execution nodes do not answer SSH: {', '.join(missing)}")
    (workspace / KNOWN_HOSTS).write_text("".join(pins))
    data = {
        "slicing": "group",
        "nodes": [
            {
                "name": n.name,
                "address": n.address,
                "user": "root",
                "key": "id_ed25519",
                "known_hosts": KNOWN_HOSTS,
                "runner": str(Path(sys.prefix) / "bin" / "ansible-runner"),
            }
            for n in nodes
        ],
    }
    target = workspace / NODES_FILE
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _allow_bridged(plan: LabPlan, addresses: list[str]) -> None:
    """Let the nodes talk to the lab's hosts across the management bridge.

    With br_netfilter, bridged frames pass the lab's forward chain, whose safety net drops all
    from and to the bridge (hosts talk only to the controller's address on it). The nodes'
    traffic is let through only when it stays on the bridge (in and out of it), from or to a
    node: nothing more leaves the lab than before. The table goes with ``lab down``.
    """
    table, bridge = nft_table(plan.name), plan.bridge
    for way in ("saddr", "daddr"):
        rule = f'iifname "{bridge}" oifname "{bridge}" ip {way} {{ {", ".join(addresses)} }} accept'
        run_command(["nft", "insert", "rule", "inet", table, "forward", *rule.split()])


def _public_line(private_key: Path) -> str:
    key = serialization.load_ssh_private_key(private_key.read_bytes(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
