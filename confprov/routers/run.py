"""`confprov routers plan|push|rollback`: one run of playbooks/routers.yml, results per router.

The play runs the router_config module once for all routers (see docs/routers.md for why); its
per-router results are read back from the run's own job events (never from stdout) and become
the run's per-host summary, so `summary.json` and `--retry-failed` count routers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from confprov import runner, safefile
from confprov.exceptions import ConfprovError, InputError, Problem
from confprov.routers.device import FAILED
from confprov.routers.engine import INTERRUPTED, RouterResult, left_in
from confprov.routers.settings import ROLE_PREFIX, SHARED, RouterSettings

PLAYBOOK = "routers.yml"
MODULE = "confprov.core.router_config"
SESSIONS = "sessions"
STOP_FILE = ".stop"  # in the sessions folder while the play runs: created on SIGINT/SIGTERM
PROGRESS_FILE = ".progress"  # there too: one JSON line per router as it ends (the module's)
POLL_S = 0.5


# The one settings object (confprov/routers/settings.py), under the name callers know.
Settings = RouterSettings


@dataclass
class RoutersRun:
    action: str
    run_dir: Path
    routers: dict[str, RouterResult]
    plan: bool = False
    interrupted: bool = False  # SIGINT/SIGTERM came: no router was started after it
    kind: str = "push"  # the module's action: push, rollback or check

    @property
    def not_started(self) -> list[RouterResult]:
        return [r for r in self.routers.values() if r.status == INTERRUPTED]

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
            "interrupted": self.interrupted,
        }

    def summary(self) -> str:
        verb = "would change" if self.plan else "changed"
        failed = self.failed
        unreachable = sum(1 for r in failed if r.status == "unreachable")
        stopped = len(self.not_started)
        lines = [
            f"{self.action}: {len(self.routers)} routers: {len(self.changed)} {verb}, "
            f"{len(self.routers) - len(self.changed) - len(failed)} unchanged, "
            f"{len(failed) - unreachable - stopped} failed, {unreachable} unreachable"
            + (f", {stopped} interrupted" if stopped else "")
        ]
        if self.routers and not self.changed and not failed:
            lines.append("nothing to change" if self.plan else "nothing changed")
        lines.extend(
            f"  {r.status.upper():<11} {r.host}: {r.message}"
            for r in sorted(failed, key=lambda r: r.host)
            if r.status != INTERRUPTED
        )
        if self.interrupted or stopped:
            lines.append(
                "interrupted: no router was started after it; each router is left:"
                if not self.plan
                else "interrupted: no router was read after it:"
            )
            lines.extend(
                f"  {r.host}: {left_in(r, self.kind) if not self.plan else r.message}"
                for r in sorted(self.routers.values(), key=lambda r: r.host)
            )
        from confprov.nodes import said

        lines.extend(said(self.run_dir))  # execution nodes, re-sent slices
        lines.append(f"run folder: {self.run_dir}")
        return "\n".join(lines)


def module_results(run_dir: Path) -> dict[str, RouterResult] | None:
    """The router_config task's per-router results, from the run's job events (the runner's
    one reader: the task found by the module it ran, never by its display name)."""
    fields = RouterResult.__dataclass_fields__
    found: dict[str, RouterResult] | None = None
    # One task in a local run; one per slice when spread over execution nodes (confprov.nodes).
    for task in runner.task_results(run_dir, actions=(MODULE,)):
        routers = task.res.get("routers")
        if isinstance(routers, dict):
            found = found if found is not None else {}
            found.update(
                (host, RouterResult(**{k: v for k, v in r.items() if k in fields}))
                for host, r in routers.items()
            )
    return found


def _spread(workspace: Path, nodes: Path | None, limit: list[str]) -> Any:
    """The execution nodes' spread of the routers this run takes (None: run here)."""
    from confprov import nodes as execution
    from confprov.config import load_config
    from confprov.routers.targets import router_hosts
    from confprov.workspace import load

    # Only confprov.yml when no --nodes: the local push reads nothing more than before.
    setting = load_config(workspace).execution_nodes if nodes is None else ""
    given = execution.from_workspace(workspace, nodes, setting)
    if given is None:
        return None
    loaded = load(workspace)
    hosts = limit or router_hosts(loaded.registry, [])
    spread = execution.plan(given, loaded.registry, hosts)
    # Never re-sent: a slice lost mid-push may have changed routers (see LOST_SLICE); never
    # cut by a signal: the stop file stops between routers (_stop_between_routers).
    return None if spread is None else dataclasses.replace(spread, resend=False, interrupt=False)


LOST_SLICE = (
    "it may hold part of the change (its execution node was lost mid-run; the slice is not "
    "re-sent): run `confprov routers check`, then `confprov routers rollback` if needed"
)


def _unreported(
    result: runner.RunResult, spread: Any, routers: dict[str, RouterResult]
) -> dict[str, RouterResult]:
    """``routers`` and, failed, every router of a spread run with no result of its own (its
    slice lost, or ended without running the module), so that the summary, the exit code and
    --retry-failed count it: a router never vanishes from a run."""
    lost = {h for s in result.nodes if s.get("status") == "lost" for h in s.get("hosts", [])}
    out = dict(routers)
    for piece in spread.slices:
        for host in piece.hosts:
            if host in out:
                continue
            said = result.hosts.get(host)
            why = said.message if said is not None and said.message else "no result"
            if host in lost:
                why = f"{why}; {LOST_SLICE}"
            out[host] = RouterResult(host, status=FAILED, message=why)
    return out


def _rewrite_summary(result: runner.RunResult, routers: dict[str, RouterResult]) -> None:
    """summary.json's hosts = routers, exactly (the run_once task's own counts would blur it)."""
    result.hosts = {
        h: runner.HostResult(
            host=h,
            # Not started (interrupted) is "failed" to the run's states: --retry-failed takes it.
            status="failed" if r.status == INTERRUPTED else r.status,
            changed=int(r.changed),
            failed_task="" if not r.failed else "router_config",
            message=r.message if r.failed else "",
        )
        for h, r in routers.items()
    }
    safefile.replace(
        result.run_dir / runner.SUMMARY, json.dumps(result.to_json(), indent=2, ensure_ascii=False)
    )


def play_vars(settings: Settings) -> dict[str, Any]:
    """The router_config role's settings as the variables of playbooks/routers.yml: what
    ``routers push|plan|rollback`` passes and ``confprov export-vars`` writes (one place). The
    action is not among them: a job says it (``router_config_action``; plan: check mode)."""
    extra: dict[str, Any] = {
        ROLE_PREFIX + name: list(value) if isinstance(value, tuple) else value
        for name in SHARED
        for value in [getattr(settings, name)]
    }
    extra["router_config_extra_config"] = dict(settings.extra_config)
    return extra


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
    nodes: Path | None = None,
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
    if retry_failed:  # NothingToRetry (exit 0) when no router failed last time (in the limit)
        limit = runner.retry_limit(workspace, name, limit if limits else None)
    # Only a push is spread: plan and rollback run here (execution_nodes: or not).
    spread = _spread(workspace, nodes, limit) if action == "push" and not plan else None
    render_workspace_inventory(workspace)
    runs = safefile.real_dir(workspace, runner.RUNS_DIR)  # never through a link
    sessions = Path(tempfile.mkdtemp(prefix=".sessions-", dir=runs))
    extra = play_vars(settings)
    extra.update(
        {
            "router_config_action": action,
            "router_config_backup": backup,
            "router_config_session_log_dir": str(sessions) if settings.session_logs else "",
        }
    )
    stop_file = sessions / STOP_FILE
    extra["router_config_stop_file"] = str(stop_file)
    extra["router_config_progress_file"] = str(sessions / PROGRESS_FILE)
    total = len(limit) if limit else _router_count(workspace)
    try:
        with (
            _stop_between_routers(stop_file) as stopped,
            _router_progress(sessions / PROGRESS_FILE, total, on_progress),
        ):
            result = runner.run_playbook(
                workspace,
                PLAYBOOK,
                action=name,
                limit=limit,
                check=plan,
                diff=True,
                extra_vars=extra,
                cancel=lambda: False,  # never killed mid-push: stopped between routers instead
                spread=spread,
            )
    except BaseException:
        shutil.rmtree(sessions, ignore_errors=True)
        raise
    stop_file.unlink(missing_ok=True)
    (sessions / PROGRESS_FILE).unlink(missing_ok=True)
    sessions.rename(result.run_dir / SESSIONS)
    routers = module_results(result.run_dir)
    lost = any(s.get("status") == "lost" for s in result.nodes)
    if spread is not None and (routers is not None or lost):
        routers = _unreported(result, spread, routers or {})
    if routers is None:
        if not result.hosts:
            raise InputError(
                [Problem(str(workspace), None, None, "no router matches (check --limit)")]
            )
        _no_result(workspace, name, result, limit)
    _rewrite_summary(result, routers)
    return RoutersRun(
        name, result.run_dir, routers, plan, interrupted=stopped.is_set(), kind=action
    )


def _no_result(
    workspace: Path, name: str, result: runner.RunResult, limit: list[str] | None
) -> NoReturn:
    """The router_config task gave no result (it failed before any router: a router without a
    password, a bad setting): every router it was for is failed in the summary, so
    --retry-failed takes them all up, and the reason is said (bad input: exit 2)."""
    from confprov.routers.targets import workspace_routers

    targets, _ = workspace_routers(workspace, limit, credentials=False)
    why = "the router_config task failed before any router (see the run folder)"
    _rewrite_summary(
        result, {t.host: RouterResult(t.host, status=FAILED, message=why) for t in targets}
    )
    workspace_routers(workspace, limit)  # a router without a password: named here (exit 2)
    raise ConfprovError(f"{name}: {why}\n{result.summary_text()}")


def _router_count(workspace: Path) -> int:
    from confprov.workspace import load

    return sum(1 for site in load(workspace).registry.sites if site.router)


@contextlib.contextmanager
def _router_progress(
    path: Path, total: int, on_progress: Callable[[runner.Progress], None] | None
) -> Iterator[None]:
    """Routers done/failed/unreachable of ``total``, from the module's progress file, polled
    while the play runs (Ansible's own events see one task for all routers), and once at the
    end. The display is the one every command uses (confprov.cliargs.progress)."""
    if on_progress is None:
        yield
        return
    progress = runner.Progress(total=total, task="routers")
    offset = 0
    done = threading.Event()

    def poll() -> None:
        nonlocal offset
        try:
            with path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except FileNotFoundError:
            data = b""
        complete = data[: data.rfind(b"\n") + 1]
        offset += len(complete)
        for line in complete.splitlines():
            try:
                item = json.loads(line)
                host, status = str(item["host"]), str(item["status"])
            except (ValueError, KeyError, TypeError):
                continue
            bucket = {"unreachable": progress.unreachable, "failed": progress.failed}
            bucket.get(status, progress.failed if status == INTERRUPTED else progress.done).add(
                host
            )
        on_progress(progress)

    def loop() -> None:
        while not done.wait(POLL_S):
            poll()

    on_progress(progress)
    thread = threading.Thread(target=loop, name="routers-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        poll()


@contextlib.contextmanager
def _stop_between_routers(stop_file: Path) -> Iterator[threading.Event]:
    """On SIGINT, SIGTERM or SIGHUP during the play: create ``stop_file`` (the module starts no
    further router), say so, and let the play end by itself, so that every router is either
    unchanged, pushed and confirmed, or reverting on its own timer, and the summary says which.

    The play runs in its own session (ansible-runner's pty): a terminal's Ctrl-C reaches only
    this process, and ansible-runner would otherwise kill the play, its module in mid-push.
    """
    stopped = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if not stopped.is_set():
            stopped.set()
            with contextlib.suppress(FileExistsError):
                safefile.create(stop_file, b"", mode=0o600)
            with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
                print(
                    f"{signal.Signals(signum).name}: no further router is started; the routers "
                    "under way finish (pushed and confirmed, or reverted); waiting for them.",
                    file=sys.stderr,
                    flush=True,
                )

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        # SIGHUP too (an SSH session dropped, a terminal closed): the command stays to stop the
        # play between routers, write the summary and hold the workspace lock until it ends.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        yield stopped
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
