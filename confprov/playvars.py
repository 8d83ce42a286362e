"""``confprov export-vars``: the variables confprov's commands give each play, in one file, so that
the plays run without confprov: under AWX / Automation Controller, or plain ``ansible-playbook``.

Each area computes its play's variables in one function that its own command calls too
(``provision.run.play_vars``, ``verify.run.play_vars``, ``routers.run.play_vars``,
``watch.deploy.play_vars``); this module only gathers them. What a command computes for one run
only (the URL of the mirror it serves while the play runs, a stop file, a session-log folder)
is not exported; the plays fall back to their sources (confprov.yml's ``package_source.url``,
the role's defaults).

Secrets are never among them: the plays load the vault themselves (``vars_files``), the watch
play reads watch.key on the controller. tests/unit/test_awx.py
(test_export_vars_writes_the_plays_variables_and_no_secret) greps the output for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from confprov import safefile
from confprov.exceptions import ConfprovError

VARS_FILE = "play-vars.yml"
# The workspace's inventory source for the confprov.core.registry plugin (AWX's inventory source,
# `ansible-playbook -i`): the plugin reads the folder holding it.
SOURCE_FILE = "sites.confprov.yml"
SOURCE_TEXT = """\
# The sites of this workspace as an Ansible inventory, read from the registry by confprov's
# inventory plugin (AWX: an inventory source from the Project; plain Ansible: -i THIS_FILE).
# Written by `confprov export-vars` when absent; yours to keep.
plugin: confprov.core.registry
"""
PLAYS = ("provision.yml", "verify.yml", "routers.yml", "watch.yml")
_HEADER = """\
# The variables confprov's commands compute for its plays ({plays}),
# written by `confprov export-vars`: run a play without confprov with
#   ansible-playbook -i INVENTORY.confprov.yml -e @{name} --vault-password-file PASSFILE PLAY
# or paste them into an AWX job template's variables (docs/awx.md). No secret is in here.
# Written again by export-vars: do not edit; change confprov.yml and export again.
"""


class _Dumper(yaml.SafeDumper):
    """Multi-line text (the client's file templates) as YAML blocks, as a person would write."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


@dataclass
class Exported:
    variables: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def text(self, name: str = VARS_FILE) -> str:
        header = _HEADER.format(plays=", ".join(PLAYS), name=name)
        body = yaml.dump(
            self.variables,
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=True,
            default_flow_style=False,
        )
        return header + "---\n" + body

    def to_json(self) -> dict[str, Any]:
        return {"variables": self.variables, "notes": self.notes}


def export_vars(workspace: Path) -> Exported:
    """Every play's variables for this workspace, from the functions its commands use."""
    from confprov.provision import run as provision_run
    from confprov.routers import run as routers_run
    from confprov.verify import run as verify_run
    from confprov.watch import deploy as watch_deploy
    from confprov.workspace import load

    loaded = load(workspace)
    config = loaded.config
    provision, notes = provision_run.export_vars(workspace, loaded)
    windows = verify_run.windows_findings(workspace, config, loaded.registry.sites)
    parts = [
        provision,
        verify_run.play_vars(config, windows),
        routers_run.play_vars(routers_run.Settings()),
        watch_deploy.play_vars(config),
    ]
    variables: dict[str, Any] = {}
    for part in parts:
        twice = sorted(set(part) & set(variables))
        if twice:  # two plays' variables of one name would silently override each other
            raise ConfprovError(f"export-vars: computed twice: {', '.join(twice)}")
        variables.update(part)
    if windows.why_unpinned:
        notes.append(f"verify: Windows client version not pinned: {windows.why_unpinned}")
    # The CLI caps its probes itself (verify.run.probe_limit); a job's only cap is its forks.
    notes.append(
        f"verify: give the verify job template forks {verify_run.probe_limit(config)} or fewer "
        "(media probes at once: verify.max_parallel_probes, else uplink_kbps // bitrate_kbps)"
    )
    return Exported(variables, notes)


def write(exported: Exported, target: Path) -> None:
    """The file, whole or not at all (never through a link planted at its path)."""
    safefile.replace(target, exported.text(target.name))


def write_source(workspace: Path) -> Path | None:
    """The workspace's inventory plugin file, when it has none (an existing one is kept: it may
    be the operator's own); the path written, else None."""
    path = workspace / SOURCE_FILE
    if path.exists() or path.is_symlink():
        return None
    safefile.create(path, SOURCE_TEXT.encode())
    return path
