"""The façade over ansible-runner: typed arguments in, a result object out, one folder per run.

Events arrive through ansible-runner's callbacks (never by parsing stdout) and feed both the
progress display and the result. Secrets never touch a run folder: the vault is read by Ansible
itself from the workspace (each play's ``vars_files``, as under AWX), its password answering
Ansible's prompt (never an argument, an environment variable or a file), and
``suppress_env_files`` keeps ansible-runner's own env/ files off the disk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shlex
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confprov import paths, safefile, vault
from confprov.exceptions import ConfprovError, InputError, Problem

if TYPE_CHECKING:
    from confprov.nodes import Spread

RUNS_DIR = "runs"
SUMMARY = "summary.json"
# Ansible asks for the vault password on its terminal; ansible-runner answers the prompt through
# pexpect. The password is thus in no argument, no environment (ansible-runner records the whole
# environment in artifacts/*/command) and no file of the run.
_VAULT_PROMPT = r"Vault password.*:\s*?$"
HOST_STATES = ("ok", "changed", "failed", "unreachable", "skipped")


NOTHING_TO_RETRY = "nothing to retry: the last run had no failed sites"


@dataclass(frozen=True, kw_only=True)
class HostResult:
    """One host's outcome. ``failed_task`` is the failed task's display name, for people;
    ``failed_action`` (the module's resolved name) and ``failed_role`` say which task it was,
    for programs: a task's display name can be reworded in a role at any time."""

    host: str
    status: str  # one of HOST_STATES: the worst that happened to the host in the run
    changed: int = 0
    failed_task: str = ""
    message: str = ""
    failed_action: str = ""
    failed_role: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskResult:
    """One task's result on one host, as ansible-runner's event carried it.

    Programs find a task by ``action`` (the module it ran, fully qualified when Ansible resolved
    it) and ``role`` (the role it lives in, "" for a play's own task), never by ``task``: the
    display name is for people and may be reworded.
    """

    host: str
    action: str
    role: str
    task: str
    status: str  # ok, changed, failed or unreachable
    item: bool  # one item of a loop (its loop's summary comes as its own result)
    res: dict[str, Any]
    seconds: float

    def is_action(self, *names: str) -> bool:
        """Whether the task ran one of ``names`` (a fully qualified name, or a short one that
        matches the last part of it: ``confprov_check`` is ``ansible.legacy.confprov_check``)."""
        return any(self.action == name or self.action.rsplit(".", 1)[-1] == name for name in names)


_TASK_EVENTS = {
    "runner_on_ok": False,
    "runner_on_failed": False,
    "runner_on_unreachable": False,
    "runner_item_on_ok": True,
}


def task_result(event: dict[str, Any]) -> TaskResult | None:
    """The task result an ansible-runner event carries (None for other events).

    The one parser of job events: the live collector and every reader of a run folder use it.
    """
    kind = str(event.get("event", ""))
    data = event.get("event_data") or {}
    if kind not in _TASK_EVENTS or not data.get("host"):
        return None
    res = data.get("res")
    res = res if isinstance(res, dict) else {}
    if kind == "runner_on_unreachable":
        status = "unreachable"
    elif kind == "runner_on_failed":
        status = "failed"
    else:
        status = "changed" if res.get("changed") else "ok"
    duration = data.get("duration")
    return TaskResult(
        host=str(data["host"]),
        action=str(data.get("resolved_action") or data.get("task_action") or ""),
        role=str(data.get("role") or ""),
        task=str(data.get("task") or ""),
        status=status,
        item=_TASK_EVENTS[kind],
        res=res,
        seconds=float(duration) if isinstance(duration, int | float) else 0.0,
    )


def task_results(
    run_dir: Path, *, actions: Collection[str] = (), role: str | None = None
) -> list[TaskResult]:
    """A finished run's task results from its own job events (the audit trail ansible-runner
    keeps in ``artifacts/*/job_events``), in the order they happened; only tasks that ran one
    of ``actions`` (any when empty) in ``role`` (any when None)."""
    out: list[tuple[int, TaskResult]] = []
    for path in run_dir.glob("artifacts/*/job_events/*.json"):
        event = json.loads(path.read_text(encoding="utf-8"))
        found = task_result(event)
        if found is None or (actions and not found.is_action(*actions)):
            continue
        if role is None or found.role == role:
            counter = event.get("counter")
            out.append((counter if isinstance(counter, int) else 0, found))
    return [found for _, found in sorted(out, key=lambda pair: pair[0])]


@dataclass(kw_only=True)
class RunResult:
    action: str
    run_dir: Path
    status: str  # ansible-runner's: successful, failed, timeout, canceled
    rc: int
    hosts: dict[str, HostResult] = field(default_factory=dict)
    # Spread over execution nodes (confprov.nodes): each slice, its node(s), re-sends.
    nodes: list[dict[str, Any]] = field(default_factory=list)

    def results(
        self, *, actions: Collection[str] = (), role: str | None = None
    ) -> list[TaskResult]:
        """This run's task results, by the module they ran and their role (task_results)."""
        return task_results(self.run_dir, actions=actions, role=role)

    @property
    def failed_hosts(self) -> list[HostResult]:
        return [h for h in self.hosts.values() if h.status in ("failed", "unreachable")]

    @property
    def changed_hosts(self) -> list[HostResult]:
        return [h for h in self.hosts.values() if h.changed]

    @property
    def ok(self) -> bool:
        return not self.failed_hosts and self.status == "successful"

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "run_dir": str(self.run_dir),
            "status": self.status,
            "rc": self.rc,
            "hosts": {name: asdict(h) for name, h in sorted(self.hosts.items())},
            **({"nodes": self.nodes} if self.nodes else {}),
        }

    def summary_text(self) -> str:
        counts = dict.fromkeys(HOST_STATES, 0)
        for host in self.hosts.values():
            counts[host.status] += 1
        changed = len(self.changed_hosts)
        lines = [
            f"{self.action}: {len(self.hosts)} hosts: {counts['ok'] + counts['changed']} ok "
            f"({changed} changed), {counts['failed']} failed, {counts['unreachable']} unreachable"
        ]
        if self.hosts and not changed and not self.failed_hosts:
            lines.append("nothing changed")
        lines.extend(
            f"  {h.status.upper():<11} {h.host}: {h.failed_task}: {h.message}"
            for h in sorted(self.failed_hosts, key=lambda h: h.host)
        )
        lines.extend(nodes_lines(self.nodes))
        lines.append(f"run folder: {self.run_dir}")
        return "\n".join(lines)


def nodes_lines(slices: list[dict[str, Any]]) -> list[str]:
    """What a spread run says of its execution nodes: where each slice ran, which was re-sent."""
    if not slices:
        return []
    where = ", ".join(f"{s['slice']} ({len(s['hosts'])} hosts) on {s['node']}" for s in slices)
    lines = [f"execution nodes: {where}"]
    for s in slices:
        lost = [a for a in s["attempts"] if a["status"] == "lost"]
        for a in lost:
            tag, fate = ("RE-SENT", f"re-run on {s['node']}")
            if s["status"] == "lost":
                tag, fate = ("LOST", "no node left to re-run it")
                if not s.get("resend", True):  # routers: never twice (confprov.nodes.Spread)
                    fate = "not re-sent: see each of its hosts"
            lines.append(
                f"  {tag:<11} {s['slice']}: node {a['node']} lost it ({a['reason']}); {fate}"
            )
    return lines


@dataclass(kw_only=True)
class Progress:
    """What a display needs, updated from events: hosts done, failed, unreachable; current task.

    ``total`` is the number of hosts the caller expects (0: unknown); confprov.cliargs draws it.
    """

    total: int = 0
    done: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    unreachable: set[str] = field(default_factory=set)
    task: str = ""


ProgressCallback = Callable[[Progress], None]


def _message(res: dict[str, Any]) -> str:
    if res.get("censored"):
        return str(res["censored"])
    for item in res.get("results") or []:  # a loop: the first failed item says why
        if isinstance(item, dict) and item.get("failed"):
            return _message(item)
    for key in ("msg", "stderr", "reason"):
        value = res.get(key)
        if value:
            return " ".join(str(value).split())[:300]
    return "failed"


class Collector:
    """Consumes runner events: per-host outcome, failed task and message, progress."""

    def __init__(self, progress: Progress, on_progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.on_progress = on_progress
        self.failures: dict[str, TaskResult] = {}
        self.stats: dict[str, dict[str, int]] = {}

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data", {})
        host = data.get("host", "")
        found = task_result(event)
        if kind == "playbook_on_task_start":
            self.progress.task = data.get("task", "")
        elif (
            found is not None
            and found.status in ("failed", "unreachable")
            and not data.get("ignore_errors")
        ):
            self.failures.setdefault(host, found)
            unreachable = found.status == "unreachable"
            (self.progress.unreachable if unreachable else self.progress.failed).add(host)
        elif kind == "playbook_on_stats":
            self.stats = {
                key: dict(data.get(key) or {})
                for key in ("ok", "changed", "failures", "dark", "skipped", "processed")
            }
            self.progress.done = set(self.stats.get("processed", {}))
        if kind in ("runner_on_ok", "runner_on_skipped") and host:
            self.progress.done.add(host)
        if self.on_progress is not None and kind.startswith(("runner_on", "playbook_on_task")):
            self.on_progress(self.progress)
        return True  # keep every event in the run folder's job_events/

    def hosts(self) -> dict[str, HostResult]:
        names = set(self.stats.get("processed", {})) | set(self.failures)
        out: dict[str, HostResult] = {}
        for name in names:
            changed = self.stats.get("changed", {}).get(name, 0)
            if name in self.failures:
                failed = self.failures[name]
                out[name] = HostResult(
                    host=name,
                    status=failed.status,
                    changed=changed,
                    failed_task=failed.task,
                    message=_message(failed.res),
                    failed_action=failed.action,
                    failed_role=failed.role,
                )
            elif self.stats.get("dark", {}).get(name):
                out[name] = HostResult(
                    host=name, status="unreachable", changed=changed, message="unreachable"
                )
            elif self.stats.get("failures", {}).get(name):
                out[name] = HostResult(
                    host=name, status="failed", changed=changed, message="failed"
                )
            elif changed:
                out[name] = HostResult(host=name, status="changed", changed=changed)
            elif self.stats.get("ok", {}).get(name):
                out[name] = HostResult(host=name, status="ok")
            else:
                out[name] = HostResult(host=name, status="skipped")
        return out


def new_run_dir(workspace: Path, action: str) -> Path:
    """A new folder under ``runs/`` (never through a link: see confprov.safefile)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = safefile.real_dir(workspace, RUNS_DIR)
    for n in range(100):
        run_dir = base / (f"{stamp}-{action}" if n == 0 else f"{stamp}-{action}-{n}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        return run_dir
    raise ConfprovError(f"cannot make a run folder under {base}")


def last_run(workspace: Path, action: str) -> dict[str, Any] | None:
    """The summary of the newest run of ``action``, if any."""
    base = workspace / RUNS_DIR
    if not base.is_dir():
        return None
    for run_dir in sorted(base.iterdir(), reverse=True):
        summary = run_dir / SUMMARY
        if summary.is_file():
            data: dict[str, Any] = json.loads(summary.read_text())
            if data.get("action") == action:
                return data
    return None


class NothingToRetry(ConfprovError):
    """``--retry-failed`` (verify: ``--failed-only``) found nothing to retry: every command
    says so in the same words and exits 0, running nothing (the run asked for has nothing to do,
    which is success)."""

    exit_code = 0

    def __init__(self, *, limited: bool) -> None:
        super().__init__(NOTHING_TO_RETRY + (" among those --limit selects" if limited else ""))


def retry_selection(failed: Iterable[str], within: Collection[str] | None = None) -> list[str]:
    """The one rule of ``--retry-failed`` for every command: what failed last time, inside
    ``--limit`` when one was given (``within``); NothingToRetry when that is nothing."""
    chosen = sorted(set(failed) if within is None else set(failed) & set(within))
    if not chosen:
        raise NothingToRetry(limited=within is not None)
    return chosen


def last_failed(workspace: Path, action: str) -> list[str]:
    """Hosts that failed or were unreachable in the last run of ``action`` (bad input when
    there was no such run: nothing to retry from)."""
    data = last_run(workspace, action)
    if data is None:
        raise InputError(
            [Problem(str(workspace / RUNS_DIR), None, None, f"no earlier '{action}' run to retry")]
        )
    return sorted(
        name for name, h in data["hosts"].items() if h["status"] in ("failed", "unreachable")
    )


def retry_limit(workspace: Path, action: str, within: Collection[str] | None = None) -> list[str]:
    """The hosts a ``--retry-failed`` run of ``action`` takes (see retry_selection)."""
    return retry_selection(last_failed(workspace, action), within)


def _environment(workspace: Path, run_dir: Path) -> dict[str, str]:
    env = {
        "ANSIBLE_ROLES_PATH": str(paths.roles_path()),
        "ANSIBLE_COLLECTIONS_PATH": str(paths.collections_path()),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_INTERPRETER_PYTHON": "auto_silent",
        "ANSIBLE_LOCAL_TEMP": str(run_dir / "tmp"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(Path.home() / ".ansible" / "cp"),
        "ANSIBLE_TIMEOUT": "10",
    }
    # ansible-playbook and ansible-galaxy from the same environment as confprov itself.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return env


def run_playbook(
    workspace: Path,
    playbook: str,
    *,
    action: str,
    limit: Sequence[str] = (),
    check: bool = False,
    diff: bool = False,
    forks: int = 20,
    extra_vars: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
    verbose: bool = False,
    total: int = 0,
    cancel: Callable[[], bool] | None = None,
    spread: Spread | None = None,
) -> RunResult:
    """Run one of confprov's playbooks against the workspace's rendered inventory.

    ``spread``: run it on execution nodes instead (confprov.nodes); None: here, as always.

    ``total`` is how many hosts the run covers, for the progress display (0: unknown).
    ``cancel``: asked by ansible-runner while the play runs (true: it kills the play). Given,
    ansible-runner leaves SIGINT/SIGTERM to the caller (``routers push`` stops between routers
    instead: killing its one module run mid-push is what it must never do).
    """
    inventory = workspace / "inventory"
    if not (inventory / "hosts.yml").is_file():
        raise InputError(
            [Problem(str(inventory), None, None, "no inventory: run `confprov inventory` first")]
        )
    cmdline = ["--forks", str(forks)]
    passwords: dict[str, str] = {}
    vault_path = vault.check_vault(workspace)  # refused before any run folder is made
    if vault_path is not None:
        # The plays load the vault themselves (vars_files: confprov_vault_file, default the
        # workspace's vault.yml), so an AWX Vault credential decrypts it; here only its password.
        cmdline.append("--ask-vault-password")
        password = vault.read_password(workspace)
        vault.decrypt(vault_path, password)  # a wrong password is bad input, said before the run
        passwords[_VAULT_PROMPT] = password
    # The vault as it is now, whenever the inventory was rendered: named when there is one (the
    # plays fail on a named vault that is missing), empty for a run without one.
    # Routers log in with the vault's login only, as confprov's own router checks: never as the
    # operator's ANSIBLE_REMOTE_USER (confprov.routers.targets.login).
    from confprov.routers.targets import LOGIN_FALLBACK

    extra_vars = {
        **(extra_vars or {}),
        "confprov_vault_file": str(vault_path or ""),
        LOGIN_FALLBACK: False,
    }
    run_dir = new_run_dir(workspace, action)
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    if verbose:
        cmdline.append("-v")
    progress = Progress(total=total)
    collector = Collector(progress, on_progress)
    envvars = _environment(workspace, run_dir)
    job: dict[str, Any] = {
        "private_data_dir": str(run_dir),
        "ident": "ansible",
        "playbook": str(paths.playbook(playbook)),
        "inventory": str(inventory),
        "limit": ",".join(limit) if limit else None,
        "cmdline": shlex.join(cmdline),
        "envvars": envvars,
        "extravars": extra_vars or None,
        "passwords": passwords,
        "suppress_env_files": True,
        "quiet": True,
        "settings": {"suppress_ansible_output": True},
    }
    if spread is not None:
        try:
            with _without_env(vault.PASSWORD_ENV):
                from confprov import nodes

                return nodes.run_spread(
                    action, run_dir, job, spread, progress=progress, on_progress=on_progress
                )
        finally:
            _scrub_environment(run_dir, envvars)
    try:
        with _without_env(vault.PASSWORD_ENV):
            runner = _run(
                **job,
                event_handler=collector,
                **({"cancel_callback": cancel} if cancel is not None else {}),
            )
    finally:
        _scrub_environment(run_dir, envvars)
    result = RunResult(
        action=action,
        run_dir=run_dir,
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else 3),
        hosts=collector.hosts(),
    )
    safefile.replace(run_dir / SUMMARY, json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    if not result.hosts and result.rc != 0:
        raise ConfprovError(f"{action}: Ansible did not run:\n{_tail(runner.stdout)}\n({run_dir})")
    return result


def _scrub_environment(run_dir: Path, envvars: dict[str, str]) -> None:
    """ansible-runner records the controller's whole environment in ``artifacts/*/command``:
    keep only what confprov itself set (cloud keys, tokens, proxies of the operator's shell are
    none of the run's business and must not sit in a run folder)."""
    for command in (*run_dir.glob("artifacts/*/command"), *run_dir.glob("nodes/*/command")):
        if command.is_symlink() or not command.is_file():
            continue
        try:
            data = json.loads(command.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        env = data.get("env") if isinstance(data, dict) else None
        if isinstance(env, dict):
            data["env"] = {key: value for key, value in env.items() if key in envvars}
            safefile.replace(command, json.dumps(data, ensure_ascii=False), mode=0o600)


def _tail(stream: Any, lines: int = 15) -> str:
    text = stream.read() if hasattr(stream, "read") else str(stream or "")
    return "\n".join(text.strip().splitlines()[-lines:])


@contextlib.contextmanager
def _without_env(name: str) -> Iterator[None]:
    """ansible-runner copies os.environ into its artifacts: keep a secret variable out of it."""
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[name] = saved


def _run(**kwargs: Any) -> Any:
    import ansible_runner  # heavy import, only when a run happens

    return ansible_runner.run(**kwargs)
