"""The watch event store: ``watch.sqlite`` in the workspace, kept across restarts of the engine.

Every change is a row of ``events`` (state changes, acks, maintenance, notes, restore actions);
``incidents`` hold one row per problem (a site down or degraded, or the conference side out
for everyone: one incident, not one per site) with when it started, was detected, acknowledged
and restored, so a session report can give time to detect and to restore. ``marks`` keep what a
technician set (ack, maintenance, last note), so a restarted ``watch serve`` shows them again.

Writes come from the engine's loop and from restore threads: one connection, one lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from confprov.watch.model import Event

DB_NAME = "watch.sqlite"
PROVINCE = ""  # the site of a province-wide event (the conference side)
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    t REAL NOT NULL,
    site TEXT NOT NULL,           -- '' for the conference side (province-wide)
    kind TEXT NOT NULL,           -- state, ack, maint, note, action
    from_state TEXT NOT NULL DEFAULT '',
    to_state TEXT NOT NULL DEFAULT '',
    who TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_time ON events(t);
CREATE TABLE IF NOT EXISTS incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    state TEXT NOT NULL,          -- down, degraded, upstream (the worst seen)
    started_at REAL NOT NULL,     -- best estimate of the fault: the last good reply
    detected_at REAL NOT NULL,
    cause TEXT NOT NULL,
    acked_by TEXT NOT NULL DEFAULT '',
    acked_at REAL,
    restored_at REAL
);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents(site, restored_at);
CREATE TABLE IF NOT EXISTS marks (
    site TEXT PRIMARY KEY,
    ack_by TEXT NOT NULL DEFAULT '',
    maint INTEGER NOT NULL DEFAULT 0,
    maint_by TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
);
"""
SEVERITY = ("degraded", "upstream", "down")


@dataclass(frozen=True)
class Incident:
    id: int
    site: str
    state: str
    started_at: float
    detected_at: float
    cause: str
    acked_by: str
    acked_at: float | None
    restored_at: float | None

    @property
    def time_to_detect_s(self) -> float:
        return self.detected_at - self.started_at

    @property
    def time_to_restore_s(self) -> float | None:
        return None if self.restored_at is None else self.restored_at - self.detected_at


@dataclass(frozen=True)
class Mark:
    ack_by: str = ""
    maint: bool = False
    maint_by: str = ""
    note: str = ""


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a crash of the process loses nothing committed; only a power cut may
        # lose the last transactions. One fsync per change would cost 298 fsyncs at a start.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    @classmethod
    def open(cls, workspace: Path) -> Store:
        return cls(workspace / DB_NAME)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside is one transaction (one engine tick: one commit)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- events -------------------------------------------------------------------------------
    def add_event(
        self,
        t: float,
        site: str,
        kind: str,
        *,
        from_state: str = "",
        to_state: str = "",
        who: str = "",
        text: str = "",
    ) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO events (t, site, kind, from_state, to_state, who, text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (t, site, kind, from_state, to_state, who, text),
            )
            return int(cur.lastrowid or 0)

    def events(self, since: float | None = None, site: str | None = None) -> list[Event]:
        query = "SELECT id, t, site, kind, from_state, to_state, who, text FROM events WHERE 1=1"
        args: list[object] = []
        if since is not None:
            query += " AND t >= ?"
            args.append(since)
        if site is not None:
            query += " AND site = ?"
            args.append(site)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [
            Event(
                id=r[0],
                t=r[1],
                site=r[2],
                kind=r[3],
                from_state=r[4],
                to_state=r[5],
                who=r[6],
                text=r[7],
            )
            for r in rows
        ]

    # -- incidents ----------------------------------------------------------------------------
    def open_incident(
        self, site: str, state: str, started_at: float, now: float, cause: str
    ) -> int:
        """Open an incident, or raise the open one's state to the worse news."""
        current = self.open_incidents().get(site)
        with self._lock:
            if current is not None:
                if SEVERITY.index(state) > SEVERITY.index(current.state):
                    self._db.execute(
                        "UPDATE incidents SET state = ? WHERE id = ?", (state, current.id)
                    )
                return current.id
            cur = self._db.execute(
                "INSERT INTO incidents (site, state, started_at, detected_at, cause)"
                " VALUES (?, ?, ?, ?, ?)",
                (site, state, started_at, now, cause),
            )
            return int(cur.lastrowid or 0)

    def close_incident(self, site: str, now: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE incidents SET restored_at = ? WHERE site = ? AND restored_at IS NULL",
                (now, site),
            )

    def ack_incident(self, site: str, who: str, now: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE incidents SET acked_by = ?, acked_at = ?"
                " WHERE site = ? AND restored_at IS NULL AND acked_at IS NULL",
                (who, now, site),
            )

    def incidents(self, since: float | None = None) -> list[Incident]:
        query = (
            "SELECT id, site, state, started_at, detected_at, cause, acked_by, acked_at,"
            " restored_at FROM incidents"
        )
        args: list[object] = []
        if since is not None:
            query += " WHERE detected_at >= ? OR restored_at IS NULL"
            args.append(since)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [Incident(*row) for row in rows]

    def open_incidents(self) -> dict[str, Incident]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, site, state, started_at, detected_at, cause, acked_by, acked_at,"
                " restored_at FROM incidents WHERE restored_at IS NULL ORDER BY id"
            ).fetchall()
        return {row[1]: Incident(*row) for row in rows}

    # -- marks --------------------------------------------------------------------------------
    def set_mark(self, site: str, **values: str | bool) -> None:
        columns = [k for k in ("ack_by", "maint", "maint_by", "note") if k in values]
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO marks (site) VALUES (?)", (site,))
            for column in columns:
                self._db.execute(
                    f"UPDATE marks SET {column} = ? WHERE site = ?",  # noqa: S608 - fixed names
                    (values[column], site),
                )

    def marks(self) -> dict[str, Mark]:
        with self._lock:
            rows = self._db.execute("SELECT site, ack_by, maint, maint_by, note FROM marks")
            return {r[0]: Mark(r[1], bool(r[2]), r[3], r[4]) for r in rows.fetchall()}
