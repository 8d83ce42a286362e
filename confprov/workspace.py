"""A workspace: the folder holding confprov.yml, the registry, the vault and everything rendered.

This module ties config, registry and inventory together for the commands; each step validates
everything before anything is written.
"""

from __future__ import annotations

import csv
import secrets
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from confprov import domain, safefile, spreadsheet, vault
from confprov.config import CONFIG_NAME, Config, load_config
from confprov.domain import LEVELS
from confprov.exceptions import InputError, Problem
from confprov.inventory import INVENTORY_DIR, RenderReport, iter_files, write_inventory
from confprov.lock import LOCK_NAME
from confprov.registry import Registry, find_registry, load_registry

REGISTRY_SHEET = "Sites"  # the sheet `init --xlsx` writes
# What a workspace's git repository must never hold: every private file confprov writes or reads
# (the vault password, SSH private keys, the mirror's signing key, router backups, run folders
# with session logs) and everything it regenerates.
GITIGNORE = """\
# Written by `confprov init`. Private: never commit these.
.vault-pass
id_*
!id_*.pub
*.key
*.pem
mirror-key/
backups/
runs/
results.sqlite
# Generated: `confprov inventory` and `confprov mirror` make them again.
inventory/
mirror/
.mirror-*/
.inventory.*/
.confprov.lock
# confprov watch: the board's token, the probes' key, the session's event log.
.watch-token
watch.key
watch.sqlite
"""


@dataclass
class Loaded:
    workspace: Path
    config: Config
    registry: Registry


def load(workspace: Path) -> Loaded:
    """Config and registry, both validated; all problems of both reported together."""
    problems: list[Problem] = []
    if why := domain.text_error(str(workspace.resolve())):
        # Its path is written into the inventory's variables, which Ansible templates again.
        problems.append(Problem(str(workspace), None, None, f"the workspace's path {why}"))
    config: Config | None = None
    registry: Registry | None = None
    try:
        config = load_config(workspace)
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        path = registry_path(workspace, config)
        registry = load_registry(
            path,
            config.endpoint_user if config else "conf",
            sheet=config.registry_sheet if config else "",
            network=config.conference.network if config else "",
        )
    except InputError as exc:
        problems.extend(exc.problems)
    if problems or config is None or registry is None:
        raise InputError(problems)
    return Loaded(workspace, config, registry)


# Files of a workspace that hold secrets or settings, never a registry: naming one as the
# registry would echo its lines in error messages (a vault password among them).
_NOT_A_REGISTRY = (vault.PASSWORD_FILE, vault.VAULT_FILE, CONFIG_NAME, "known_hosts", LOCK_NAME)


def registry_path(workspace: Path, config: Config | None) -> Path:
    """The registry file: found, or as ``registry:`` in confprov.yml names it, checked.

    A configured path must stay inside the workspace and must not be one of its private files;
    whichever it is, it must be a regular file (a folder, FIFO or device is refused at once).
    """
    configured = config.registry if config else ""
    path = find_registry(workspace, configured)
    if configured:
        where = str(workspace / CONFIG_NAME)
        inside = safefile.inside(workspace, configured)
        if inside is None:
            raise InputError(
                [
                    Problem(
                        where,
                        None,
                        "registry",
                        f"{configured!r} is outside the workspace: copy the registry into it",
                    )
                ]
            )
        private = config.ssh_private_key if config else ""
        if inside.name in (*_NOT_A_REGISTRY, Path(private).name) or inside.name.startswith("id_"):
            raise InputError(
                [Problem(where, None, "registry", f"{configured!r} is not a registry")]
            )
    safefile.check_input(path, "registry")
    return path


@dataclass
class CheckSummary:
    loaded: Loaded
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        reg = self.loaded.registry
        levels = reg.count_levels()
        out = [
            f"{reg.path.name}: {len(reg.sites)} sites, {reg.endpoint_count} endpoints, "
            f"{reg.router_count} routers"
        ]
        width = max([11, *map(len, levels)])
        out.extend(f"  {level:<{width}} {count:>6}" for level, count in levels.items())
        districts = reg.districts()
        if districts:
            out.append("by district (the district's own site + its communes):")
            width = max(len(d.name) for d in districts)
            for district in districts:
                members = reg.members(district)
                out.append(
                    f"  {district.name:<{width}} {len(members):>5}  ({len(members) - 1} communes)"
                )
        groups = reg.groups()
        if groups:
            out.append("by group (the registry's group column):")
            named = {reg.group_name(slug): len(members) for slug, members in groups.items()}
            width = max(len(name) for name in named)
            out.extend(f"  {name:<{width}} {count:>5}" for name, count in named.items())
        out.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        """What ``check --json`` writes: the same counts as ``text``, keyed."""
        reg = self.loaded.registry
        return {
            "registry": str(reg.path),
            "sites": len(reg.sites),
            "endpoints": reg.endpoint_count,
            "routers": reg.router_count,
            "levels": reg.count_levels(),
            "districts": {d.name: len(reg.members(d)) for d in reg.districts()},
            "groups": {reg.group_name(slug): len(m) for slug, m in reg.groups().items()},
            "warnings": list(self.warnings),
        }


def expected_warnings(registry: Registry, expected: dict[str, int]) -> list[str]:
    """Differences from the roster in confprov.yml, each named: "298 sites, roster says 297"."""
    levels = registry.count_levels()
    warnings = []
    if "total" in expected and expected["total"] != len(registry.sites):
        warnings.append(f"{len(registry.sites)} sites, roster says {expected['total']}")
    for level in LEVELS:
        if level in expected and expected[level] != levels.get(level, 0):
            warnings.append(f"{levels.get(level, 0)} {level} sites, roster says {expected[level]}")
    return warnings


def check_workspace(workspace: Path) -> CheckSummary:
    loaded = load(workspace)
    return CheckSummary(loaded, expected_warnings(loaded.registry, loaded.config.expected))


def render_workspace_inventory(workspace: Path) -> RenderReport:
    loaded = load(workspace)
    reg = loaded.registry
    return write_inventory(
        workspace / INVENTORY_DIR,
        lambda part: iter_files(workspace, reg, loaded.config, part),
        count=reg.endpoint_count + reg.router_count,
    )


# --------------------------------------------------------------------------- init


def _example_dir(name: str) -> Path:
    return Path(str(resources.files("confprov") / "examples" / name))


def init_workspace(target: Path, example: str | None = None, xlsx: bool = False) -> Path:
    """Scaffold a workspace: confprov.yml, a registry, an encrypted vault and its password file.

    With ``xlsx`` the registry is ``sites.xlsx``, a formatted workbook (what operators keep).
    """
    target = target.resolve()
    if target.exists() and not target.is_dir():
        raise InputError(
            [
                Problem(
                    str(target), None, None, "is a file, not a folder: give a new or empty folder"
                )
            ]
        )
    if target.exists() and any(target.iterdir()):
        raise InputError(
            [Problem(str(target), None, None, "not empty: give a new or empty folder")]
        )
    source = _example_dir(example or "starter")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / CONFIG_NAME, target / CONFIG_NAME)
    if xlsx:
        with (source / "sites.csv").open(encoding="utf-8", newline="") as fh:
            header, *rows = list(csv.reader(fh))
        spreadsheet.write_workbook(target / "sites.xlsx", header, rows, REGISTRY_SHEET)
    else:
        shutil.copyfile(source / "sites.csv", target / "sites.csv")
    loaded = load(target)
    password = secrets.token_urlsafe(24)
    vault.write_password_file(target / ".vault-pass", password)
    secrets_data = {
        "vault_router_username": "confprov",
        "vault_router_password": secrets.token_urlsafe(18),
        "vault_router_passwords": {},
        "vault_sip_passwords": {
            host: secrets.token_urlsafe(12)
            for site in loaded.registry.sites
            for host in site.endpoint_hosts
        },
    }
    (target / "vault.yml").write_text(vault.encrypt(secrets_data, password))
    (target / ".gitignore").write_text(GITIGNORE)
    return target
