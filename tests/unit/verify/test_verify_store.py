"""The SQLite results store: runs kept, latest state per site, --failed-only and --since."""

from __future__ import annotations

import pytest
from verify_samples import sample_sites

from confprov.exceptions import InputError
from confprov.verify import store
from confprov.verify.evaluate import SiteResult, Verdict


def save(ws, sites, scope="all"):
    return store.save_run(ws, sites, started=store.now(), scope=scope, run_dir="/runs/x")


def test_round_trip_keeps_every_check(tmp_path):
    run_id = save(tmp_path, sample_sites())
    loaded = store.load_run(tmp_path, run_id)
    assert [s.site for s in loaded] == ["tinh", "cam-khe", "xa.cam-khe"]
    red = loaded[2]
    assert not red.ready
    assert red.checks[0] == Verdict(
        host="xa.cam-khe",
        check="loss",
        severity="fail",
        value=10.5,
        unit="%",
        threshold="≤ 1 %",
        reason="loss 10.5 %, beyond the limit",
    )
    info = store.run_info(tmp_path, None)
    assert (info.id, info.sites, info.ready) == (run_id, 3, 2)


def test_failed_only_uses_each_sites_latest_state(tmp_path):
    save(tmp_path, sample_sites())
    assert store.not_ready_sites(tmp_path) == ["xa.cam-khe"]
    fixed = SiteResult(
        site="xa.cam-khe",
        name="UBND xã Xà",
        level="commune",
        district="cam-khe",
        checks=[Verdict(host="xa.cam-khe", check="loss", severity="pass")],
    )
    save(tmp_path, [fixed], scope="failed-only")
    assert store.not_ready_sites(tmp_path) == []
    latest = store.latest_results(tmp_path)
    assert sorted(s.site for s in latest) == ["cam-khe", "tinh", "xa.cam-khe"]
    assert all(s.ready for s in latest)


def test_changes_since_lists_only_sites_that_changed(tmp_path):
    first = save(tmp_path, sample_sites())
    broken = SiteResult(
        site="tinh",
        name="Trung tâm tỉnh",
        level="province",
        district="",
        checks=[Verdict(host="tinh", check="route", severity="fail", reason="no route")],
    )
    fixed = SiteResult(
        site="xa.cam-khe",
        name="UBND xã Xà",
        level="commune",
        district="cam-khe",
        checks=[Verdict(host="xa.cam-khe", check="loss", severity="pass")],
    )
    save(tmp_path, [broken, fixed])
    changes = store.changes_since(tmp_path, first, {"tinh": "Trung tâm tỉnh"})
    assert [(c.site, c.before, c.after) for c in changes] == [
        ("tinh", True, False),
        ("xa.cam-khe", False, True),
    ]
    assert changes[0].reason == "route: no route"


def test_failed_only_without_history_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="no earlier verification"):
        store.not_ready_sites(tmp_path)


def test_unknown_run_names_the_stored_range(tmp_path):
    save(tmp_path, sample_sites())
    with pytest.raises(InputError, match=r"no run 7 \(stored: 1-1\)"):
        store.run_info(tmp_path, 7)


def test_a_save_interrupted_half_way_stores_nothing(tmp_path, monkeypatch):
    """Ctrl-C after the run's and its sites' rows went in, before its checks: no half run."""
    save(tmp_path, sample_sites())
    before = store.runs(tmp_path)
    real = store.json.dumps
    calls = []

    def interrupted(value, **kwargs):
        calls.append(value)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(value, **kwargs)

    monkeypatch.setattr(store.json, "dumps", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path, sample_sites())
    monkeypatch.undo()
    assert store.runs(tmp_path) == before
    assert [s.site for s in store.latest_results(tmp_path)] == ["tinh", "cam-khe", "xa.cam-khe"]


def test_a_results_database_planted_as_a_link_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere.sqlite"
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / store.DB_NAME).symlink_to(elsewhere)
    with pytest.raises(InputError, match="is a symbolic link"):
        save(ws, sample_sites())
    assert not elsewhere.exists()


def test_a_store_from_before_the_rename_keeps_its_runs(tmp_path):
    """Stores written before issue #17 name a check's severity `level` (a site's tier's word):
    opened now, the column is renamed in place and every stored check reads back the same."""
    import sqlite3

    run_id = save(tmp_path, sample_sites())
    before = store.load_run(tmp_path, run_id)
    with sqlite3.connect(store.db_path(tmp_path)) as conn:
        conn.execute("ALTER TABLE checks RENAME COLUMN severity TO level")
    assert store.load_run(tmp_path, run_id) == before
    with sqlite3.connect(store.db_path(tmp_path)) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(checks)")}
    assert "severity" in columns and "level" not in columns
