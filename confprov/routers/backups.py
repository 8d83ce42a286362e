"""Running configs kept before each change: ``backups/<router>/<YYYYmmdd-HHMMSS>.cfg``.

Plain text, exactly as the router printed it, one file per push that changed something; the
newest is the default for ``routers rollback``. Nothing is ever deleted by confprov.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from confprov import safefile
from confprov.exceptions import InputError, Problem

BACKUPS_DIR = "backups"
SUFFIX = ".cfg"


@dataclass(frozen=True)
class Backup:
    router: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def router_dir(workspace: Path, router: str) -> Path:
    return workspace / BACKUPS_DIR / router


def save(workspace: Path, router: str, text: str, now: dt.datetime | None = None) -> Backup:
    """Write a new version; never replaces an older one (a suffix keeps same-second pushes)."""
    folder = safefile.real_dir(workspace, BACKUPS_DIR, router, mode=0o700)  # never via a link
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = folder / (f"{stamp}{SUFFIX}" if n == 0 else f"{stamp}-{n}{SUFFIX}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        return Backup(router, path)
    raise InputError([Problem(str(folder), None, None, "too many backups in one second")])


def _order(path: Path) -> tuple[str, int]:
    """``20261126-065012-1`` sorts after ``20261126-065012`` and before ``…-065012-10``."""
    day, _, rest = path.stem.partition("-")
    clock, _, n = rest.partition("-")
    return (day + clock, int(n) if n.isdigit() else 0)


def versions(workspace: Path, router: str) -> list[Backup]:
    """Oldest first."""
    folder = router_dir(workspace, router)
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.suffix == SUFFIX and p.is_file()]
    return [Backup(router, p) for p in sorted(files, key=_order)]


def routers_with_backups(workspace: Path) -> list[str]:
    base = workspace / BACKUPS_DIR
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def choose(workspace: Path, router: str, name: str | None) -> Backup:
    """Backup ``name`` (a file stem, path or prefix of one) of ``router``, else its newest."""
    found = versions(workspace, router)
    if not found:
        raise InputError(
            [Problem(str(router_dir(workspace, router)), None, None, f"no backup of {router}")]
        )
    if not name:
        return found[-1]
    stem = Path(name).stem
    for backup in found:
        if backup.name == stem:
            return backup
    # A prefix (`20261126-1015`) picks, per router, its newest backup so named: the backups
    # one push took on many routers share the date and the minute, not the second.
    prefixed = [b for b in found if b.name.startswith(stem)]
    if prefixed:
        return prefixed[-1]
    known = ", ".join(b.name for b in found[-5:])
    raise InputError(
        [
            Problem(
                str(router_dir(workspace, router)),
                None,
                None,
                f"no backup {name!r} of {router} (newest: {known})",
            )
        ]
    )
