"""`confprov routers` against the lab's real FRR routers: plan, push, idempotence, rollback, faults.

Every test leaves the routers as it found them (the lab is shared with other tests): the
`pristine` fixture removes what a push adds, straight through vtysh, after each test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pexpect
import pytest

from confprov.lab.system import lab_unavailable

if (_reason := lab_unavailable()) is not None:
    pytest.skip(_reason, allow_module_level=True)

pytestmark = pytest.mark.lab


def confprov(lab, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "confprov", *args, "-w", str(lab.workspace)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def running(lab, slug: str) -> str:
    return lab.run(f"{slug}-rt", ["vtysh", "-c", "show running-config"]).stdout


def netmiko_running(lab, host: str) -> str:
    """The running config as a push reads and backs it up (a fresh netmiko session)."""
    from confprov.routers.device import Timeouts, connect
    from confprov.routers.targets import known_hosts, workspace_routers

    targets, _ = workspace_routers(lab.workspace, [host])
    session = connect(targets[0], known_hosts(lab.workspace), Timeouts())
    try:
        return str(session.conn.send_command("show running-config"))
    finally:
        session.close()


def backups_of(lab, host: str) -> list[Path]:
    folder = lab.workspace / "backups" / host
    return sorted(folder.iterdir()) if folder.is_dir() else []


def secrets(lab) -> list[str]:
    from confprov.vault import decrypt, read_password

    data = decrypt(lab.workspace / "vault.yml", read_password(lab.workspace))
    return [
        data["vault_router_password"],
        read_password(lab.workspace),
        *data["vault_router_passwords"].values(),
    ]


def unpush(lab, slug: str) -> None:
    lab.run(
        f"{slug}-rt",
        [
            "vtysh",
            "-c",
            "configure terminal",
            "-c",
            f"no ip route {lab.plan.conf_net} {lab.plan.conf_wan}",
            "-c",
            "interface wan",
            "-c",
            "no description",
            "-c",
            "end",
            "-c",
            "write memory",
        ],
        check=False,
    )


@pytest.fixture
def pristine(lab):
    """Every router as the lab made it, before and after the test."""
    for slug in lab.sites:
        unpush(lab, slug)
    before = {slug: running(lab, slug) for slug in lab.sites}
    assert all(lab.plan.conf_net not in text for text in before.values())
    yield before
    for slug in lab.sites:
        lab.run(f"{slug}-rt", ["ip", "link", "set", "mgmt", "up"], check=False)
        unpush(lab, slug)


def reaches_conference(lab, site: int) -> bool:
    out = lab.ssh(
        lab.endpoint(site), f"ping -q -n -c 2 -i 0.2 -W 1 {lab.conference_server} || true"
    ).stdout
    return " 0% packet loss" in out


def test_plan_shows_the_diff_and_changes_nothing(lab, pristine):
    res = confprov(lab, "routers", "plan")
    assert res.returncode == 0, res.stdout + res.stderr
    for slug in lab.sites:
        assert f"--- {slug}-rt (frr" in res.stdout
    assert f"+ ip route {lab.plan.conf_net} {lab.plan.conf_wan}" in res.stdout
    assert "+  description confprov " in res.stdout
    assert f"{len(lab.sites)} would change" in res.stdout
    assert {slug: running(lab, slug) for slug in lab.sites} == pristine
    assert not any(backups_of(lab, f"{slug}-rt") for slug in lab.sites)


def test_push_applies_and_the_second_push_changes_nothing(lab, pristine):
    assert not reaches_conference(lab, 0)
    res = confprov(lab, "routers", "push")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{len(lab.sites)} changed" in res.stdout
    for slug in lab.sites:
        text = running(lab, slug)
        assert f"ip route {lab.plan.conf_net} {lab.plan.conf_wan}" in text
        assert " description confprov " in text
        saved = lab.run(f"{slug}-rt", ["cat", "/etc/frr/frr.conf"]).stdout
        assert f"ip route {lab.plan.conf_net} {lab.plan.conf_wan}" in saved, "saved"
    assert reaches_conference(lab, 0), "the pushed route lets the endpoint reach the server"
    # The site's name, transliterated, is the description.
    assert "description confprov UBND huyen Doi 1" in running(lab, lab.sites[1])
    # Backups hold what the router had before, byte for byte as netmiko read it.
    host = f"{lab.sites[0]}-rt"
    (backup,) = backups_of(lab, host)
    assert lab.plan.conf_net not in backup.read_text()

    again = confprov(lab, "routers", "push")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 changed" in again.stdout and "nothing changed" in again.stdout
    assert backups_of(lab, host) == [backup], "a no-op push keeps no backup"

    from confprov.routers import check_routers

    checks = check_routers(lab.workspace)
    assert all(c.reachable and c.intended and not c.missing for c in checks.values())


def test_rollback_restores_the_backup_byte_for_byte(lab, pristine):
    host = f"{lab.sites[2]}-rt"
    assert confprov(lab, "routers", "push", "--limit", host).returncode == 0
    backup = backups_of(lab, host)[-1]
    assert netmiko_running(lab, host) != backup.read_text()

    listed = confprov(lab, "routers", "backups", "--limit", host)
    assert backup.stem in listed.stdout and "newest" in listed.stdout

    res = confprov(lab, "routers", "rollback", "--limit", host, "--to", backup.stem)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 changed" in res.stdout
    assert netmiko_running(lab, host) == backup.read_text()
    assert running(lab, lab.sites[2]) == pristine[lab.sites[2]]

    from confprov.routers import check_routers

    check = check_routers(lab.workspace, [host])[host]
    assert check.reachable and not check.intended
    assert f"ip route {lab.plan.conf_net} {lab.plan.conf_wan}" in check.missing


def test_a_refused_line_reverts_that_router_only(lab, pristine):
    from confprov.routers.run import Settings, run_routers

    bad, good = f"{lab.sites[0]}-rt", f"{lab.sites[1]}-rt"
    outcome = run_routers(
        lab.workspace,
        "push",
        settings=Settings(extra_config={bad: "ip route 198.18.99.0/33 198.18.8.1"}),
    )
    assert outcome.exit_code == 1
    result = outcome.routers[bad]
    assert result.status == "failed" and result.reverted
    assert "% Unknown command: ip route 198.18.99.0/33" in result.message
    assert "reverted to the backup" in result.message
    assert running(lab, lab.sites[0]) == pristine[lab.sites[0]], "back as it was"
    assert outcome.routers[good].status == "changed"
    assert f"ip route {lab.plan.conf_net}" in running(lab, lab.sites[1])
    summary = outcome.summary()
    assert f"FAILED      {bad}:" in summary

    # --retry-failed keeps --limit: a limit without the failed router has nothing to retry (as
    # provision and verify: exit 0, nothing runs); with it, only that router is pushed again
    # (now without the refused line).
    res = confprov(lab, "routers", "push", "--retry-failed", "--limit", lab.sites[1])
    assert res.returncode == 0
    assert "nothing to retry: the last run had no failed sites among those --limit" in res.stdout
    res = confprov(lab, "routers", "push", "--retry-failed", "--limit", f"{lab.sites[0]},{good}")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "push: 1 routers: 1 changed" in res.stdout
    assert f"ip route {lab.plan.conf_net}" in running(lab, lab.sites[0])


def test_a_router_cut_off_mid_push_is_reported_and_rolled_back_later(lab, pristine):
    """The router's management link goes down while its lines are going in."""
    from confprov.routers.run import Settings, run_routers

    slow = lab.sites[2]
    host = f"{slow}-rt"
    # 600 host routes inside the lab's own range (config lines only: nothing is sent to them).
    extra = "\n".join(
        f"ip route 198.19.{200 + i // 250}.{i % 250 + 1}/32 {lab.plan.conf_wan}" for i in range(600)
    )
    passwords = secrets(lab)
    seen_in_argv: list[str] = []
    result_box: dict = {}

    def push() -> None:
        result_box["run"] = run_routers(
            lab.workspace,
            "push",
            settings=Settings(command_timeout=5, extra_config={host: extra}),
        )

    thread = threading.Thread(target=push)
    thread.start()
    try:
        # Wait (bounded) for the first extra line on the router, then cut it off.
        for _ in range(600):
            for pid in os.listdir("/proc"):
                try:
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                seen_in_argv.extend(p for p in passwords if p in argv)
            if f"{lab.plan.conf_wan}" in running(lab, slow) and "198.19.200." in running(lab, slow):
                break
        else:
            pytest.fail("the slow router never started taking lines")
        lab.run(host, ["ip", "link", "set", "mgmt", "down"])
    finally:
        thread.join(timeout=300)
        lab.run(host, ["ip", "link", "set", "mgmt", "up"])
    outcome = result_box["run"]
    cut = outcome.routers[host]
    assert cut.status == "unreachable", cut.message
    assert cut.backup and cut.backup in cut.message
    assert f"confprov routers rollback --limit {host}" in cut.message
    for slug in lab.sites[:2]:
        assert outcome.routers[f"{slug}-rt"].status == "changed", "the others were not held up"
    assert not seen_in_argv, "a password appeared in a process's arguments"

    # The cut session's vtysh still holds lines it had received and goes on applying them: end
    # it (by PID, inside the router) as an operator clears a stale line before a rollback.
    stale = lab.run(host, ["pgrep", "-u", "netops", "-x", "vtysh"], check=False).stdout.split()
    if stale:
        lab.run(host, ["kill", "-9", *stale])
    res = confprov(lab, "routers", "rollback", "--limit", host)
    assert res.returncode == 0, res.stdout + res.stderr
    assert netmiko_running(lab, host) == Path(cut.backup).read_text()


def test_no_password_in_any_file_a_run_wrote(lab, pristine):
    assert confprov(lab, "routers", "push").returncode == 0
    assert confprov(lab, "routers", "plan").returncode == 0
    written = [
        p
        for top in ("runs", "backups", "inventory")
        for p in (lab.workspace / top).rglob("*")
        if p.is_file()
    ]
    assert any(p.name.endswith(".log") and p.parent.name == "sessions" for p in written)
    for secret in secrets(lab):
        for path in written:
            assert secret.encode() not in path.read_bytes(), f"secret in {path}"


def test_unknown_or_changed_host_key_is_refused_and_trust_pins_it(lab, pristine):
    known = lab.workspace / "known_hosts"
    original = known.read_text()
    host = f"{lab.sites[1]}-rt"
    address = lab.router(1)
    line = next(ln for ln in original.splitlines() if ln.startswith(address + " "))
    other = next(ln for ln in original.splitlines() if ln.startswith(lab.router(0) + " "))
    try:
        known.write_text("".join(ln + "\n" for ln in original.splitlines() if ln != line))
        res = confprov(lab, "routers", "push", "--limit", host)
        assert res.returncode == 1
        assert f"no pinned host key for {address}" in res.stdout
        assert running(lab, lab.sites[1]) == pristine[lab.sites[1]]

        # A different key under the router's address: paramiko's RejectPolicy refuses it.
        known.write_text(original.replace(line, address + " " + other.split(" ", 1)[1]))
        res = confprov(lab, "routers", "push", "--limit", host)
        assert res.returncode == 1 and "CHANGED" in res.stdout, res.stdout
        assert running(lab, lab.sites[1]) == pristine[lab.sites[1]]
        res = confprov(lab, "trust", "--yes", host)
        assert res.returncode == 1 and "refused: CHANGED" in res.stdout

        without = "".join(ln + "\n" for ln in original.splitlines() if ln != line)
        known.write_text(without)
        # Never pinned on first sight: without a terminal and without --yes, nothing is.
        res = confprov(lab, "trust", host)
        assert res.returncode == 2 and "not pinned" in res.stderr, res.stdout + res.stderr
        assert "SHA256:" in res.stderr and "--yes" in res.stderr
        assert known.read_text() == without
        # On a terminal the fingerprint is shown and the operator answers.
        for answer, code in (("n", 1), ("y", 0)):
            term = pexpect.spawn(
                sys.executable,
                ["-m", "confprov", "trust", host, "-w", str(lab.workspace)],
                encoding="utf-8",
                timeout=60,
            )
            term.expect(r"SHA256:\S+")
            term.expect(r"Pin this key\? \[y/N\]")
            term.sendline(answer)
            term.expect(pexpect.EOF)
            term.close()
            assert term.exitstatus == code, term.before
            assert (line.split()[2] in known.read_text()) == (answer == "y")
        known.write_text(without)
        res = confprov(lab, "trust", "--yes", host)
        assert res.returncode == 0 and "pinned" in res.stdout, res.stdout + res.stderr
        assert line.split()[2] in known.read_text(), "the router's real key is pinned"
        res = confprov(lab, "routers", "push", "--limit", host)
        assert res.returncode == 0, res.stdout + res.stderr
    finally:
        known.write_text(original)


def test_the_module_gives_what_the_api_gives_on_real_routers(lab, pristine, tmp_path):
    """The router_config module is a thin adapter: run as Ansible runs it (its own process),
    its JSON equals the API's for the same routers, conference and settings (a plan: read-only)."""
    from dataclasses import asdict

    from confprov.routers import api
    from confprov.routers.settings import RouterSettings
    from confprov.routers.targets import as_vars, known_hosts, workspace_routers
    from tests.unit.routers.test_routers_api import comparable, run_module

    targets, conference = workspace_routers(lab.workspace)
    conf = asdict(conference)
    del conf["audio_ports"], conf["video_ports"]
    args = {
        "routers": [as_vars(t) for t in targets],
        "conference": conf,
        "workspace": str(lab.workspace),
        "known_hosts": str(known_hosts(lab.workspace)),
        "workers": 2,
    }
    module = run_module(args, tmp_path, check=True)
    settings = RouterSettings(workers=2)
    ours = api.result_json(
        api.apply(
            "push",
            targets,
            conference,
            settings,
            workspace=lab.workspace,
            known_hosts=known_hosts(lab.workspace),
            check=True,
        )
    )
    assert comparable(module) == comparable(ours)
    assert module["changed_routers"] == sorted(f"{slug}-rt" for slug in lab.sites)
    assert {slug: running(lab, slug) for slug in lab.sites} == pristine


def test_sigint_during_a_push_leaves_each_router_unchanged_or_pushed_and_says_which(
    lab, pristine, tmp_path
):
    """Ctrl-C while the first router's lines are in (held there by the engine's test hook, so
    the moment is known, not raced): that router finishes (checked, saved), no other router is
    started, and the summary says what each one was left in."""
    import signal
    import time

    from confprov.routers.engine import HOLD_ENV

    first, *others = [f"{slug}-rt" for slug in lab.sites]
    kept = {host: backups_of(lab, host) for host in others}  # earlier tests' backups
    ws = lab.workspace
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / f"{first}.hold").touch()
    proc = subprocess.Popen(
        [sys.executable, "-m", "confprov", "routers", "push", "--workers", "1", "-w", str(ws)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, HOLD_ENV: str(hold)},
    )
    try:
        deadline = time.monotonic() + 240
        while not (hold / f"{first}.held").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the push never got held"
            time.sleep(0.1)
        # Held: the first router's lines are sent, its check and save are still to come.
        assert f"ip route {lab.plan.conf_net}" in running(lab, lab.sites[0])
        proc.send_signal(signal.SIGINT)
        stops = list((lab.workspace / "runs").glob(".sessions-*/.stop"))
        while not stops:
            assert proc.poll() is None and time.monotonic() < deadline, "no stop file"
            time.sleep(0.05)
            stops = list((lab.workspace / "runs").glob(".sessions-*/.stop"))
        (hold / f"{first}.go").touch()
        out, err = proc.communicate(timeout=240)
    finally:
        (hold / f"{first}.go").touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, out + err
    assert "SIGINT: no further router is started" in err
    # Not a terminal: plain progress lines, routers of a total (the not started count as failed).
    n = len(lab.sites)
    assert f"routers push: 0/{n} done" in err
    assert f"routers push: {n}/{n} done (2 failed, 0 unreachable)" in err, err
    assert "1 changed, 0 unchanged, 0 failed, 0 unreachable, 2 interrupted" in out, out
    assert f"  {first}: pushed and confirmed" in out
    saved = lab.run(first, ["cat", "/etc/frr/frr.conf"]).stdout
    assert f"ip route {lab.plan.conf_net} {lab.plan.conf_wan}" in saved, "checked and saved"
    for host, slug in zip(others, lab.sites[1:], strict=True):
        assert f"  {host}: unchanged (not started: the run was interrupted)" in out
        assert running(lab, slug) == pristine[slug], f"{host} was touched"
        assert backups_of(lab, host) == kept[host], "no backup: nothing was sent"
    # --retry-failed takes up exactly the routers that were not started.
    res = confprov(lab, "routers", "push", "--retry-failed")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"push: {len(others)} routers: {len(others)} changed" in res.stdout


def test_routers_check_prints_a_table_of_every_router(lab, pristine):
    res = confprov(lab, "routers", "check")
    assert res.returncode == 1, res.stdout + res.stderr
    rows = [line.split() for line in res.stdout.splitlines()]
    assert rows[0] == ["router", "address", "state", "why"]
    for slug in lab.sites:
        row = next(r for r in rows if r and r[0] == f"{slug}-rt")
        assert row[2:4] == ["NOT", "READY"], row  # "why" may wrap onto the next line
    assert "intended line(s)" in res.stdout and "missing" in res.stdout
    assert f"check: {len(lab.sites)} routers: 0 ok, {len(lab.sites)} not ready" in res.stdout
