"""Routers of a workspace, read directly (registry, confprov.yml, vault): for checks and `trust`.

Pushes go through Ansible (the inventory's variables); read-only checks that other commands need
quickly (`confprov verify`) read the same sources here without starting Ansible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from confprov import vault
from confprov.exceptions import InputError, Problem
from confprov.registry import Registry
from confprov.routers.render import Conference, RouterTarget
from confprov.selection import names, select
from confprov.workspace import load

KNOWN_HOSTS = "known_hosts"


def known_hosts(workspace: Path) -> Path:
    return workspace / KNOWN_HOSTS


def router_hosts(registry: Registry, limits: Sequence[str]) -> list[str]:
    """The router hosts of the sites ``limits`` select (confprov.selection), in registry order.

    Sites without a router are passed over; a selection holding none is refused (exit 2).
    """
    chosen = select(registry, limits).sites
    hosts = [s.router_host for s in chosen if s.router]
    if not hosts:
        raise InputError(
            [
                Problem(
                    "--limit",
                    None,
                    ", ".join(limits),
                    f"none of the {len(chosen)} site(s) selected has a router "
                    f"({names(chosen)}): routers are in the registry's router column",
                )
            ]
        )
    return hosts


def workspace_routers(
    workspace: Path, limit: Sequence[str] | None = None, *, credentials: bool = True
) -> tuple[list[RouterTarget], Conference]:
    """Every router of the workspace (or of the sites ``limit`` selects), and the conference."""
    loaded = load(workspace)
    wanted = set(router_hosts(loaded.registry, limit)) if limit else None
    targets = [
        RouterTarget(
            host=site.router_host,
            address=site.router,
            platform=site.router_platform,
            site_name=site.name,
            wan_interface=site.router_wan_interface,
            wan_gateway=site.router_wan_gateway,
        )
        for site in loaded.registry.sites
        if site.router and (wanted is None or site.router_host in wanted)
    ]
    if credentials:
        vault_path = workspace / vault.VAULT_FILE
        secrets = vault.decrypt(vault_path, vault.read_password(workspace))
        vault.require(secrets, ["vault_router_username"], vault_path, "logging in to routers")
        per_router = secrets.get("vault_router_passwords") or {}
        if not isinstance(per_router, dict):
            raise InputError(
                [
                    Problem(
                        str(vault_path),
                        None,
                        "vault_router_passwords",
                        "must be a mapping of router host name to password",
                    )
                ]
            )
        default = str(secrets.get("vault_router_password", ""))
        username = str(secrets.get("vault_router_username", ""))
        targets = [
            replace(t, username=username, password=str(per_router.get(t.host, default)))
            for t in targets
        ]
        without = [t.host for t in targets if not t.password]
        if without:
            raise InputError(
                [
                    Problem(
                        str(vault_path),
                        None,
                        "vault_router_password",
                        f"no password for {', '.join(without)}: set vault_router_password "
                        "or an entry in vault_router_passwords",
                    )
                ]
            )
    conf = loaded.config.conference
    conference = Conference(
        network=conf.network,
        server=conf.server,
        port=conf.port,
        transport=conf.transport,
        ntp_server=conf.ntp_server,
        reflector_port=conf.reflector_port,
    )
    return targets, conference
