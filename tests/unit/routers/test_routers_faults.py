"""Faults during a run (#13 item 9): bounded retries only before the first line; a stop between
routers, never inside one; the summary says what each router was left in.

The connection is the replaying fake of test_routers_engine (a mock, said so there); the retry
policy is driven through the engine's own connector with ``device.connect`` replaced by one that
fails as netmiko's failures are classified. The lab test (tests/lab/test_routers.py) sends a real
SIGINT to a real push of the lab's FRR routers.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from confprov.routers import engine
from confprov.routers.device import FAILED, UNREACHABLE, DeviceError, Session
from confprov.routers.engine import INTERRUPTED, RouterResult, left_in
from confprov.routers.render import RouterTarget
from confprov.routers.run import RoutersRun
from tests.unit.routers.test_routers_engine import CONF, FakeConnection, frr, target


def _flaky(monkeypatch: pytest.MonkeyPatch, failures: list[DeviceError]) -> list[str]:
    """``connect`` raises ``failures`` in turn, then opens a fake session; returns the calls."""
    calls: list[str] = []

    def connect(t: RouterTarget, *_args: object) -> Session:
        calls.append(t.host)
        if failures:
            raise failures.pop(0)
        return Session(FakeConnection([frr("pristine"), frr("pushed")]))

    monkeypatch.setattr(engine, "connect", connect)
    monkeypatch.setattr(engine, "RETRY_WAIT_MAX", 0.0)
    return calls


def _push(tmp_path: Path, **opts: object) -> RouterResult:
    o = engine.Options(workspace=tmp_path, known_hosts=tmp_path / "known_hosts", **opts)  # type: ignore[arg-type]
    return engine.run("push", [engine.Job(target())], CONF, o)["doi-1-rt"]


def test_a_router_that_did_not_answer_is_tried_again_then_pushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _flaky(monkeypatch, [DeviceError(UNREACHABLE, "no answer from 198.18.0.13:22")])
    result = _push(tmp_path)
    assert result.status == "changed", result.message
    assert calls == ["doi-1-rt", "doi-1-rt"]


def test_retries_are_bounded_and_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _flaky(monkeypatch, [DeviceError(UNREACHABLE, "no answer") for _ in range(9)])
    result = _push(tmp_path, connect_attempts=3)
    assert result.status == UNREACHABLE and "(3 attempts)" in result.message
    assert len(calls) == 3


def test_a_refused_host_key_or_login_is_never_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _flaky(monkeypatch, [DeviceError(FAILED, "authentication to 198.18.0.13:22 failed")])
    result = _push(tmp_path)
    assert result.status == FAILED and "attempts" not in result.message
    assert len(calls) == 1


def test_a_session_lost_after_lines_were_sent_is_never_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[FakeConnection] = []

    def connect(_t: RouterTarget, *_args: object) -> Session:
        conn = FakeConnection([frr("pristine")], drop_at="interface wan")
        opened.append(conn)
        return Session(conn)

    monkeypatch.setattr(engine, "connect", connect)
    result = _push(tmp_path)
    assert result.status == UNREACHABLE and result.backup
    assert len(opened) == 1, "one session: a push is never sent again on a new one"
    assert left_in(result, "push").startswith("MAY HOLD PART")


def test_a_stop_leaves_routers_not_started_unchanged_and_the_summary_says_so(
    tmp_path: Path,
) -> None:
    sessions: list[str] = []

    def connector(t: RouterTarget, _opts: engine.Options) -> Session:
        sessions.append(t.host)
        return Session(FakeConnection([frr("pristine"), frr("pushed")]))

    jobs = [
        engine.Job(RouterTarget(h, "198.18.0.13", "frr", "UBND huyện Đồi 1", "wan", "198.18.8.1"))
        for h in ("a-rt", "b-rt", "c-rt")
    ]
    opts = engine.Options(workspace=tmp_path, known_hosts=tmp_path / "k", workers=1)
    results = engine.run("push", jobs, CONF, opts, connector, stop=lambda: bool(sessions))
    assert sessions == ["a-rt"], "nothing is sent to a router after the stop"
    assert results["a-rt"].status == "changed"
    assert results["b-rt"].status == results["c-rt"].status == INTERRUPTED
    assert results["b-rt"].failed and "nothing was sent" in results["b-rt"].message
    run = RoutersRun("routers-push", tmp_path, results, interrupted=True, kind="push")
    summary = run.summary()
    assert "3 routers: 1 changed, 0 unchanged, 0 failed, 0 unreachable, 2 interrupted" in summary
    assert "  a-rt: pushed and confirmed" in summary
    assert "  b-rt: unchanged (not started: the run was interrupted)" in summary
    assert run.exit_code == 1


def test_what_each_platform_is_left_in_when_its_session_died_mid_push() -> None:
    def dead(platform: str) -> RouterResult:
        return RouterResult("r", platform=platform, status=UNREACHABLE, backup="/b/r/1.cfg")

    assert left_in(dead("cisco_ios"), "push") == (
        "reverting on its own timer (configure terminal revert timer)"
    )
    assert left_in(dead("juniper_junos"), "push") == "reverting on its own timer (commit confirmed)"
    assert left_in(dead("frr"), "push").startswith("MAY HOLD PART")
    refused = RouterResult("r", status=FAILED, backup="/b", reverted=True)
    assert left_in(refused, "push") == "unchanged (reverted to the backup)"
    assert left_in(RouterResult("r", status=FAILED), "push") == "unchanged (nothing was sent)"


def test_a_signal_to_the_module_stops_it_between_routers(tmp_path: Path) -> None:
    """SIGINT, SIGTERM or SIGHUP to the process running the engine (the module's): the stop is
    set, the process is not killed, and the previous handlers come back afterwards."""
    before = signal.getsignal(signal.SIGINT)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with engine.stop_on_signals() as stop:
            assert not stop()
            os.kill(os.getpid(), sig)
            assert stop()
    assert signal.getsignal(signal.SIGINT) is before
    flag = tmp_path / ".stop"
    with engine.stop_on_signals(flag) as stop:
        assert not stop()
        flag.touch()
        assert stop()
