"""Restore one site from the board or the CLI, through the commands an operator would type.

Each action is the existing command's own function with the site as its ``--limit``
(confprov.selection resolves it exactly as on the command line):

- ``verify``: ``confprov verify --limit SITE`` (confprov.verify.run.verify);
- ``router``: ``confprov routers push --limit SITE`` (confprov.routers.run.run_routers);
- ``client``: ``confprov provision --limit SITE`` (installs the client again if it is missing or
  drifted), then starts the client where the watch agent reports it is not running.

One action per site at a time, across processes (the board and ``confprov watch restore``): a
lock file per site under ``WS/.watch/locks/`` held with ``flock`` for the action's length, holding
what runs, who started it and when, so a second request is told exactly that. Every action is
audited in the watch's event log (``record_action``): once when it starts, once with its result.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confprov.exceptions import ConfprovError

ACTIONS = ("verify", "router", "client")
LOCKS = Path(".watch") / "locks"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str

    def text(self) -> str:
        return f"{'ok' if self.ok else 'failed'}: {self.message}"


Runner = Callable[[Path, str], Outcome]
Recorder = Callable[[str, str, str, str], None]  # site, action, who, result


class Busy(ConfprovError):
    """Another action runs on this site (exit 1 on the CLI, 409 on the board)."""

    exit_code = 1

    def __init__(self, site: str, running: dict[str, Any]) -> None:
        since = time.strftime("%H:%M:%S", time.localtime(float(running.get("started", 0))))
        super().__init__(
            f"{site}: {running.get('action', '?')} is already running "
            f"(started by {running.get('who', '?')} at {since}); wait for it to finish"
        )
        self.running = running


def run_verify(workspace: Path, site: str) -> Outcome:
    from confprov.verify.run import verify

    outcome = verify(workspace, limit=[site])
    if outcome is None or not outcome.sites:
        return Outcome(False, "verify selected no endpoint of this site")
    bad = [s for s in outcome.sites if not s.ready]
    if not bad:
        return Outcome(True, f"ready (verify run {outcome.run.id})")
    reasons = "; ".join(s.reason() for s in bad)
    return Outcome(False, f"not ready (verify run {outcome.run.id}): {reasons}"[:400])


def run_router(workspace: Path, site: str) -> Outcome:
    from confprov.routers.run import run_routers

    outcome = run_routers(workspace, "push", limits=[site])
    first = outcome.summary().splitlines()[0]
    if outcome.failed:
        why = "; ".join(f"{r.host}: {r.message}" for r in outcome.failed)
        return Outcome(False, f"{first}; {why}"[:400])
    return Outcome(True, first)


# How each client profile starts detached, without a terminal ({home}: the operator's home).
# A profile not listed is provisioned only: its autostart entry starts it at the next login.
CLIENT_START: dict[str, tuple[str, ...]] = {
    "baresip": ("/usr/bin/baresip", "-d", "-f", "{home}/.baresip"),
}


def run_client(workspace: Path, site: str) -> Outcome:
    from confprov import runner
    from confprov.provision.run import provision
    from confprov.watch.deploy import client_process
    from confprov.workspace import load

    outcome = provision(workspace, limits=[site])
    result = outcome.result
    if result is None:
        return Outcome(False, "; ".join(outcome.notes) or "provision did nothing")
    first = result.summary_text().splitlines()[0]
    if not result.ok:
        return Outcome(False, first)
    loaded = load(workspace)
    start = CLIENT_START.get(loaded.config.client.profile)
    if start is None:
        return Outcome(True, f"{first}; the client starts at the operator's next login")
    hosts = [h for h, s in result.hosts.items() if s.status in ("ok", "changed")]
    home = f"/home/{loaded.registry.by_slug()[site].endpoint_user}"  # the role's default home
    started = runner.run_playbook(
        workspace,
        "watch_client.yml",
        action="watch-client",
        limit=hosts,
        extra_vars={
            "confprov_client_process": client_process(loaded.config),
            "confprov_client_start": [a.format(home=home) for a in start],
        },
    )
    how = started.summary_text().splitlines()[0]
    changed = sorted(h for h, s in started.hosts.items() if s.status == "changed")
    said = f"started on {', '.join(changed)}" if changed else "it was running"
    return Outcome(started.ok, f"{first}; {how}; {said}")


RUNNERS: dict[str, Runner] = {"verify": run_verify, "router": run_router, "client": run_client}


class Restorer:
    """Starts actions (in a thread for the board, in the caller for the CLI), one per site."""

    def __init__(
        self,
        workspace: Path,
        record: Recorder,
        runners: dict[str, Runner] | None = None,
        on_done: Callable[[str, str, Outcome], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.record = record
        self.runners = runners or RUNNERS
        self.on_done = on_done
        self._lock = threading.Lock()
        self._running: dict[str, dict[str, Any]] = {}
        self.last: dict[str, dict[str, Any]] = {}  # site -> the last finished action

    def _acquire(self, site: str, action: str, who: str) -> tuple[int, dict[str, Any]]:
        folder = self.workspace / LOCKS
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / f"{site}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raw = os.pread(fd, 4096, 0)
            os.close(fd)
            try:
                running = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                running = {}
            raise Busy(site, running) from None
        info = {
            "site": site,
            "action": action,
            "who": who,
            "started": time.time(),
            "pid": os.getpid(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        return fd, info

    def running(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {site: dict(info) for site, info in self._running.items()}

    def finished(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {site: dict(info) for site, info in self.last.items()}

    def _do(self, fd: int, info: dict[str, Any]) -> Outcome:
        site, action, who = info["site"], info["action"], info["who"]
        try:
            try:
                outcome = self.runners[action](self.workspace, site)
            except ConfprovError as exc:
                outcome = Outcome(False, str(exc)[:400])
            except Exception as exc:  # noqa: BLE001 - a crash is a failed action, audited
                outcome = Outcome(False, f"internal error: {type(exc).__name__}: {exc}"[:400])
            self.record(site, action, who, outcome.text())
            finished = {**info, "finished": time.time(), "ok": outcome.ok, "result": outcome.text()}
            with self._lock:
                self.last[site] = finished
            if self.on_done:
                self.on_done(site, action, outcome)
            return outcome
        finally:
            with self._lock:
                self._running.pop(site, None)
            os.ftruncate(fd, 0)
            os.close(fd)  # releases the flock

    def _begin(self, site: str, action: str, who: str) -> tuple[int, dict[str, Any]]:
        if action not in self.runners:
            raise ConfprovError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
        fd, info = self._acquire(site, action, who)
        with self._lock:
            self._running[site] = info
        self.record(site, action, who, "started")
        return fd, info

    def start(self, site: str, action: str, who: str) -> dict[str, Any]:
        """Start in a thread and return at once; raise Busy if this site has one running."""
        fd, info = self._begin(site, action, who)
        threading.Thread(
            target=self._do, args=(fd, info), name=f"restore-{site}", daemon=True
        ).start()
        return info

    def run(self, site: str, action: str, who: str) -> Outcome:
        """Run to the end in the caller (the CLI); raise Busy if this site has one running."""
        fd, info = self._begin(site, action, who)
        return self._do(fd, info)
