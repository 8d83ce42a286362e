"""The push/rollback logic of one router, against a replaying connection.

The lab's real FRR routers exercise all of this for real (tests/lab/test_routers.py). These
tests replay recorded output (fixtures/, named after the command) through a fake connection to
reach what the lab cannot: IOS's revert timer, Junos' commit confirmed, a refusal on a given
line, a router that drops the session at a given step. The fake is a mock, said so: it keeps a
queue of running configs and records every command, it does not emulate a router.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from netmiko.exceptions import ConfigInvalidException

from confprov.routers import backups, engine
from confprov.routers.device import FAILED, UNREACHABLE, DeviceError, Session
from confprov.routers.render import Conference, RouterTarget

FIXTURES = Path(__file__).parent / "fixtures"
CONF = Conference(network="198.18.32.0/24", server="198.18.32.10", ntp_server="198.18.32.10")


def frr(name: str) -> str:
    return (FIXTURES / "frr" / f"show_running-config.{name}.txt").read_text()


class FakeConnection:
    def __init__(self, running: list[str], *, refuse: str = "", drop_at: str = "") -> None:
        self.running = list(running)  # what each `show running-config` returns, in turn
        self.sent: list[str] = []  # every command and config line, in order
        self.refuse = refuse  # a config line the router refuses
        self.drop_at = drop_at  # a command at which the session dies

    def _maybe_drop(self, command: str) -> None:
        if self.drop_at and command == self.drop_at:
            raise OSError("Socket is closed")

    def send_command(self, command_string: str, **kwargs: Any) -> str:
        self.sent.append(command_string)
        self._maybe_drop(command_string)
        if command_string.startswith(("show running", "show configuration")):
            return self.running.pop(0) if len(self.running) > 1 else self.running[0]
        if command_string == "write memory":
            return "Integrated configuration saved to /etc/frr/frr.conf\n[OK]"
        return ""

    def send_config_set(self, config_commands: list[str], **kwargs: Any) -> str:
        if "config_mode_command" in kwargs:
            self.sent.append(kwargs["config_mode_command"])
        for line in config_commands:
            self.sent.append(line)
            self._maybe_drop(line)
            if line == self.refuse:
                raise ConfigInvalidException(
                    f"Invalid input detected at command: {line}, matched error: "
                    f"% Unknown command: {line}"
                )
        return ""

    def exit_config_mode(self) -> str:
        return ""

    def check_config_mode(self) -> bool:
        return True

    def config_mode(self) -> str:
        self.sent.append("configure")
        return ""

    def commit(self, confirm: bool = False, confirm_delay: int | None = None) -> str:
        self.sent.append(f"commit confirmed {confirm_delay}" if confirm else "commit")
        return "commit complete"

    def save_config(self) -> str:
        self.sent.append("write memory")
        return "Integrated configuration saved to /etc/frr/frr.conf\n[OK]"

    def disconnect(self) -> None:
        pass


def target(platform: str = "frr", interface: str = "wan") -> RouterTarget:
    return RouterTarget(
        "doi-1-rt", "198.18.0.13", platform, "UBND huyện Đồi 1", interface, "198.18.8.1"
    )


def options(tmp_path: Path) -> engine.Options:
    return engine.Options(workspace=tmp_path, known_hosts=tmp_path / "known_hosts")


def push(
    conn: FakeConnection, tmp_path: Path, t: RouterTarget | None = None
) -> engine.RouterResult:
    t = t or target()
    return engine.run_one("push", engine.Job(t), CONF, options(tmp_path), lambda *_: Session(conn))


def test_push_backs_up_applies_checks_and_saves(tmp_path: Path) -> None:
    conn = FakeConnection([frr("pristine"), frr("pushed")])
    result = push(conn, tmp_path)
    assert result.status == "changed" and result.changed
    assert conn.sent == [
        "show running-config",
        "ip route 198.18.32.0/24 198.18.8.1",
        "interface wan",
        "description confprov UBND huyen Doi 1",
        "exit",
        "show running-config",
        "write memory",
    ]
    backup = backups.versions(tmp_path, "doi-1-rt")
    assert [b.text() for b in backup] == [frr("pristine")], "the backup is the router's own text"
    assert result.backup == str(backup[0].path)


def test_second_push_changes_nothing_and_keeps_no_backup(tmp_path: Path) -> None:
    conn = FakeConnection([frr("pushed")])
    result = push(conn, tmp_path)
    assert (result.status, result.changed, result.commands) == ("ok", False, [])
    assert "no change" in result.message
    assert conn.sent == ["show running-config"]
    assert backups.versions(tmp_path, "doi-1-rt") == []


def test_refused_line_reverts_to_the_backup(tmp_path: Path) -> None:
    # The route went in, then the description was refused; the revert removes the route.
    half = frr("pristine").replace("!\nend", "!\nip route 198.18.32.0/24 198.18.8.1\n!\nend")
    conn = FakeConnection(
        [frr("pristine"), half, frr("pristine")],
        refuse="description confprov UBND huyen Doi 1",
    )
    result = push(conn, tmp_path)
    assert result.status == FAILED and result.reverted
    assert "% Unknown command: description confprov UBND huyen Doi 1" in result.message
    assert "reverted to the backup" in result.message
    assert conn.sent[-1] == "show running-config"
    assert "no ip route 198.18.32.0/24 198.18.8.1" in conn.sent
    assert "write memory" not in conn.sent, "a reverted change is not saved"


def test_missing_line_after_push_reverts(tmp_path: Path) -> None:
    # The router accepted everything but the description is not there afterwards.
    half = frr("pristine").replace("!\nend", "!\nip route 198.18.32.0/24 198.18.8.1\n!\nend")
    conn = FakeConnection([frr("pristine"), half, half, frr("pristine")])
    result = push(conn, tmp_path)
    assert result.status == FAILED and result.reverted
    assert result.missing == ["interface wan / description confprov UBND huyen Doi 1"]
    assert "1 intended line(s) missing" in result.message


def test_revert_that_does_not_restore_says_so(tmp_path: Path) -> None:
    half = frr("pristine").replace("!\nend", "!\nip route 198.18.32.0/24 198.18.8.1\n!\nend")
    conn = FakeConnection([frr("pristine"), half], refuse="description confprov UBND huyen Doi 1")
    result = push(conn, tmp_path)
    assert result.status == FAILED and not result.reverted
    assert "REVERT FAILED" in result.message
    assert "confprov routers rollback --limit doi-1-rt" in result.message


def test_session_lost_mid_push_is_reported_with_the_backup(tmp_path: Path) -> None:
    conn = FakeConnection([frr("pristine")], drop_at="interface wan")
    result = push(conn, tmp_path)
    assert result.status == UNREACHABLE
    assert "connection lost" in result.message
    assert result.backup and result.backup in result.message
    assert "confprov routers rollback --limit doi-1-rt" in result.message


def test_ios_uses_archive_then_revert_timer_then_confirms(tmp_path: Path) -> None:
    pristine = (FIXTURES / "cisco_ios" / "show_running-config.pristine.txt").read_text()
    from confprov.routers.render import render

    candidate = render(target("cisco_ios", "GigabitEthernet0/1"), CONF)
    pushed = pristine.replace("end", candidate + "\nend").replace(" description old uplink\n", "")
    pushed = pushed.replace("ip route 198.18.32.0 255.255.255.0 198.18.9.9\n", "")
    conn = FakeConnection([pristine, pushed])
    result = push(conn, tmp_path, target("cisco_ios", "GigabitEthernet0/1"))
    assert result.status == "changed", result.message
    sent = conn.sent
    # The archive first, in plain config mode: the revert timer needs it.
    assert sent[1:5] == ["archive", "path flash:confprov-", "maximum 14", "exit"]
    assert sent[5] == "configure terminal revert timer 5"
    assert sent[-2:] == ["configure confirm", "write memory"]
    assert sent.index("show running-config", 1) < sent.index("configure confirm")


def test_junos_commit_confirmed_then_confirming_commit(tmp_path: Path) -> None:
    pristine = (
        FIXTURES / "juniper_junos" / "show_configuration_display_set.pristine.txt"
    ).read_text()
    from confprov.routers.render import render

    t = target("juniper_junos", "ge-0/0/0")
    pushed = pristine.replace('description "old uplink"', "x").replace(
        "next-hop 198.18.9.9", "next-hop 198.18.8.1"
    ) + render(t, CONF)
    conn = FakeConnection([pristine, pushed])
    result = push(conn, tmp_path, t)
    assert result.status == "changed", result.message
    assert "commit confirmed 5" in conn.sent
    after_check = conn.sent.index("show configuration | display set", 1)
    assert conn.sent.index("commit") > after_check, "confirmed only after the check"
    assert "write memory" not in conn.sent, "Junos: the commit is the save"


def test_one_dead_router_does_not_stop_the_others(tmp_path: Path) -> None:
    def connector(t: RouterTarget, _opts: engine.Options) -> Session:
        if t.host == "dead-rt":
            raise DeviceError(UNREACHABLE, "no answer from 198.18.0.99:22")
        return Session(FakeConnection([frr("pristine"), frr("pushed")]))

    jobs = [
        engine.Job(RouterTarget(h, "198.18.0.13", "frr", "UBND huyện Đồi 1", "wan", "198.18.8.1"))
        for h in ("a-rt", "dead-rt", "b-rt")
    ]
    results = engine.run("push", jobs, CONF, options(tmp_path), connector)
    assert list(results) == ["a-rt", "dead-rt", "b-rt"]
    assert results["dead-rt"].status == UNREACHABLE
    assert results["a-rt"].status == results["b-rt"].status == "changed"


def test_bad_registry_value_fails_that_router_only(tmp_path: Path) -> None:
    bad = RouterTarget(
        "x-rt", "198.18.0.13", "frr", "Sở\nip route 0.0.0.0/0 6.6.6.6", "wan", "1.1.1.1"
    )
    connected: list[str] = []

    def connector(t: RouterTarget, _opts: engine.Options) -> Session:
        connected.append(t.host)
        return Session(FakeConnection([frr("pushed")]))

    results = engine.run(
        "push", [engine.Job(bad), engine.Job(target())], CONF, options(tmp_path), connector
    )
    assert results["x-rt"].status == FAILED and "control character" in results["x-rt"].message
    assert connected == ["doi-1-rt"], "a refused config never reaches its router"


def test_unknown_host_key_is_refused_before_connecting(tmp_path: Path) -> None:
    key = "AAAAC3NzaC1lZDI1NTE5AAAAIC16EG438KrL3qLjzC4WmUF3v1r55Qj15HVHKENJAvAE"
    (tmp_path / "known_hosts").write_text(f"198.18.0.11 ssh-ed25519 {key}\n")
    from confprov.routers.device import Timeouts, connect

    with pytest.raises(DeviceError, match=r"no pinned host key for 198.18.0.13.*confprov trust"):
        connect(target(), tmp_path / "known_hosts", Timeouts(connect=1, command=1))


def test_rollback_restores_the_chosen_backup(tmp_path: Path) -> None:
    old = backups.save(tmp_path, "doi-1-rt", frr("pristine"))
    backups.save(tmp_path, "doi-1-rt", frr("drifted"))
    conn = FakeConnection([frr("pushed"), frr("pristine")])
    result = engine.run_one(
        "rollback",
        engine.Job(target(), backup=old.name),
        CONF,
        options(tmp_path),
        lambda *_: Session(conn),
    )
    assert result.status == "changed" and "(exactly)" in result.message, result.message
    assert result.backup == str(old.path)
    assert "no ip route 198.18.32.0/24 198.18.8.1" in conn.sent
    assert conn.sent[-1] == "write memory"


def test_rollback_without_backup_is_a_clear_error(tmp_path: Path) -> None:
    result = engine.run_one(
        "rollback", engine.Job(target()), CONF, options(tmp_path), lambda *_: Session(None)
    )
    assert result.status == FAILED and "no backup of doi-1-rt" in result.message


def test_each_session_gets_only_its_routers_pinned_key(tmp_path: Path) -> None:
    """The workspace's known_hosts is read once; a session's file holds its router's lines only."""
    import paramiko

    from confprov.routers.device import HostKeyStore

    key = "AAAAC3NzaC1lZDI1NTE5AAAAIC16EG438KrL3qLjzC4WmUF3v1r55Qj15HVHKENJAvAE"
    hashed = paramiko.HostKeys.hash_host("198.18.0.15")
    (tmp_path / "known_hosts").write_text(
        "# pinned by confprov trust\n"
        f"198.18.0.11 ssh-ed25519 {key}\n"
        f"198.18.0.13,cam-khe-rt ssh-ed25519 {key}\n"
        f"{hashed} ssh-ed25519 {key}\n"
        f"[198.18.0.17]:2222 ssh-ed25519 {key}\n"
    )
    store = HostKeyStore(tmp_path / "known_hosts")
    try:
        one = store.file_for("198.18.0.13")
        assert one is not None and one.read_text() == f"198.18.0.13,cam-khe-rt ssh-ed25519 {key}\n"
        assert one.stat().st_mode & 0o777 == 0o600
        assert store.lines_for("198.18.0.15") == [f"{hashed} ssh-ed25519 {key}"]
        assert store.lines_for("198.18.0.17", 2222) and not store.lines_for("198.18.0.17")
        assert store.file_for("198.18.0.99") is None
        # paramiko reads the small file as it would the whole one.
        assert paramiko.HostKeys(str(one)).lookup("198.18.0.13") is not None
    finally:
        store.close()
    assert not one.exists(), "the per-run key folder is removed"


def test_a_timed_out_command_names_the_prompt_it_waited_for() -> None:
    """netmiko's own ReadTimeout text; the operator learns what never came back."""
    from netmiko.exceptions import ReadTimeout

    from confprov.routers.device import UNREACHABLE, classify
    from confprov.routers.render import RouterTarget

    target = RouterTarget(
        host="r1",
        address="198.18.0.55",
        platform="frr",
        site_name="R1",
        wan_interface="wan",
        wan_gateway="198.18.8.1",
    )
    pattern = r"r1\#"
    exc = ReadTimeout(f"\nPattern not detected: {pattern!r} in output.\n\nThings you might try")
    error = classify(exc, target)
    assert error.kind == UNREACHABLE
    assert str(error) == (
        "198.18.0.55:22 stopped answering (command timed out, waiting for the prompt 'r1#')"
    )
