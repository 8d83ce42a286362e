"""Read-only router check for other commands (`confprov verify`): answers? intended lines there?

No Ansible: the workspace's registry, confprov.yml and vault are read directly, and the same
connection code as a push (pinned host keys, timeouts) reads each router's running config.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from confprov.routers import engine
from confprov.routers.device import Timeouts
from confprov.routers.settings import DEFAULTS, RouterSettings
from confprov.routers.targets import known_hosts, workspace_routers


@dataclass(frozen=True)
class RouterCheck:
    host: str
    address: str
    reachable: bool  # logged in and read the running config
    intended: bool  # every line a push would make is there
    missing: list[str] = field(default_factory=list)  # intended lines absent ("block / line")
    error: str = ""  # why not reachable, or what is missing, in one line

    @property
    def ok(self) -> bool:
        return self.reachable and self.intended

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        state = "OK" if self.ok else ("NOT READY" if self.reachable else "UNREACHABLE")
        return f"  {state:<11} {self.host} ({self.address})" + (
            f": {self.error}" if self.error else ""
        )


def check_routers(
    workspace: Path,
    limit: list[str] | None = None,
    *,
    workers: int = DEFAULTS.workers,
    timeouts: Timeouts | None = None,
    settings: RouterSettings | None = None,
) -> dict[str, RouterCheck]:
    """Every router of the workspace (or ``limit``, router hosts or addresses), checked at once.

    ``settings`` (confprov/routers/settings.py) gives workers and timeouts; ``workers`` and
    ``timeouts`` are kept for callers that pass only those.
    """
    targets, conference = workspace_routers(workspace, limit)
    if settings is None:
        settings = RouterSettings(workers=workers)
        if timeouts is not None:
            settings = replace(
                settings, connect_timeout=timeouts.connect, command_timeout=timeouts.command
            )
    opts = engine.Options.of(settings, workspace=workspace, known_hosts=known_hosts(workspace))
    results = engine.run("check", [engine.Job(t) for t in targets], conference, opts)
    return {
        host: RouterCheck(
            host=host,
            address=r.address,
            reachable=r.status != "unreachable" and not (r.status == "failed" and not r.missing),
            intended=r.status == "ok",
            missing=r.missing,
            error="" if r.status == "ok" else r.message,
        )
        for host, r in results.items()
    }
