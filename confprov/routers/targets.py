"""Routers of a workspace, read directly (registry, confprov.yml, vault): for checks and `trust`.

Pushes go through Ansible (the inventory's variables); read-only checks that other commands need
quickly (`confprov verify`) read the same sources here without starting Ansible.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from confprov import vault
from confprov.exceptions import InputError, Problem
from confprov.routers.render import Conference, RouterTarget
from confprov.workspace import load

KNOWN_HOSTS = "known_hosts"


def known_hosts(workspace: Path) -> Path:
    return workspace / KNOWN_HOSTS


def workspace_routers(
    workspace: Path, limit: list[str] | None = None, *, credentials: bool = True
) -> tuple[list[RouterTarget], Conference]:
    """Every router of the workspace (or those named in ``limit``), and the conference side."""
    loaded = load(workspace)
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
        if site.router
    ]
    if limit:
        wanted = set(limit)
        unknown = wanted - {t.host for t in targets} - {t.address for t in targets}
        if unknown:
            raise InputError(
                [
                    Problem(
                        str(loaded.registry.path),
                        None,
                        None,
                        f"no router {', '.join(sorted(unknown))} (router hosts end in -rt)",
                    )
                ]
            )
        targets = [t for t in targets if t.host in wanted or t.address in wanted]
    if credentials:
        secrets = vault.decrypt(workspace / "vault.yml", vault.read_password(workspace))
        per_router = secrets.get("vault_router_passwords") or {}
        default = str(secrets.get("vault_router_password", ""))
        username = str(secrets.get("vault_router_username", ""))
        targets = [
            replace(t, username=username, password=str(per_router.get(t.host, default)))
            for t in targets
        ]
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
