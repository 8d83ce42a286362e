"""`confprov routers plan|push|rollback`: one run of playbooks/routers.yml, results per router.

The play runs the router_config module once for all routers (see docs/routers.md for why); its
per-router results are read back from the run's own job events (never from stdout) and become
the run's per-host summary, so `summary.json` and `--retry-failed` count routers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confprov import runner
from confprov.exceptions import ConfprovError, InputError, Problem
from confprov.routers.engine import RouterResult
from confprov.routers.settings import ROLE_PREFIX, SHARED, RouterSettings

PLAYBOOK = "routers.yml"
MODULE = "confprov.core.router_config"
SESSIONS = "sessions"


# The one settings object (confprov/routers/settings.py), under the name callers know.
Settings = RouterSettings


@dataclass
class RoutersRun:
    action: str
    run_dir: Path
    routers: dict[str, RouterResult]
    plan: bool = False

    @property
    def failed(self) -> list[RouterResult]:
        return [r for r in self.routers.values() if r.failed]

    @property
    def changed(self) -> list[RouterResult]:
        return [r for r in self.routers.values() if r.changed]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "plan": self.plan,
            "run_dir": str(self.run_dir),
            "routers": {h: r.to_json() for h, r in sorted(self.routers.items())},
        }

    def summary(self) -> str:
        verb = "would change" if self.plan else "changed"
        failed = self.failed
        unreachable = sum(1 for r in failed if r.status == "unreachable")
        lines = [
            f"{self.action}: {len(self.routers)} routers: {len(self.changed)} {verb}, "
            f"{len(self.routers) - len(self.changed) - len(failed)} unchanged, "
            f"{len(failed) - unreachable} failed, {unreachable} unreachable"
        ]
        if self.routers and not self.changed and not failed:
            lines.append("nothing to change" if self.plan else "nothing changed")
        lines.extend(
            f"  {r.status.upper():<11} {r.host}: {r.message}"
            for r in sorted(failed, key=lambda r: r.host)
        )
        lines.append(f"run folder: {self.run_dir}")
        return "\n".join(lines)


def module_results(run_dir: Path) -> dict[str, RouterResult] | None:
    """The router_config task's per-router results, from the run's job events."""
    events = run_dir / "artifacts" / "ansible" / "job_events"
    if not events.is_dir():
        return None
    for path in sorted(events.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("event") not in ("runner_on_ok", "runner_on_failed"):
            continue
        event = data.get("event_data", {})
        if event.get("task_action") not in (MODULE, "router_config"):
            continue
        routers = event.get("res", {}).get("routers")
        if isinstance(routers, dict):
            fields = RouterResult.__dataclass_fields__
            return {
                host: RouterResult(**{k: v for k, v in r.items() if k in fields})
                for host, r in routers.items()
            }
    return None


def _rewrite_summary(result: runner.RunResult, routers: dict[str, RouterResult]) -> None:
    """summary.json's hosts = routers, exactly (the run_once task's own counts would blur it)."""
    result.hosts = {
        h: runner.HostResult(
            h,
            r.status,
            int(r.changed),
            "" if not r.failed else "router_config",
            r.message if r.failed else "",
        )
        for h, r in routers.items()
    }
    (result.run_dir / runner.SUMMARY).write_text(
        json.dumps(result.to_json(), indent=2, ensure_ascii=False)
    )


def run_routers(
    workspace: Path,
    action: str,
    *,
    plan: bool = False,
    limits: list[str] | None = None,
    retry_failed: bool = False,
    backup: str = "",
    settings: Settings | None = None,
    on_progress: Callable[[runner.Progress], None] | None = None,
) -> RoutersRun:
    """Render the inventory, run the play, return every router's result."""
    from confprov.workspace import render_workspace_inventory

    settings = settings or Settings()
    if action not in ("push", "rollback", "check"):
        raise InputError(f"unknown routers action {action!r}")
    if action == "push":
        name = "routers-plan" if plan else "routers-push"
    else:
        name = f"routers-{action}-check" if plan else f"routers-{action}"
    # Both refused before anything is written; together, the failed routers inside the limit.
    limit: list[str] = []
    if limits:
        from confprov.routers.targets import router_hosts
        from confprov.workspace import load

        limit = router_hosts(load(workspace).registry, limits)
    if retry_failed:
        failed = runner.retry_limit(workspace, name)
        if limits:
            inside = set(limit)
            failed = [h for h in failed if h in inside]
        if not failed:
            why = "no router failed last time" + (" among those --limit selects" if limits else "")
            raise InputError([Problem(str(workspace / runner.RUNS_DIR), None, None, why)])
        limit = failed
    render_workspace_inventory(workspace)
    (workspace / runner.RUNS_DIR).mkdir(exist_ok=True)
    sessions = Path(tempfile.mkdtemp(prefix=".sessions-", dir=workspace / runner.RUNS_DIR))
    extra: dict[str, Any] = {
        ROLE_PREFIX + name: list(value) if isinstance(value, tuple) else value
        for name in SHARED
        for value in [getattr(settings, name)]
    }
    extra.update(
        {
            "router_config_action": action,
            "router_config_backup": backup,
            "router_config_session_log_dir": str(sessions) if settings.session_logs else "",
            "router_config_extra_config": dict(settings.extra_config),
        }
    )
    try:
        result = runner.run_playbook(
            workspace,
            PLAYBOOK,
            action=name,
            limit=limit,
            check=plan,
            diff=True,
            extra_vars=extra,
            on_progress=on_progress,
        )
    except BaseException:
        shutil.rmtree(sessions, ignore_errors=True)
        raise
    sessions.rename(result.run_dir / SESSIONS)
    routers = module_results(result.run_dir)
    if routers is None:
        if not result.hosts:
            raise InputError(
                [Problem(str(workspace), None, None, "no router matches (check --limit)")]
            )
        raise ConfprovError(
            f"{name}: the router_config task gave no result\n{result.summary_text()}"
        )
    _rewrite_summary(result, routers)
    return RoutersRun(name, result.run_dir, routers, plan)
