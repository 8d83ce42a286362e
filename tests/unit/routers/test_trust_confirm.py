"""`confprov trust` never pins on first sight: the fingerprint is shown and confirmed, or --yes.

The SSH server is paramiko's real server side on 127.0.0.1 (a real key exchange); only the
workspace lookup of the host is replaced, so no registry needs a loopback address.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from confprov.cli import main
from confprov.exceptions import InputError
from confprov.routers import trust


@pytest.fixture
def ssh_server() -> Iterator[tuple[int, paramiko.PKey]]:
    key = paramiko.RSAKey.generate(2048)  # a fresh host key: nothing pinned could match it
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            transport = paramiko.Transport(conn)
            transport.add_server_key(key)
            try:
                transport.start_server(server=paramiko.ServerInterface())
                while transport.is_active() and not stop.is_set():  # until the client leaves
                    stop.wait(0.05)
            except (paramiko.SSHException, EOFError, OSError):
                pass
            finally:
                transport.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], key
    stop.set()
    thread.join(timeout=5)
    listener.close()


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ssh_server: tuple[int, paramiko.PKey]):
    port, _ = ssh_server
    monkeypatch.setattr(trust, "resolve", lambda workspace, hosts: [("site-rt", "127.0.0.1", port)])
    return tmp_path


def test_no_terminal_and_no_yes_pins_nothing_and_shows_the_fingerprint(
    ws: Path, ssh_server: tuple[int, paramiko.PKey]
) -> None:
    _, key = ssh_server
    with pytest.raises(InputError) as caught:
        trust.trust(ws, ["site-rt"], confirm=trust.ask_on_terminal)
    assert trust.fingerprint(key.get_base64()) in str(caught.value)
    assert "--yes" in str(caught.value)
    assert not (ws / "known_hosts").exists()


def test_a_declined_key_is_not_pinned(ws: Path, ssh_server: tuple[int, paramiko.PKey]) -> None:
    shown: list[str] = []

    def decline(pending: list[trust.Trusted]) -> bool:
        shown.extend(r.fingerprint for r in pending)
        return False

    results = trust.trust(ws, ["site-rt"], confirm=decline)
    assert shown == [trust.fingerprint(ssh_server[1].get_base64())]
    assert [r.outcome for r in results] == ["not pinned: declined"]
    assert not (ws / "known_hosts").exists()
    with pytest.raises(trust.NotReady):
        trust.raise_if_refused(results)


def test_a_host_that_hangs_up_mid_handshake_is_a_failed_host_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up() -> None:
        conn, _ = listener.accept()
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    port = listener.getsockname()[1]
    monkeypatch.setattr(trust, "resolve", lambda workspace, hosts: [("x-rt", "127.0.0.1", port)])
    results = trust.trust(tmp_path, ["x-rt"], timeout=10)
    listener.close()
    assert results[0].outcome.startswith("failed")


def test_yes_pins_and_a_second_look_needs_no_confirmation(
    ws: Path, ssh_server: tuple[int, paramiko.PKey], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trust", "-w", str(ws), "site-rt"]) == 2  # pytest's stdin is no terminal
    assert not (ws / "known_hosts").exists()
    assert main(["trust", "-w", str(ws), "--yes", "site-rt"]) == 0
    assert ssh_server[1].get_base64() in (ws / "known_hosts").read_text()
    capsys.readouterr()
    assert main(["trust", "-w", str(ws), "site-rt"]) == 0  # already pinned: nothing to ask
    assert "already pinned" in capsys.readouterr().out
