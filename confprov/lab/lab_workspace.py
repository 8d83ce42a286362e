"""The ready workspace `lab up` writes: config, registry, vault, SSH key and pinned host keys.

`confprov provision|routers|verify -w <it>` work on it without edits, with host key checking on.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from confprov.config import CONFIG_NAME, parse_config
from confprov.domain import LEVELS
from confprov.exceptions import InputError
from confprov.lab.image import ENDPOINT_USER, ROUTER_USER
from confprov.lab.plan import LabPlan, registry_csv
from confprov.registry import load_registry
from confprov.vault import encrypt, write_password_file

MARKER = ".confprov-lab"
LAB_FILES = (
    CONFIG_NAME,
    "sites.csv",
    "vault.yml",
    ".vault-pass",
    "id_ed25519",
    "id_ed25519.pub",
    "known_hosts",
    MARKER,
)


@dataclass(frozen=True)
class Secrets:
    router_password: str
    vault_password: str


LAB_UPLINK_KBPS = 24_000  # 16 probes of the default 1500 kbit/s media profile


def new_secrets() -> Secrets:
    return Secrets(secrets.token_urlsafe(15), secrets.token_urlsafe(24))


def check_target(workspace: Path, name: str) -> None:
    """Refuse to write over a workspace that is not this lab's (a real province's, say)."""
    if not workspace.exists() or not any(workspace.iterdir()):
        return
    marker = workspace / MARKER
    if marker.exists() and marker.read_text().strip() == name:
        return
    if (workspace / CONFIG_NAME).exists() or (workspace / "sites.csv").exists():
        raise InputError(
            f"{workspace}: holds a workspace that lab {name!r} did not write; choose another "
            "folder with --workspace"
        )


def config_text(plan: LabPlan) -> str:
    levels = plan.levels()
    data = {
        "province": f"Lab {plan.name}",
        "registry": "sites.csv",
        "conference": {
            "server": plan.conf_server,
            "sip_domain": plan.conf_server,
            "transport": "udp",
            "port": 5060,
            "network": plan.conf_net,
            "ntp_server": plan.conf_server,
            "reflector_port": 50000,
            # What this kind of machine carries: on 2 cores a 298-site lab passed every network
            # check with 16 media probes at once (1.5 Mbit/s each) and lost 30-50 % of the
            # packets with 50. confprov verify derives its probe concurrency from this value.
            "uplink_kbps": LAB_UPLINK_KBPS,
            "management_address": plan.conf_mgmt,
            "management_user": "root",
        },
        "endpoint_user": ENDPOINT_USER,
        "ssh_private_key": "id_ed25519",
        "expected": {**levels, "total": len(plan.sites)},
        # Lab endpoints are containers with no camera, display or sound card: the verdict
        # requires no room equipment here (a real province keeps the defaults: all of it).
        "equipment": {level: [] for level in LEVELS},
    }
    header = (
        f"# Written by `confprov lab up --name {plan.name}`: a rehearsal lab on this machine.\n"
        f"# Lab addresses: {plan.block} (management {plan.mgmt_net}, conference {plan.conf_net}).\n"
    )
    text = header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    parse_config(text, CONFIG_NAME)  # the lab writes only what confprov itself accepts
    return text


def sip_hosts(workspace: Path) -> list[str]:
    """Endpoint host names as the inventory will name them (the registry loader's slugs)."""
    registry = load_registry(workspace / "sites.csv", default_user=ENDPOINT_USER)
    return [site.endpoint_hosts[0] for site in registry.sites]


def write(
    workspace: Path,
    plan: LabPlan,
    secrets_: Secrets,
    *,
    client: tuple[bytes, str],
    host_keys: dict[str, str],
) -> None:
    """Write every file of the workspace.

    ``client`` is the controller's key pair (OpenSSH private key, public line); ``host_keys`` maps
    each host's management address to its public host key.
    """
    client_private, client_public = client
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / MARKER).write_text(plan.name + "\n")
    (workspace / CONFIG_NAME).write_text(config_text(plan), encoding="utf-8")
    (workspace / "sites.csv").write_text(registry_csv(plan, ENDPOINT_USER), encoding="utf-8")
    key = workspace / "id_ed25519"
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(client_private)
    key.chmod(0o600)
    (workspace / "id_ed25519.pub").write_text(client_public + "\n")
    (workspace / "known_hosts").write_text(
        "".join(f"{addr} {line}\n" for addr, line in host_keys.items())
    )
    vault = {
        "vault_router_username": ROUTER_USER,
        "vault_router_password": secrets_.router_password,
        "vault_router_passwords": {},
        "vault_sip_passwords": {host: secrets.token_urlsafe(12) for host in sip_hosts(workspace)},
    }
    write_password_file(workspace / ".vault-pass", secrets_.vault_password)
    (workspace / "vault.yml").write_text(encrypt(vault, secrets_.vault_password))
    (workspace / "vault.yml").chmod(0o600)


def ssh_argv(workspace: Path, address: str, command: str, user: str = ENDPOINT_USER) -> list[str]:
    """Plain ssh to a lab host as the workspace allows it: its key, its pinned host keys only."""
    return [
        "ssh",
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={workspace / 'known_hosts'}",
        "-o",
        "ConnectTimeout=10",
        "-i",
        str(workspace / "id_ed25519"),
        f"{user}@{address}",
        command,
    ]
