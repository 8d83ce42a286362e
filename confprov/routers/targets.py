"""Router targets: the one definition of what a router is to the engine, for every caller.

Pushes go through Ansible: the collection's ``router_targets`` filter is a thin adapter over
:func:`build` (site values from the rendered inventory's ``confprov_routers`` map, credentials from
the vault). Read-only checks that other commands need quickly (`confprov verify`, `routers check`,
`trust`) read the same sources directly (:func:`workspace_routers`) and go through the same
:func:`build`, so both routes give the same targets (tests/unit/routers/test_router_targets.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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


# Set false by every confprov run (confprov.runner): the CLI logs in to routers only with the
# vault's login, as `confprov verify`'s router checks do; a plain ansible-playbook run (AWX) leaves
# it unset and may log in with the standard connection variables.
LOGIN_FALLBACK = "confprov_router_login_fallback"
NET_USERNAME = "ANSIBLE_NET_USERNAME"
NET_PASSWORD = "ANSIBLE_NET_PASSWORD"  # noqa: S105  # the variable's name, not a password


@dataclass(frozen=True)
class Login:
    """Where the routers' login comes from: username and passwords from one source, never mixed."""

    source: str  # "vault", "connection variables", NET_USERNAME, or "" (none)
    username: str | None = None
    password: str | None = None  # for every router without its own
    passwords: Any = field(default_factory=dict)  # by router host (the vault's only)


def _given(value: Any) -> bool:
    return value not in (None, "")


def login(
    secrets: Mapping[str, Any],
    *,
    user: Any = None,
    password: Any = None,
    env: Mapping[str, str] | None = None,
    fallback: bool = True,
) -> Login:
    """The one rule for the routers' login, for plays (the ``router_login`` filter) and the CLI.

    The vault's pair (``vault_router_username`` with ``vault_router_passwords[host]`` else
    ``vault_router_password``); else, with ``fallback``, the connection variables' pair
    (``ansible_user``/``ansible_password``: AWX Machine credential, ``-u``/``-k``), else the
    ``ANSIBLE_NET_USERNAME``/``ANSIBLE_NET_PASSWORD`` pair (AWX Network credential). A username
    from one source never goes with a password of another. Without ``fallback`` (confprov's own
    runs) only the vault counts: ``ansible_user`` is also set by ANSIBLE_REMOTE_USER or any
    ansible.cfg's remote_user, which must not become a router login behind the operator's back.
    """
    if _given(secrets.get("vault_router_username")):
        default = secrets.get("vault_router_password")
        per_router = secrets.get("vault_router_passwords") or {}
        if isinstance(per_router, Mapping):  # an empty password is no password (as verify says)
            per_router = {h: p for h, p in per_router.items() if _given(p)}
        return Login(
            "vault",
            str(secrets["vault_router_username"]),
            str(default) if _given(default) else None,
            per_router,  # anything but a mapping is refused by its users
        )
    if not fallback:
        return Login("")
    # A fallback source counts only whole: a Machine credential with a key (a username, no
    # password) must not hide a complete Network credential behind it.
    if _given(user) and _given(password):
        return Login("connection variables", str(user), str(password))
    env = os.environ if env is None else env
    if _given(env.get(NET_USERNAME)) and _given(env.get(NET_PASSWORD)):
        return Login(NET_USERNAME, env[NET_USERNAME], env[NET_PASSWORD])
    if _given(user) or _given(env.get(NET_USERNAME)):
        # A username without its password: the routers are refused by name ("no password").
        return Login(
            "connection variables" if _given(user) else NET_USERNAME,
            str(user) if _given(user) else env[NET_USERNAME],
        )
    return Login("")


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
            if not _given(secret):
                secret = password
        else:
            site = outside(host)
            login, secret = site["username"], site["password"]
        missing = [k for k in SITE_KEYS if not isinstance(site, Mapping) or k not in site]
        if missing:
            problems.append(f"{host}: confprov_routers lacks {', '.join(missing)}")
            continue
        assert isinstance(site, Mapping)
        if credentials and not _given(secret):
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
        # Only the vault: the CLI never falls back to the operator's connection variables.
        chosen_login = login(secrets, fallback=False)
        if chosen_login.username is None:
            vault.require(secrets, ["vault_router_username"], vault_path, "logging in to routers")
        found = chosen_login.passwords
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
        username = chosen_login.username or ""
        default = chosen_login.password or ""
    # The registry gives every site value: what build finds lacking is a password (an empty
    # one is none), named here as the vault's missing variable.
    try:
        targets = build(
            list(sites),
            sites,
            username=username,
            passwords=per_router,
            password=default,
            credentials=credentials,
        )
    except TargetProblems as exc:
        if not exc.without_password:
            raise
        raise InputError(
            [
                Problem(
                    str(vault_path),
                    None,
                    "vault_router_password",
                    f"no password for {', '.join(exc.without_password)}: set "
                    "vault_router_password or an entry in vault_router_passwords",
                )
            ]
        ) from None
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
