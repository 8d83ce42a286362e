"""``confprov watch deploy``: the collector and the agents, through the runner façade.

Idempotent like every role of confprov: a second run changes nothing and says so. The watch key
(signing probes and replies) is made once per workspace in ``watch.key`` (mode 0600) and read by
the play on the controller; it is never an extra variable (ansible-runner records those).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from confprov.config import Config
from confprov.runner import ProgressCallback, RunResult, run_playbook

PLAYBOOK = "watch.yml"
KEY_NAME = "watch.key"


def ensure_key(workspace: Path) -> Path:
    """The workspace's watch key, made on first use (64 hex digits, mode 0600)."""
    path = workspace / KEY_NAME
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
    return path


def client_process(config: Config) -> str:
    """The conference client's program name, from its provisioning profile (one place)."""
    from confprov.provision.profiles import load_profile

    return Path(load_profile(config.client.profile).binary).name


def play_vars(config: Config) -> dict[str, Any]:
    """The variables of playbooks/watch.yml: what ``watch deploy`` passes and ``confprov
    export-vars`` writes (one place). The key is not among them: the play reads watch.key."""
    return {
        "confprov_watch": asdict(config.watch),
        "confprov_watch_client_process": client_process(config),
    }


def deploy(
    workspace: Path,
    *,
    limit: Sequence[str] = (),
    on_progress: ProgressCallback | None = None,
) -> RunResult:
    """Install or update the collector and the agents (``limit``: Ansible host patterns)."""
    from confprov.workspace import load, render_workspace_inventory

    config = load(workspace).config
    ensure_key(workspace)
    render_workspace_inventory(workspace)
    return run_playbook(
        workspace,
        PLAYBOOK,
        action="watch-deploy",
        limit=limit,
        extra_vars=play_vars(config),
        on_progress=on_progress,
    )
