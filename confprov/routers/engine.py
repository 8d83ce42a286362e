"""Plan, push, roll back and check routers: one function per router, a thread pool over many.

A push on one router: read the running config; diff against the candidate; if nothing is missing,
stop (idempotence: no backup, no change). Else keep the running config as a backup, send only
what is missing (stopping at the first line the router refuses), check that the router still
answers and every intended line is there, confirm (where the platform has a confirmed commit),
save. A refusal or a failed check reverts to the backup on its own and says so: first what the
device can undo itself (IOS ``configure revert now``, Junos ``rollback 0``/``rollback 1``), then
confprov's diff-based revert, which also proves the result. Whatever way a push ends, nothing it
opened stays open (``Armed``, ``_disarm``): no IOS revert timer, no Junos candidate.

Every router runs in its own worker with its own timeouts; an exception in one becomes that
router's result, never the others'.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from confprov.exceptions import ConfprovError
from confprov.routers import backups
from confprov.routers.configdiff import Change, Dialect, dialect, leaves
from confprov.routers.configdiff import LinePath as Stmt
from confprov.routers.device import (
    FAILED,
    UNREACHABLE,
    DeviceError,
    HostKeyStore,
    Session,
    Timeouts,
    classify,
    connect,
)
from confprov.routers.platforms import Platform, platform
from confprov.routers.render import Conference, RouterTarget, render
from confprov.routers.settings import DEFAULTS, RouterSettings

ACTIONS = ("plan", "push", "rollback", "rollback-plan", "check")
OK, CHANGED = "ok", "changed"
# Not started: the run was stopped (SIGINT, SIGTERM, SIGHUP, or the CLI's stop file) before this
# router's turn; nothing was sent to it. Counted as failed: --retry-failed takes it up.
INTERRUPTED = "interrupted"
# Between two attempts to open a session: 0.5 s, then 1 s, 2 s … (tenacity), at most this.
RETRY_WAIT_MAX = 4.0
# Test hook (tests/lab/test_routers.py): hold a push at a known point. A folder; a router whose
# ``<host>.hold`` is in it stops after its lines were sent, before its check, writes
# ``<host>.held`` and waits for ``<host>.go``. Unset in any real run.
HOLD_ENV = "CONFPROV_ROUTERS_HOLD"


@dataclass
class RouterResult:
    host: str
    address: str = ""
    platform: str = ""
    status: str = OK  # ok, changed, failed, unreachable
    changed: bool = False
    diff: str = ""  # +/- lines: what the action did (or, for plan, would do)
    commands: list[str] = field(default_factory=list)
    backup: str = ""  # the backup taken before changing (push) or restored (rollback)
    reverted: bool = False  # a failed push was undone
    missing: list[str] = field(default_factory=list)  # intended lines not on the router
    message: str = ""
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in (FAILED, UNREACHABLE, INTERRUPTED)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed"] = self.failed
        return data


@dataclass(frozen=True)
class Options:
    """One run's settings as the engine uses them (derived from RouterSettings), and where."""

    workspace: Path
    known_hosts: Path
    timeouts: Timeouts = field(default_factory=Timeouts)
    workers: int = DEFAULTS.workers
    session_dir: Path | None = None
    confirm_minutes: int = DEFAULTS.confirm_minutes  # IOS revert timer / Junos commit confirmed
    connect_attempts: int = DEFAULTS.connect_attempts  # before any line is sent, never after

    @classmethod
    def of(
        cls,
        settings: RouterSettings,
        *,
        workspace: Path,
        known_hosts: Path,
        session_dir: Path | None = None,
    ) -> Options:
        return cls(
            workspace=workspace,
            known_hosts=known_hosts,
            timeouts=Timeouts.of(settings),
            workers=settings.workers,
            session_dir=session_dir,
            confirm_minutes=settings.confirm_minutes,
            connect_attempts=settings.connect_attempts,
        )


class Rejected(Exception):
    """The router refused a line, or a save, or a check failed."""


# --------------------------------------------------------------------------- one router


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def read_running(conn: Any, plat: Platform, opts: Options) -> str:
    return _text(conn.send_command(plat.show_running, read_timeout=opts.timeouts.command))


def _refusal(plat: Platform, output: str) -> str:
    match = plat.error_re.search(output)
    return match.group(0).strip() if match else ""


def _send(conn: Any, plat: Platform, commands: list[str], opts: Options, **kwargs: Any) -> str:
    """Send config lines, stopping at the first one the router refuses (Rejected)."""
    from netmiko.exceptions import ConfigInvalidException

    try:
        output = conn.send_config_set(
            commands,
            error_pattern=plat.error_pattern,
            read_timeout=opts.timeouts.command,
            **kwargs,
        )
    except ConfigInvalidException as exc:
        if kwargs.get("exit_config_mode", True):  # else (Junos) the caller rolls back first
            with contextlib.suppress(Exception):  # the revert reads the state anew anyway
                conn.exit_config_mode()
        detail = " ".join(str(exc).split())
        detail = re.sub(r"^Invalid input detected at command: ", "refused: ", detail)
        raise Rejected(detail) from None
    refusal = _refusal(plat, _text(output))
    if refusal:
        raise Rejected(f"refused: {refusal}")
    return _text(output)


@dataclass
class Armed:
    """What a push has left open on the device, to be closed on every way out of it.

    ``timer``: an IOS ``configure terminal revert timer`` session not yet confirmed (set before
    the first line is sent: a refusal inside it leaves it armed). ``candidate``: Junos is in
    ``configure exclusive`` with changes not committed. ``unconfirmed``: Junos holds a
    ``commit confirmed`` not yet confirmed.
    """

    timer: bool = False
    candidate: bool = False
    unconfirmed: bool = False


def _enter_exclusive(conn: Any, plat: Platform) -> None:
    """Junos `configure exclusive`; a lock held by someone else is a refusal, said so."""
    out = _text(conn.send_command(plat.exclusive_command, expect_string=r"[>#]\s*$"))
    if "error:" in out or not conn.check_config_mode():
        detail = " ".join(out.split())
        raise Rejected(f"`{plat.exclusive_command}` refused: {detail[:200]}")


def _commit(conn: Any, plat: Platform, **kwargs: Any) -> None:
    """netmiko raises ValueError when Junos refuses a commit (its text holds the reasons)."""
    try:
        out = _text(conn.commit(**kwargs))
    except ValueError as exc:
        errors = [ln.strip() for ln in str(exc).splitlines() if plat.error_re.search(ln.strip())]
        raise Rejected(
            f"commit refused: {'; '.join(errors) or ' '.join(str(exc).split())}"
        ) from None
    if _refusal(plat, out):
        raise Rejected(f"commit refused: {_refusal(plat, out)}")


def _leave_candidate(conn: Any, armed: Armed) -> None:
    """Junos: drop what is not committed (`rollback 0`), then leave config mode."""
    if armed.candidate:
        conn.send_command("rollback 0", expect_string=r"#\s*$")
        conn.exit_config_mode()
        armed.candidate = False


def _apply(
    conn: Any, plat: Platform, d: Dialect, change: Change, opts: Options, *, armed: Armed
) -> None:
    """Apply ``change``; ``armed`` says what now waits for a confirmation."""
    if plat.commit == "confirmed":  # Junos: locked candidate, then commit confirmed
        _enter_exclusive(conn, plat)
        armed.candidate = True
        _send(conn, plat, d.commands(change), opts, enter_config_mode=False, exit_config_mode=False)
        _commit(conn, plat, confirm=True, confirm_delay=opts.confirm_minutes)
        armed.candidate, armed.unconfirmed = False, True
        conn.exit_config_mode()
        return
    if plat.config_mode_command:  # IOS: the archive first, then a change with a revert timer
        first = Change(add=[p for p in change.add if p[0] == plat.prelude])
        rest = Change(add=[p for p in change.add if p[0] != plat.prelude], remove=change.remove)
        if first:
            _send(conn, plat, d.commands(first), opts)
        if rest:
            mode = plat.config_mode_command.format(minutes=opts.confirm_minutes)
            armed.timer = True  # from here on, every way out disarms it (see _disarm)
            _send(conn, plat, d.commands(rest), opts, config_mode_command=mode)
        return
    _send(conn, plat, d.commands(change), opts)


def _confirm(conn: Any, plat: Platform, armed: Armed) -> None:
    if armed.unconfirmed:
        _enter_exclusive(conn, plat)
        armed.candidate = True
        _commit(conn, plat)
        armed.candidate = armed.unconfirmed = False
        conn.exit_config_mode()
    elif armed.timer:
        out = _text(conn.send_command(plat.confirm_command))
        if _refusal(plat, out):
            raise Rejected(f"confirm refused: {_refusal(plat, out)}")
        armed.timer = False


def _undo_armed(conn: Any, plat: Platform, armed: Armed) -> None:
    """Undo what the device itself can undo: IOS `configure revert now` (back to the archive
    taken when the timer was armed, and the timer stops), Junos `rollback 0` of an uncommitted
    candidate or `rollback 1` + commit of an unconfirmed commit."""
    if armed.timer:
        conn.send_command("configure revert now", expect_string=r"#")
        armed.timer = False
    _leave_candidate(conn, armed)
    if armed.unconfirmed:
        _enter_exclusive(conn, plat)
        armed.candidate = True
        conn.send_command("rollback 1", expect_string=r"#\s*$")
        _commit(conn, plat)
        armed.candidate = armed.unconfirmed = False
        conn.exit_config_mode()


def _disarm(conn: Any, plat: Platform, armed: Armed) -> None:
    """Last resort on an unexpected way out (a bug, a lost session): never leave a timer or a
    candidate behind for the next push or the next operator. Errors are swallowed: a dead
    session cannot be disarmed, and then the device's own timer reverts the change."""
    if armed.timer or armed.candidate or armed.unconfirmed:
        with contextlib.suppress(Exception):
            _undo_armed(conn, plat, armed)


def _save(conn: Any, plat: Platform, opts: Options) -> None:
    if not plat.save:
        return
    if plat.save_command:
        out = _text(conn.send_command(plat.save_command, read_timeout=opts.timeouts.command))
    else:
        out = _text(conn.save_config())
    if not re.search(plat.save_ok, out, re.IGNORECASE):
        raise Rejected(f"save failed: {' '.join(out.split())[-200:]}")


def _touching(d: Dialect, change: Change, paths: list[Stmt]) -> list[Stmt]:
    """The paths that concern what ``change`` did (see ``Dialect.touches``)."""
    touched = [*change.add, *change.remove]
    return [p for p in paths if any(d.touches(t, p) for t in touched)]


def _restore(
    conn: Any,
    plat: Platform,
    d: Dialect,
    target: list[Stmt],
    opts: Options,
    *,
    only: Change | None = None,
) -> tuple[Change, str]:
    """Bring the running config back to ``target`` (only what ``only`` touched, if given)."""
    now = read_running(conn, plat, opts)
    back = d.between(d.statements(now), target)
    if only is not None:
        back = Change(add=_touching(d, only, back.add), remove=_touching(d, only, back.remove))
    if back:
        if plat.commit == "confirmed":  # Junos: locked candidate, commit, then leave
            armed = Armed()
            try:
                _enter_exclusive(conn, plat)
                armed.candidate = True
                cmds = d.commands(back)
                _send(conn, plat, cmds, opts, enter_config_mode=False, exit_config_mode=False)
                _commit(conn, plat)
                armed.candidate = False
                conn.exit_config_mode()
            finally:
                _disarm(conn, plat, armed)
        else:
            _send(conn, plat, d.commands(back), opts)
        now = read_running(conn, plat, opts)
    return back, now


def _same(plat: Platform, d: Dialect, a: str, b: str) -> str:
    """'exactly' (same text but volatile lines), 'equivalent' (same statements, those that act
    by their place in the same order: `Dialect.ordered`) or ''."""
    volatile = plat.volatile_re

    def clean(text: str) -> list[str]:
        return [ln.rstrip() for ln in text.strip().splitlines() if not volatile.match(ln.strip())]

    if clean(a) == clean(b):
        return "exactly"
    # Same statements, in any order but that of rules acting by their place (RouterOS filter
    # rules, IOS 15 ACL entries): a re-added route or IOS-XE numbered entry prints where the
    # device puts it and means the same.
    return "equivalent" if _order_free(d, a) == _order_free(d, b) else ""


def _order_free(d: Dialect, text: str) -> tuple[list[Stmt], list[Stmt]]:
    """A config's statements in any order, and those that act by their place, in order."""
    stmts = d.statements(text)
    return sorted(stmts), [p for p in stmts if d.ordered(p)]


def _revert(
    conn: Any,
    plat: Platform,
    d: Dialect,
    before: str,
    change: Change,
    *,
    opts: Options,
    armed: Armed,
) -> str:
    """Undo a failed push; returns how it went, for the message."""
    _undo_armed(conn, plat, armed)
    _, now = _restore(conn, plat, d, d.statements(before), opts, only=change)
    how = _same(plat, d, _restrict(d, before, change), _restrict(d, now, change))
    if not how:
        raise Rejected("revert did not restore the backup: see the backup and the session log")
    return "reverted to the backup"


def _restrict(d: Dialect, text: str, change: Change) -> str:
    return "\n".join(" / ".join(p) for p in _touching(d, change, d.statements(text)))


def _require_present(missing: list[str]) -> None:
    if missing:
        raise Rejected(f"{len(missing)} intended line(s) missing after the push")


def push_router(
    conn: Any, target: RouterTarget, candidate: str, opts: Options, result: RouterResult
) -> RouterResult:
    plat = platform(target.platform)
    d = dialect(plat)
    want = d.statements(candidate)
    before = read_running(conn, plat, opts)
    change = d.missing(want, d.statements(before))
    result.diff = change.text()
    if not change:
        result.message = "no change: every intended line is already there" + _noted(change)
        return result
    result.commands = d.commands(change)
    result.backup = str(backups.save(opts.workspace, target.host, before).path)
    armed = Armed()
    try:
        try:
            _apply(conn, plat, d, change, opts, armed=armed)
            _hold(target.host)
            after = read_running(conn, plat, opts)  # also proves the router still answers
            result.missing = [" / ".join(p) for p in d.absent(want, d.statements(after))]
            _require_present(result.missing)
            _confirm(conn, plat, armed)
            _save(conn, plat, opts)
        except Rejected as exc:
            result.status = FAILED
            try:
                how = _revert(conn, plat, d, before, change, opts=opts, armed=armed)
                result.reverted = True
                result.message = f"{exc}; {how} ({Path(result.backup).name})"
            except (Rejected, DeviceError, OSError, EOFError, ValueError) as again:
                result.message = (
                    f"{exc}; REVERT FAILED ({again}): the router may hold part of the change; "
                    f"backup {result.backup}; `confprov routers rollback --limit {target.host}`"
                )
            return result
    finally:
        _disarm(conn, plat, armed)
    result.status = CHANGED
    result.changed = True
    result.message = (
        f"{len(leaves(change.add))} line(s) added, {len(change.remove)} removed" + _noted(change)
    )
    return result


def _hold(host: str) -> None:
    """The test hook of :data:`HOLD_ENV` (a no-op unless a test set it)."""
    folder = os.environ.get(HOLD_ENV)
    if not folder or not (Path(folder) / f"{host}.hold").exists():
        return
    (Path(folder) / f"{host}.held").touch()
    deadline = time.monotonic() + 300
    while not (Path(folder) / f"{host}.go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def left_in(result: RouterResult, action: str) -> str:
    """The state a push (or rollback) left the router in, for an operator who stopped the run."""
    simple = {
        INTERRUPTED: "unchanged (not started: the run was interrupted)",
        CHANGED: "pushed and confirmed" if action == "push" else "restored and saved",
        OK: "unchanged (nothing to change)",
    }
    if result.status in simple:
        return simple[result.status]
    if result.reverted:
        return "unchanged (reverted to the backup)"
    if action == "push" and not result.backup:  # the backup is taken before the first line
        return "unchanged (nothing was sent)"
    if result.status == UNREACHABLE and result.platform in SELF_REVERTING:
        return f"reverting on its own timer ({SELF_REVERTING[result.platform]})"
    return "MAY HOLD PART OF THE CHANGE: see the message and the backup"


# Platforms whose device undoes an unconfirmed change by itself (docs/routers.md).
SELF_REVERTING = {
    "cisco_ios": "configure terminal revert timer",
    "juniper_junos": "commit confirmed",
}


def _noted(change: Change) -> str:
    """What the plan left alone, for the one-line message (the diff lists each)."""
    return (
        f"; {len(change.notes)} related line(s) not confprov's, left alone" if change.notes else ""
    )


def plan_router(
    conn: Any, target: RouterTarget, candidate: str, opts: Options, result: RouterResult
) -> RouterResult:
    plat = platform(target.platform)
    d = dialect(plat)
    running = read_running(conn, plat, opts)
    change = d.missing(d.statements(candidate), d.statements(running))
    result.diff = change.text()
    result.commands = d.commands(change)
    result.changed = bool(change)
    result.status = CHANGED if change else OK
    result.message = (
        f"would add {len(leaves(change.add))} line(s), remove {len(change.remove)}"
        if change
        else "no change"
    ) + _noted(change)
    return result


def check_router(
    conn: Any, target: RouterTarget, candidate: str, opts: Options, result: RouterResult
) -> RouterResult:
    plat = platform(target.platform)
    d = dialect(plat)
    running = read_running(conn, plat, opts)
    absent = d.absent(d.statements(candidate), d.statements(running))
    result.missing = [" / ".join(p) for p in absent]
    if absent:
        result.status = FAILED
        result.message = f"{len(absent)} intended line(s) missing: run `confprov routers push`"
    else:
        result.message = "every intended line is there"
    return result


def rollback_router(
    conn: Any,
    target: RouterTarget,
    backup: backups.Backup,
    opts: Options,
    result: RouterResult,
    *,
    dry: bool = False,
) -> RouterResult:
    plat = platform(target.platform)
    d = dialect(plat)
    result.backup = str(backup.path)
    saved = backup.text()
    if dry:
        back = d.between(d.statements(read_running(conn, plat, opts)), d.statements(saved))
        result.diff, result.commands = back.text(), d.commands(back)
        result.changed = bool(back)
        result.status = CHANGED if back else OK
        result.message = f"would restore {backup.name}" if back else f"already = {backup.name}"
        return result
    back, now = _restore(conn, plat, d, d.statements(saved), opts)
    result.diff = back.text()
    result.commands = d.commands(back)
    how = _same(plat, d, saved, now)
    if not how:
        result.status = FAILED
        result.message = "running config still differs from the backup after the rollback"
        if sorted(d.statements(saved)) == sorted(d.statements(now)):
            result.message += ": the same rules in another order (move them by hand)"
        still = d.between(d.statements(now), d.statements(saved))
        result.missing = [" / ".join(p) for p in still.add]
        return result
    if back:
        _save(conn, plat, opts)
        result.changed = True
        result.status = CHANGED
    result.message = f"running config = backup {backup.name} ({how})"
    return result


# --------------------------------------------------------------------------- many routers


@dataclass(frozen=True)
class Job:
    target: RouterTarget
    backup: str | None = None  # rollback: which backup (None: the newest)


Connector = Callable[[RouterTarget, Options], Session]


def _transient(exc: BaseException) -> bool:
    """Worth another attempt: no answer, a lost or timed-out login. Never a refused host key or
    login (``failed``): trying again would not change it."""
    return isinstance(exc, DeviceError) and exc.kind == UNREACHABLE


def _connector(opts: Options) -> tuple[Connector, Callable[[], None]]:
    """Sessions for one run: the known_hosts file is read once for all of them.

    Opening a session is retried (tenacity, ``opts.connect_attempts``, exponential backoff) when
    the router did not answer: that is before any line is sent. Once a session is open, nothing
    is retried: a session lost mid-push is reported (the platform's own timer or a rollback
    undoes it), never pushed again on a new one.
    """
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    store = HostKeyStore(opts.known_hosts)

    def open_session(target: RouterTarget, opts: Options) -> Session:
        log = opts.session_dir / f"{target.host}.log" if opts.session_dir else None
        retrying = Retrying(
            stop=stop_after_attempt(opts.connect_attempts),
            wait=wait_exponential(multiplier=0.5, max=RETRY_WAIT_MAX),
            retry=retry_if_exception(_transient),
            reraise=True,
        )
        try:
            return retrying(connect, target, store, opts.timeouts, log)
        except DeviceError as exc:
            tries = retrying.statistics.get("attempt_number", 1)
            if tries > 1:
                raise DeviceError(exc.kind, f"{exc} ({tries} attempts)") from None
            raise

    return open_session, store.close


def run_one(
    action: str,
    job: Job,
    conference: Conference,
    opts: Options,
    connector: Connector,
    *,
    stop: Callable[[], bool] | None = None,
) -> RouterResult:
    """One router, start to end; every failure becomes its result."""
    started = time.monotonic()
    target = job.target
    result = RouterResult(target.host, target.address, target.platform)
    if stop is not None and stop():
        result.status = INTERRUPTED
        result.message = "not started: the run was interrupted; nothing was sent to it"
        return result
    try:
        backup = None
        candidate = ""
        if action.startswith("rollback"):
            backup = backups.choose(opts.workspace, target.host, job.backup)
        else:
            candidate = render(target, conference)
        session = connector(target, opts)
        try:
            if action == "push":
                push_router(session.conn, target, candidate, opts, result)
            elif action == "plan":
                plan_router(session.conn, target, candidate, opts, result)
            elif action == "check":
                check_router(session.conn, target, candidate, opts, result)
            else:
                assert backup is not None
                dry = action == "rollback-plan"
                rollback_router(session.conn, target, backup, opts, result, dry=dry)
        finally:
            session.close()
    except DeviceError as exc:
        result.status, result.message = exc.kind, str(exc)
    except (ConfprovError, Rejected) as exc:
        result.status, result.message = FAILED, str(exc)
    except Exception as exc:  # noqa: BLE001 - one router's surprise must not stop the others
        err = classify(exc, target)
        result.status, result.message = err.kind, str(err)
    if action == "push" and result.status == UNREACHABLE and result.backup:
        result.message += (
            f"; the change may be half applied ({platform(target.platform).revert}); backup "
            f"{result.backup}; when it answers: `confprov routers rollback --limit {target.host}`"
        )
    result.seconds = round(time.monotonic() - started, 3)
    return result


def run(
    action: str,
    jobs: list[Job],
    conference: Conference,
    opts: Options,
    connector: Connector | None = None,
    *,
    stop: Callable[[], bool] | None = None,
    on_result: Callable[[RouterResult], None] | None = None,
) -> dict[str, RouterResult]:
    """Every router at once (``opts.workers`` at a time); results by host, in job order.

    ``stop``: asked before each router starts; once true, the routers not yet started are
    ``interrupted`` (nothing sent) while those under way finish (pushed and confirmed, or
    reverted): a run is stopped between routers, never inside one. ``on_result`` is called
    with each router's result as it ends (from its worker thread): progress.
    """
    if action not in ACTIONS:
        raise ValueError(action)
    if opts.session_dir is not None:
        opts.session_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    close: Callable[[], None] = lambda: None  # noqa: E731
    if connector is None:
        connector, close = _connector(opts)
    workers = max(1, min(opts.workers, len(jobs)))

    def _one(
        action: str, job: Job, conference: Conference, opts: Options, connector: Connector
    ) -> RouterResult:
        result = run_one(action, job, conference, opts, connector, stop=stop)
        if on_result is not None:
            with contextlib.suppress(Exception):  # a display must never cost a router's result
                on_result(result)
        return result

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="router") as pool:
            results = list(
                pool.map(lambda job: _one(action, job, conference, opts, connector), jobs)
            )
    finally:
        close()
    return {r.host: r for r in results}


@contextlib.contextmanager
def stop_on_signals(stop_file: Path | None = None) -> Iterator[Callable[[], bool]]:
    """A ``stop`` for :func:`run`: true once SIGINT, SIGTERM or SIGHUP arrived, or ``stop_file``
    exists (how the CLI, whose Ctrl-C does not reach the play's processes, says stop).

    The signals' handlers (main thread only) only set the flag: routers under way finish.
    """
    flag = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, lambda *_: flag.set())
    try:
        yield lambda: flag.is_set() or (stop_file is not None and stop_file.exists())
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
