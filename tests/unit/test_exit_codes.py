"""Exit codes mean what they say: every class of bad input is exit 2 with a message naming the
file and what to do; never exit 3 (a bug), never a hang, never a secret in the message.

No case may reach the network: every command here runs in this process (none starts Ansible),
and a guard fails the test if anything tries to connect.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from confprov import vault
from confprov.cli import main

DATA = Path(__file__).parent / "data"
PASSWORD = "s3cret-Vault-pw-5tr1ng"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a bad-input case tried to connect")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.delenv(vault.PASSWORD_ENV, raising=False)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A full workspace (config, registry, vault, password file) from the small test data."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(DATA / "confprov.yml", ws / "confprov.yml")
    shutil.copyfile(DATA / "sites.csv", ws / "sites.csv")
    vault.write_password_file(ws / ".vault-pass", PASSWORD)
    secrets = {"vault_router_username": "confprov", "vault_router_password": "r0uter-Pw-x"}
    (ws / "vault.yml").write_text(vault.encrypt(secrets, PASSWORD))
    return ws


def _config(ws: Path, old: str, new: str) -> None:
    cfg = ws / "confprov.yml"
    text = cfg.read_text(encoding="utf-8")
    assert old in text
    cfg.write_text(text.replace(old, new), encoding="utf-8")


def _add_config(ws: Path, line: str) -> None:
    with (ws / "confprov.yml").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _registry_key(ws: Path, name: str) -> None:
    _add_config(ws, f"registry: {name}")


def _add_row(ws: Path, first_cells: str) -> None:
    sites = ws / "sites.csv"
    columns = sites.read_text(encoding="utf-8").splitlines()[0].count(",")
    cells = first_cells.count(",")
    with sites.open("a", encoding="utf-8") as fh:
        fh.write(first_cells + "," * (columns - cells) + "\n")


def _vault(ws: Path, data: dict[str, object], password: str = PASSWORD) -> None:
    (ws / "vault.yml").write_text(vault.encrypt(data, password))


def _encrypt_raw(text: str) -> bytes:
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    encrypted: bytes = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(PASSWORD.encode()))]).encrypt(
        text
    )
    return encrypted


Case = tuple[Callable[[Path], None], list[str], str]
CASES: dict[str, Case] = {
    "non-ASCII digits in a config number": (
        lambda ws: _config(ws, "  network:", "  port: \uff15\uff10\uff16\uff10\n  network:"),
        ["check"],
        "conference.port: must be int",
    ),
    "registry is a folder": (
        lambda ws: (_registry_key(ws, "sites.d"), (ws / "sites.d").mkdir()),
        ["check"],
        "registry is a folder",
    ),
    "registry is a FIFO (no hang)": (
        lambda ws: (_registry_key(ws, "pipe.csv"), os.mkfifo(ws / "pipe.csv")),
        ["check"],
        "registry is a FIFO",
    ),
    "registry outside the workspace": (
        lambda ws: _registry_key(ws, "../../elsewhere.csv"),
        ["check"],
        "outside the workspace",
    ),
    "registry is the vault password file": (
        lambda ws: _registry_key(ws, ".vault-pass"),
        ["check"],
        "is not a registry",
    ),
    "registry is the vault": (
        lambda ws: _registry_key(ws, "./vault.yml"),
        ["check"],
        "is not a registry",
    ),
    "confprov.yml is a folder": (
        lambda ws: ((ws / "confprov.yml").unlink(), (ws / "confprov.yml").mkdir()),
        ["check"],
        "is a folder",
    ),
    "confprov.yml is a FIFO (no hang)": (
        lambda ws: ((ws / "confprov.yml").unlink(), os.mkfifo(ws / "confprov.yml")),
        ["inventory"],
        "is a FIFO",
    ),
    "wrong vault password": (
        lambda ws: vault.write_password_file(ws / ".vault-pass", "not-the-password"),
        ["routers", "check"],
        "cannot decrypt",
    ),
    "empty vault password": (
        lambda ws: vault.write_password_file(ws / ".vault-pass", ""),
        ["routers", "check"],
        ".vault-pass: empty",
    ),
    "vault password file readable by others": (
        lambda ws: (ws / ".vault-pass").chmod(0o644),
        ["routers", "check"],
        "chmod 600",
    ),
    "vault password file is a FIFO (no hang)": (
        lambda ws: ((ws / ".vault-pass").unlink(), os.mkfifo(ws / ".vault-pass", 0o600)),
        ["routers", "check"],
        "is a FIFO",
    ),
    "vault not encrypted": (
        lambda ws: (ws / "vault.yml").write_text("vault_router_password: r0uter-Pw-x\n"),
        ["routers", "check"],
        "not encrypted",
    ),
    "vault without the router login": (
        lambda ws: _vault(ws, {"vault_sip_passwords": {}}),
        ["routers", "check"],
        "vault_router_username: missing from the vault",
    ),
    "vault without a router password": (
        lambda ws: _vault(ws, {"vault_router_username": "u", "vault_router_passwords": {}}),
        ["routers", "check"],
        "no password for",
    ),
    "vault router passwords not a mapping": (
        lambda ws: _vault(ws, {"vault_router_username": "u", "vault_router_passwords": ["x"]}),
        ["routers", "check"],
        "must be a mapping",
    ),
    "vault holding a list": (
        lambda ws: (ws / "vault.yml").write_bytes(_encrypt_raw("- a\n- b\n")),
        ["routers", "check"],
        "must hold a YAML mapping",
    ),
    "template marker in a confprov.yml value": (
        lambda ws: _config(
            ws, "sip_domain: hoinghi.example", "sip_domain: \"{{ lookup('pipe', 'id') }}\""
        ),
        ["check"],
        "confprov.yml:4: conference.sip_domain: holds '{{'",
    ),
    "reserved host name as a site id": (
        lambda ws: _add_row(ws, "conference-server,Hội trường,department,,198.18.9.11"),
        ["check"],
        "host name 'conference-server' is reserved",
    ),
    "loopback endpoint address": (
        lambda ws: _add_row(ws, ",Sở Thử,department,,127.0.0.1"),
        ["inventory"],
        "loopback",
    ),
    "a name that would change the SIP account line": (
        lambda ws: _add_row(ws, ',"Sở ""A"";auth_pass=x",department,,198.18.9.11'),
        ["check"],
        "SIP account line",
    ),
    "IPv6 address written two ways": (
        lambda ws: (
            _add_row(ws, ",Sở A,department,,2001:db8::9"),
            _add_row(ws, ",Sở B,department,,2001:DB8:0::9"),
        ),
        ["check"],
        "duplicate address",
    ),
    "non-ASCII digits in a command-line number (full-width)": (
        lambda ws: None,
        ["verify", "--forks", "\uff15"],
        "argument --forks: not a whole number in ASCII digits",
    ),
    "non-ASCII digits in a command-line number (Arabic-Indic)": (
        lambda ws: None,
        ["report", "--run", "\u0663"],
        "argument --run: not a whole number in ASCII digits",
    ),
    "symlinked inventory": (
        lambda ws: (ws / "inventory").symlink_to(ws.parent),
        ["inventory"],
        "is a symbolic link",
    ),
}


@pytest.mark.parametrize("prepare,argv,message", CASES.values(), ids=CASES.keys())
def test_bad_input_is_exit_2_with_a_message(
    ws: Path,
    capsys: pytest.CaptureFixture[str],
    prepare: Callable[[Path], None],
    argv: list[str],
    message: str,
) -> None:
    prepare(ws)
    capsys.readouterr()
    try:
        code = main([*argv, "-w", str(ws)])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert message in err, err
    assert "internal error" not in err
    assert PASSWORD not in out + err and "r0uter-Pw-x" not in out + err


def test_non_ascii_digits_in_a_registry_number_are_refused(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sites = ws / "sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].split(",")
    column = header.index("wan_kbps")
    row = lines[1].split(",")
    row[column] = "\u0661\u0660\u0660\u0660\u0660\u0660"  # Arabic-Indic 100000: int() takes it
    sites.write_text("".join([lines[0], ",".join(row), *lines[2:]]), encoding="utf-8")
    assert main(["check", "-w", str(ws)]) == 2
    assert "wan_kbps" in capsys.readouterr().err


def test_init_pointed_at_a_file_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "a-file"
    target.write_text("not a folder\n")
    assert main(["init", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "not a folder\n"
