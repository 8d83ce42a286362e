"""A dropped session (SIGHUP) stops a router run between routers like Ctrl-C; a run whose
router_config task gave no result fails every router it was for and says why (exit 2)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from confprov import runner, vault
from confprov.exceptions import InputError
from confprov.routers.run import _no_result, _stop_between_routers


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_hangup_stops_between_routers_and_the_command_stays(tmp_path: Path, sig) -> None:
    stop_file = tmp_path / ".stop"
    before = signal.getsignal(sig)
    with _stop_between_routers(stop_file) as stopped:
        os.kill(os.getpid(), sig)  # the terminal closed, the SSH session dropped, Ctrl-C
        assert stopped.is_set() and stop_file.is_file()
    # Still here (not killed): the command waits for the play, writes the summary and keeps the
    # workspace lock till then; afterwards the signal's handler is what it was.
    assert signal.getsignal(sig) == before


def test_no_result_fails_every_router_and_names_the_missing_password(
    small_workspace: Path, tmp_path: Path
) -> None:
    ws = small_workspace
    secrets = {"vault_router_username": "netops", "vault_router_passwords": {"cam-khe-rt": "pw"}}
    (ws / "vault.yml").write_text(vault.encrypt(secrets, "vault-pw"))
    vault.write_password_file(ws / vault.PASSWORD_FILE, "vault-pw")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    first = runner.HostResult(host="cam-khe-rt", status="failed")  # run_once: the first host
    result = runner.RunResult(
        action="routers-push", run_dir=run_dir, status="failed", rc=2, hosts={first.host: first}
    )
    with pytest.raises(InputError, match="no password") as err:
        _no_result(ws, "routers-push", result, None)
    assert "cam-khe-rt: no password" not in str(err.value)  # it has one
    hosts = json.loads((run_dir / runner.SUMMARY).read_text())["hosts"]
    assert len(hosts) > 1 and {h["status"] for h in hosts.values()} == {"failed"}
    assert "cam-khe-rt" in hosts  # --retry-failed takes every router up, not the first only
