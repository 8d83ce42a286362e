"""How Ansible reaches a Windows endpoint: the connection variables its host_vars hold.

One function decides them for every Windows host, from ``confprov.yml``'s ``windows`` section and
the per-site override in ``windows_connections``, so the rendered inventory and the inventory
plugin (which parses the rendered text) can never disagree. The variable names are ansible-core's
own (ssh, psrp and winrm are ansible-core connection plugins; the PowerShell shell too).

Trust is pinned as for Linux endpoints: over OpenSSH the workspace's ``known_hosts`` with
``StrictHostKeyChecking=yes`` (group_vars/endpoints.yml); over PSRP/WinRM the endpoint's HTTPS
certificate is validated against the CA bundle ``windows.ca_cert`` names. Passwords stay in the
vault: only a reference is rendered.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from confprov.config import Config
from confprov.exceptions import InputError, Problem

# Rendered as text: Ansible resolves it at run time, when the vault is loaded.
PASSWORD_REF = "{{ vault_windows_passwords[inventory_hostname] | default(vault_windows_password) }}"  # noqa: S105 - a vault reference, not a password


def default_port(connection: str, scheme: str) -> int:
    """22 for OpenSSH; 5986 for PSRP/WinRM over HTTPS, 5985 over HTTP (their listeners')."""
    if connection == "ssh":
        return 22
    return 5986 if scheme == "https" else 5985


def connection_vars(config: Config, workspace: str, connection: str) -> dict[str, Any]:
    """The ``ansible_*`` variables of a Windows endpoint reached by ``connection``."""
    win = config.windows
    port = win.port or default_port(connection, win.scheme)
    if connection == "ssh":
        # Key authentication, like the Linux endpoints (ansible_ssh_private_key_file and the pinned
        # known_hosts come from group_vars/endpoints.yml).
        return {
            "ansible_connection": "ssh",
            "ansible_shell_type": "powershell",
            "ansible_port": port,
        }
    ca = str(Path(workspace) / win.ca_cert) if win.ca_cert else ""
    if connection == "psrp":
        out: dict[str, Any] = {
            "ansible_connection": "psrp",
            "ansible_port": port,
            "ansible_psrp_protocol": win.scheme,
            "ansible_psrp_auth": win.auth,
            "ansible_psrp_cert_validation": win.cert_validation,
        }
        if ca:
            out["ansible_psrp_ca_cert"] = ca
    else:
        out = {
            "ansible_connection": "winrm",
            "ansible_port": port,
            "ansible_winrm_scheme": win.scheme,
            "ansible_winrm_transport": win.auth,
            "ansible_winrm_server_cert_validation": win.cert_validation,
        }
        if ca:
            out["ansible_winrm_ca_trust_path"] = ca
    out["ansible_password"] = PASSWORD_REF
    return out


def override_key(config: Config, host: str, slug: str) -> str:
    """The ``windows_connections`` key that applies to an endpoint: its host name, else its
    site's slug, else "" (the global ``windows.connection``)."""
    overrides = config.windows_connections
    return host if host in overrides else slug if slug in overrides else ""


def connection_of(config: Config, host: str, slug: str) -> str:
    """How a Windows endpoint of site ``slug`` is reached: its override, else the global one."""
    key = override_key(config, host, slug)
    return config.windows_connections[key] if key else config.windows.connection


def connections(
    config: Config, sites: Iterable[tuple[str, str, tuple[str, ...]]]
) -> dict[str, str]:
    """Windows endpoint host -> its connection, overrides applied.

    ``sites`` gives (slug, endpoint_os, endpoint hosts) per site. An override naming no Windows
    site or endpoint is refused (a typo would silently keep the global connection).
    """
    overrides = dict(config.windows_connections)
    out: dict[str, str] = {}
    used: set[str] = set()
    for slug, endpoint_os, hosts in sites:
        if endpoint_os != "windows":
            continue
        for host in hosts:
            key = override_key(config, host, slug)
            out[host] = connection_of(config, host, slug)
            if key:
                used.add(key)
    unknown = sorted(set(overrides) - used)
    if unknown:
        raise InputError(
            [
                Problem(
                    "confprov.yml",
                    None,
                    f"windows_connections.{name}",
                    "names no Windows site or endpoint (give a site's host name or an "
                    "endpoint's host name whose endpoint_os is windows)",
                )
                for name in unknown
            ]
        )
    return out
