"""The commands as an operator meets them: init, check, inventory; exit codes; messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from confprov.cli import main


def test_init_example_then_check_prints_the_province(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "phu-tho"
    assert main(["init", str(ws), "--example", "phu-tho"]) == 0
    assert sorted(p.name for p in ws.iterdir()) == [
        ".gitignore",
        ".vault-pass",
        "confprov.yml",
        "sites.csv",
        "vault.yml",
    ]
    assert (ws / "vault.yml").read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    capsys.readouterr()
    assert main(["check", "-w", str(ws)]) == 0
    out = capsys.readouterr().out
    assert "298 sites, 299 endpoints, 292 routers" in out
    assert "commune        225" in out
    assert "UBND huyện Cẩm Khê" in out and "(24 communes)" in out
    assert "warning" not in out


def test_check_warns_on_a_roster_difference(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = small_workspace / "confprov.yml"
    cfg.write_text(cfg.read_text().replace("commune: 2", "commune: 3") + "  total: 7\n")
    assert main(["check", "-w", str(small_workspace)]) == 0
    out = capsys.readouterr().out
    assert "warning: 6 sites, roster says 7" in out
    assert "warning: 2 commune sites, roster says 3" in out


def test_workspace_from_environment(
    small_workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONFPROV_WORKSPACE", str(small_workspace))
    monkeypatch.chdir(small_workspace.parent)
    assert main(["check"]) == 0
    assert "6 sites" in capsys.readouterr().out


def test_missing_workspace_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-w", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "confprov.yml" in err and "confprov init" in err


def test_init_refuses_a_folder_in_use(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(small_workspace)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_bad_config_names_line_and_key(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = small_workspace / "confprov.yml"
    cfg.write_text(cfg.read_text().replace("  network:", "  transport: smoke\n  netwrk:"))
    assert main(["check", "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert "confprov.yml:6: conference.netwrk: unknown key" in err
    assert "confprov.yml:5: conference.transport: must be one of udp, tcp, tls" in err


def test_usage_error_exits_2() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "confprov", "frobnicate"], capture_output=True, text=True
    )
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_the_gitignore_init_writes_covers_every_private_file(tmp_path: Path) -> None:
    from confprov import lock, runner, vault
    from confprov.inventory import INVENTORY_DIR
    from confprov.provision.mirror import KEY_DIR, MIRROR_DIR
    from confprov.routers.backups import BACKUPS_DIR
    from confprov.verify.store import DB_NAME

    ws = tmp_path / "ws"
    assert main(["init", str(ws)]) == 0
    private = [
        vault.PASSWORD_FILE,
        "id_ed25519",  # the SSH key confprov.yml may name (ssh_private_key)
        "id_rsa",
        f"{KEY_DIR}/private-keys-v1.d/ABC.key",  # the mirror's signing key
        f"{BACKUPS_DIR}/site-rt/20261129-101010.cfg",  # running configs: password hashes
        f"{runner.RUNS_DIR}/20261129-101010-provision/summary.json",
        DB_NAME,
        f"{INVENTORY_DIR}/hosts.yml",
        f"{MIRROR_DIR}/InRelease",
        lock.LOCK_NAME,
    ]
    kept = ["confprov.yml", "sites.csv", "vault.yml", "id_ed25519.pub", "known_hosts"]
    for rel in private + kept:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).touch()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    ignored = subprocess.run(
        ["git", "-C", str(ws), "check-ignore", "--no-index", *private, *kept],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert sorted(ignored) == sorted(private)
