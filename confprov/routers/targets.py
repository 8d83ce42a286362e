"""Router targets: the one definition of what a router is to the engine, for every caller.

Pushes go through Ansible: the collection's ``router_targets`` filter is a thin adapter over
:func:`build` (site values from the rendered inventory's ``confprov_routers`` map, credentials from
the vault). Read-only checks that other commands need quickly (`confprov verify`, `routers check`,
`trust`) read the same sources directly (:func:`workspace_routers`) and go through the same
:func:`build`, so both routes give the same targets (tests/unit/routers/test_router_targets.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confprov.exceptions import InputError, Problem
from confprov.routers.render import Conference, RouterTarget

if TYPE_CHECKING:  # the filter imports this module inside ansible-playbook: only what it needs
    from confprov.registry import Registry, Site

KNOWN_HOSTS = "known_hosts"

SITE_KEYS = ("address", "platform", "site_name", "wan_interface", "wan_gateway")
# What the router_config module takes per router (its ``routers`` option): the one shape every
# caller builds, the collection's ``router_targets`` filter included.
VAR_KEYS = ("host", *SITE_KEYS, "username", "password", "extra_config")


class TargetProblems(ValueError):
    """Routers whose values are incomplete, each named (``problems``: one line per router)."""

    def __init__(self, problems: list[str], without_password: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.without_password = without_password


def site_values(site: Site) -> dict[str, str]:
    """A router's site values, as the rendered inventory's ``confprov_routers`` map holds them."""
    return {
        "address": site.router,
        "platform": site.router_platform,
        "site_name": site.name_ascii,
        "wan_interface": site.router_wan_interface,
        "wan_gateway": site.router_wan_gateway,
    }


def extra_lines(extra_config: Mapping[str, str] | None, host: str) -> str:
    """The operator's extra lines for ``host``: those for ``all``, then the host's own."""
    extra = extra_config or {}
    return "\n".join(x for x in (extra.get("all", ""), extra.get(host, "")) if x)


def build(
    hosts: Sequence[str],
    sites: Mapping[str, Any],
    *,
    username: str | None,
    passwords: Mapping[str, Any] | None = None,
    password: str | None = None,
    extra_config: Mapping[str, str] | None = None,
    outside: Callable[[str], Mapping[str, Any]] | None = None,
    credentials: bool = True,
) -> list[RouterTarget]:
    """The one definition of a router target, for the API and the collection's filter.

    ``sites``: site values by host (:func:`site_values`); credentials: ``username`` for all,
    ``passwords[host]`` else ``password``. A host not in ``sites`` is asked of ``outside``
    (the filter reads it from the host's hostvars: site values, ``username`` and ``password``).
    Every incomplete router is named in one :class:`TargetProblems`.
    """
    per_router = passwords or {}
    problems: list[str] = []
    without: list[str] = []
    out: list[RouterTarget] = []
    for host in hosts:
        if host in sites or outside is None:
            site = sites.get(host)
            login, secret = username, per_router.get(host)
            if secret is None:
                secret = password
        else:
            site = outside(host)
            login, secret = site["username"], site["password"]
        missing = [k for k in SITE_KEYS if not isinstance(site, Mapping) or k not in site]
        if missing:
            problems.append(f"{host}: confprov_routers lacks {', '.join(missing)}")
            continue
        assert isinstance(site, Mapping)
        if credentials and secret is None:
            problems.append(f"{host}: no password")
            without.append(host)
        out.append(
            RouterTarget(
                host=host,
                **{k: site[k] for k in SITE_KEYS},
                username=login if credentials else "",  # type: ignore[arg-type]
                password=secret if credentials else "",  # type: ignore[arg-type]
                extra_config=extra_lines(extra_config, host),
            )
        )
    if credentials and username is None and any(h in sites for h in hosts):
        problems.insert(
            0,
            "no router username: set vault_router_username in the vault (or, for a play "
            "without it, ansible_user or ANSIBLE_NET_USERNAME: AWX Machine/Network credential)",
        )
    if problems:
        raise TargetProblems(problems, without)
    return out


def as_vars(target: RouterTarget) -> dict[str, Any]:
    """``target`` as the router_config module's ``routers`` option takes it."""
    return {k: getattr(target, k) for k in VAR_KEYS}


def from_vars(values: Mapping[str, Any]) -> RouterTarget:
    """The router_config module's ``routers`` entry back as a target (``port`` optional)."""
    return RouterTarget(**{k: values[k] for k in VAR_KEYS}, port=int(values.get("port", 22)))


def known_hosts(workspace: Path) -> Path:
    return workspace / KNOWN_HOSTS


def router_hosts(registry: Registry, limits: Sequence[str]) -> list[str]:
    """The router hosts of the sites ``limits`` select (confprov.selection), in registry order.

    Sites without a router are passed over; a selection holding none is refused (exit 2).
    """
    from confprov.selection import names, select

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
    from confprov import vault
    from confprov.workspace import load

    loaded = load(workspace)
    wanted = set(router_hosts(loaded.registry, limit)) if limit else None
    chosen = [
        site
        for site in loaded.registry.sites
        if site.router and (wanted is None or site.router_host in wanted)
    ]
    sites = {site.router_host: site_values(site) for site in chosen}
    username = default = ""
    per_router: Mapping[str, Any] = {}
    vault_path = workspace / vault.VAULT_FILE
    if credentials:
        secrets = vault.decrypt(vault_path, vault.read_password(workspace))
        vault.require(secrets, ["vault_router_username"], vault_path, "logging in to routers")
        found = secrets.get("vault_router_passwords") or {}
        if not isinstance(found, dict):
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
        per_router = {h: str(p) for h, p in found.items()}
        username = str(secrets.get("vault_router_username", ""))
        default = str(secrets.get("vault_router_password", ""))
    # The registry gives every site value, and the default password is "" when unset: build
    # finds nothing lacking, and a router without a password is named here, as it always was.
    targets = build(
        list(sites),
        sites,
        username=username,
        passwords=per_router,
        password=default,
        credentials=credentials,
    )
    without = [t.host for t in targets if credentials and not t.password]
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
