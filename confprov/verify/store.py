"""The results store: every verification run, site and check in the workspace's SQLite file.

``results.sqlite`` keeps history, so ``verify --failed-only`` rechecks only the sites whose
latest state is "not ready", ``report`` renders any stored run again, and ``report --since RUN``
lists the sites whose state changed since that run. A run is written in one transaction: a crash
leaves no half-stored run.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from confprov import safefile
from confprov.exceptions import InputError, Problem
from confprov.verify.evaluate import SiteResult, Verdict

DB_NAME = "results.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    scope TEXT NOT NULL,          -- all, failed-only, limit
    run_dir TEXT NOT NULL,
    sites INTEGER NOT NULL,
    ready INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sites (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    district TEXT NOT NULL,
    ready INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, site)
);
CREATE TABLE IF NOT EXISTS checks (
    run_id INTEGER NOT NULL,
    site TEXT NOT NULL,
    host TEXT NOT NULL,
    name TEXT NOT NULL,
    severity TEXT NOT NULL,       -- the verdict's: pass, warn, fail, skip (was `level`)
    value TEXT,                   -- JSON: a number, a text or null
    unit TEXT NOT NULL,
    threshold TEXT NOT NULL,
    reason TEXT NOT NULL,
    FOREIGN KEY (run_id, site) REFERENCES sites(run_id, site)
);
CREATE INDEX IF NOT EXISTS sites_by_site ON sites(site, run_id);
CREATE TABLE IF NOT EXISTS site_times (  -- how long each site's endpoint checks took
    run_id INTEGER NOT NULL,
    site TEXT NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (run_id, site)
);
"""
# The measured values a trend shows, by check name.
TREND_CHECKS = ("rtt", "jitter", "loss", "mos")


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    id: int
    started: str
    finished: str
    scope: str
    run_dir: str
    sites: int
    ready: int


@dataclass(frozen=True, kw_only=True)
class SitePoint:
    """One site in one stored run: what the HTML report's trend draws."""

    run_id: int
    started: str
    ready: bool
    values: dict[str, float]  # TREND_CHECKS measured (worst endpoint), where measured


@dataclass(frozen=True, kw_only=True)
class Change:
    site: str
    name: str
    before: bool | None  # None: the site was not verified yet at that run
    after: bool
    reason: str


def db_path(workspace: Path) -> Path:
    return workspace / DB_NAME


@contextmanager
def connect(workspace: Path) -> Iterator[sqlite3.Connection]:
    safefile.refuse_link(db_path(workspace))  # never a database planted elsewhere by a link
    with closing(sqlite3.connect(db_path(workspace))) as conn:
        conn.executescript(SCHEMA)
        _rename_level_to_severity(conn)
        yield conn


def _rename_level_to_severity(conn: sqlite3.Connection) -> None:
    """A store written before issue #17 calls a check's severity ``level``, the word a site's
    tier goes by: renamed once, in place, keeping every stored run."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(checks)")}
    if "level" in columns:
        with conn:
            conn.execute("ALTER TABLE checks RENAME COLUMN level TO severity")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def save_run(
    workspace: Path, results: list[SiteResult], *, started: str, scope: str, run_dir: str
) -> int:
    """Store one run with all its sites and checks; return its id."""
    with connect(workspace) as conn, conn:
        cur = conn.execute(
            "INSERT INTO runs (started, finished, scope, run_dir, sites, ready)"
            " VALUES (?,?,?,?,?,?)",
            (started, now(), scope, run_dir, len(results), sum(r.ready for r in results)),
        )
        run_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO sites VALUES (?,?,?,?,?,?,?)",
            [
                (run_id, r.site, r.name, r.level, r.district, int(r.ready), r.reason())
                for r in results
            ],
        )
        conn.executemany(
            "INSERT INTO site_times VALUES (?,?,?)", [(run_id, r.site, r.seconds) for r in results]
        )
        conn.executemany(
            "INSERT INTO checks VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    run_id,
                    r.site,
                    v.host,
                    v.check,
                    v.severity,
                    json.dumps(v.value, ensure_ascii=False),
                    v.unit,
                    v.threshold,
                    v.reason,
                )
                for r in results
                for v in r.checks
            ],
        )
    return run_id


def runs(workspace: Path) -> list[RunInfo]:
    if not db_path(workspace).is_file():
        return []
    with connect(workspace) as conn:
        rows = conn.execute(
            "SELECT id, started, finished, scope, run_dir, sites, ready FROM runs ORDER BY id"
        ).fetchall()
    return [
        RunInfo(
            id=row[0],
            started=row[1],
            finished=row[2],
            scope=row[3],
            run_dir=row[4],
            sites=row[5],
            ready=row[6],
        )
        for row in rows
    ]


def run_info(workspace: Path, run_id: int | None) -> RunInfo:
    """One run (the newest when ``run_id`` is None); a clear error when there is none."""
    known = runs(workspace)
    if not known:
        raise InputError(
            [
                Problem(
                    str(db_path(workspace)),
                    None,
                    None,
                    "no verification stored: run `confprov verify` first",
                )
            ]
        )
    if run_id is None:
        return known[-1]
    for info in known:
        if info.id == run_id:
            return info
    ids = f"{known[0].id}-{known[-1].id}"
    raise InputError(
        [
            Problem(
                str(db_path(workspace)), None, "--run/--since", f"no run {run_id} (stored: {ids})"
            )
        ]
    )


def load_run(workspace: Path, run_id: int) -> list[SiteResult]:
    with connect(workspace) as conn:
        sites = conn.execute(
            "SELECT site, name, level, district FROM sites WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        ).fetchall()
        checks = conn.execute(
            "SELECT site, host, name, severity, value, unit, threshold, reason FROM checks "
            "WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        ).fetchall()
        times = dict(
            conn.execute("SELECT site, seconds FROM site_times WHERE run_id = ?", (run_id,))
        )
    results = {
        s: SiteResult(site=s, name=n, level=lv, district=d, seconds=float(times.get(s, 0.0)))
        for s, n, lv, d in sites
    }
    for site, host, name, severity, value, unit, threshold, reason in checks:
        results[site].checks.append(
            Verdict(
                host=host,
                check=name,
                severity=severity,
                value=json.loads(value),
                unit=unit,
                threshold=threshold,
                reason=reason,
            )
        )
    return list(results.values())


def history(workspace: Path, limit: int = 20) -> dict[str, list[SitePoint]]:
    """Every site's last ``limit`` stored runs, oldest first, with its trend values."""
    if not db_path(workspace).is_file():
        return {}
    names = ",".join("?" * len(TREND_CHECKS))
    with connect(workspace) as conn:
        rows = conn.execute(
            "SELECT s.site, s.run_id, r.started, s.ready FROM sites s"
            " JOIN runs r ON r.id = s.run_id ORDER BY s.run_id"
        ).fetchall()
        values = conn.execute(
            f"SELECT run_id, site, name, value FROM checks WHERE name IN ({names})",  # noqa: S608 - placeholders only
            TREND_CHECKS,
        ).fetchall()
    measured: dict[tuple[int, str], dict[str, float]] = {}
    for run_id, site, name, value in values:
        number = json.loads(value) if value else None
        if isinstance(number, int | float):
            got = measured.setdefault((run_id, site), {})
            worse = min if name == "mos" else max  # several endpoints: the worst one
            got[name] = worse(got.get(name, number), float(number))
    out: dict[str, list[SitePoint]] = {}
    for site, run_id, started, ready in rows:
        out.setdefault(site, []).append(
            SitePoint(
                run_id=run_id,
                started=started,
                ready=bool(ready),
                values=measured.get((run_id, site), {}),
            )
        )
    return {site: points[-limit:] for site, points in out.items()}


def latest_states(workspace: Path, up_to: int | None = None) -> dict[str, tuple[int, bool, str]]:
    """Each site's latest state: (run id, ready, reason), over runs up to ``up_to``."""
    if not db_path(workspace).is_file():
        return {}
    limit = up_to if up_to is not None else 2**62
    with connect(workspace) as conn:
        rows = conn.execute(
            "SELECT site, run_id, ready, reason FROM sites s WHERE run_id = ("
            " SELECT MAX(run_id) FROM sites WHERE site = s.site AND run_id <= ?)",
            (limit,),
        ).fetchall()
    return {site: (run_id, bool(ready), reason) for site, run_id, ready, reason in rows}


def latest_results(workspace: Path, up_to: int | None = None) -> list[SiteResult]:
    """Every site's latest result (with its checks), each marked with the run it comes from."""
    states = latest_states(workspace, up_to)
    out: list[SiteResult] = []
    for run_id in sorted({run for run, _ready, _why in states.values()}):
        for result in load_run(workspace, run_id):
            if states.get(result.site, (None,))[0] == run_id:
                result.previous_run = run_id
                out.append(result)
    return out


def not_ready_sites(workspace: Path) -> list[str]:
    """Sites whose latest verification found them not ready (what --retry-failed rechecks)."""
    if not runs(workspace):
        raise InputError(
            [
                Problem(
                    str(db_path(workspace)),
                    None,
                    "--retry-failed",
                    "no earlier verification: run `confprov verify` first",
                )
            ]
        )
    return sorted(site for site, (_r, ready, _w) in latest_states(workspace).items() if not ready)


def changes_since(workspace: Path, run_id: int, names: dict[str, str]) -> list[Change]:
    """Sites whose readiness differs between ``run_id`` and now (the latest state of each)."""
    run_info(workspace, run_id)
    before = latest_states(workspace, run_id)
    after = latest_states(workspace)
    out: list[Change] = []
    for site, (_run, ready, reason) in sorted(after.items()):
        old = before.get(site)
        if old is None or old[1] != ready:
            out.append(
                Change(
                    site=site,
                    name=names.get(site, site),
                    before=None if old is None else old[1],
                    after=ready,
                    reason=reason,
                )
            )
    return out
