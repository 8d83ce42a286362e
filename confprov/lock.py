"""The workspace lock: two commands that write one workspace never interleave.

Every command that writes a workspace (inventory, runs, backups, known_hosts, the results
database, the mirror) holds an exclusive ``fcntl.flock`` on ``<workspace>/.confprov.lock`` for
its whole run. A second such command does not wait by default: it exits 2 at once, naming the
PID and command line of the first (written into the lock file by its holder), so an operator
never wonders why nothing happens. ``CONFPROV_LOCK_WAIT=SECONDS`` makes it wait that long first.

The kernel drops the lock when its holder exits, however it exits (even ``kill -9``): a stale
lock file is harmless, and there is nothing to clean up by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from confprov.exceptions import ConfprovError

LOCK_NAME = ".confprov.lock"
WAIT_ENV = "CONFPROV_LOCK_WAIT"

# Commands (``command`` or ``command subcommand``) that write into a workspace. The others only
# read (check, report, survey, routers backups) or make a new one (init, lab up, demo).
WRITERS = frozenset(
    {
        "inventory",
        "provision",
        "mirror",
        "verify",
        "trust",
        "routers plan",
        "routers push",
        "routers rollback",
        "routers check",
    }
)

_held: dict[Path, int] = {}  # workspace → depth: a command calling another keeps one lock


class Busy(ConfprovError):
    """Another confprov command is writing this workspace. Exit 2: run again when it ends."""

    exit_code = 2


def command_of(args: argparse.Namespace) -> str:
    """``routers push`` from parsed arguments (a sub-command's ``dest`` is ``<cmd>_command``)."""
    command = str(getattr(args, "command", "") or "")
    sub = getattr(args, f"{command}_command", None)
    return f"{command} {sub}" if sub else command


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode("utf-8", "replace") or "{}")
        return f"PID {info['pid']} (`{info['command']}`, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another confprov command"


@contextlib.contextmanager
def workspace_lock(workspace: Path, command: str, wait: float | None = None) -> Iterator[None]:
    """Hold the workspace's lock for the block; raise :class:`Busy` if another process has it."""
    workspace = workspace.resolve()
    if workspace in _held:
        _held[workspace] += 1
        try:
            yield
        finally:
            _held[workspace] -= 1
        return
    if not workspace.is_dir():
        yield  # no workspace yet: the command reports that itself
        return
    if wait is None:
        try:
            wait = float(os.environ.get(WAIT_ENV, "0") or 0)
        except ValueError:
            wait = 0.0
    path = workspace / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(
                        f"workspace {workspace} is busy: {_holder(fd)} is writing it; "
                        f"run this again when it has finished (or set {WAIT_ENV}=SECONDS to wait)"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        info = {
            "pid": os.getpid(),
            "command": f"confprov {command}",
            "since": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        os.write(fd, json.dumps(info).encode())
        _held[workspace] = 1
        try:
            yield
        finally:
            del _held[workspace]
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextlib.contextmanager
def for_command(
    args: argparse.Namespace, workspace_of: Callable[[argparse.Namespace], Path]
) -> Iterator[None]:
    """The lock if the parsed command writes a workspace, else nothing."""
    command = command_of(args)
    if command not in WRITERS or not hasattr(args, "workspace"):
        yield
        return
    with workspace_lock(workspace_of(args), command):
        yield
