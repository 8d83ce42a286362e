"""Windows endpoints in the rendered inventory: the connection each host gets (OpenSSH with the
PowerShell shell, PSRP, WinRM), per site or global, read back by ansible-inventory; the pinned
trust; the password only as a vault reference that Ansible resolves with the vault."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from confprov import vault
from confprov.cli import main
from confprov.inventory import render_files
from confprov.workspace import load, render_workspace_inventory

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "tests" / "unit" / "golden" / "windows"
BIN = Path(sys.executable).parent
HOST = "so-khoa-hoc-va-cong-nghe"  # the small registry's Windows endpoint
SECRET = "W1n-Secret-Sở-KHCN"

SETTINGS = {
    "ssh": "",
    "psrp": "windows: {connection: psrp, ca_cert: windows-ca.pem}\n",
    "winrm": "windows: {connection: winrm, scheme: http, auth: kerberos}\n",
}


def with_settings(ws: Path, text: str) -> Path:
    conf = ws / "confprov.yml"
    conf.write_text(conf.read_text(encoding="utf-8") + text, encoding="utf-8")
    return ws


def hostvars(ws: Path) -> dict:
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(ws / "inventory"), "--list"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "WARNING" not in out.stderr, out.stderr
    return json.loads(out.stdout)["_meta"]["hostvars"]


@pytest.mark.parametrize("connection", sorted(SETTINGS))
def test_windows_host_vars_match_golden(small_workspace: Path, connection: str) -> None:
    """Regenerate after an intended change with ``CONFPROV_UPDATE_GOLDEN=1 pytest``."""
    loaded = load(with_settings(small_workspace, SETTINGS[connection]))
    files = render_files(Path("/srv/confprov/ws"), loaded.registry, loaded.config)
    golden = GOLDEN / f"host_vars-{connection}.yml"
    if os.environ.get("CONFPROV_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(files[f"host_vars/{HOST}.yml"], encoding="utf-8")
    assert files[f"host_vars/{HOST}.yml"] == golden.read_text(encoding="utf-8")
    # Linux endpoints are untouched by the Windows settings.
    assert "ansible_connection" not in files["host_vars/yen-tap.cam-khe.yml"]


@pytest.mark.ansible
def test_ssh_is_the_default_with_powershell_and_the_pinned_host_keys(
    small_workspace: Path,
) -> None:
    render_workspace_inventory(small_workspace)
    hv = hostvars(small_workspace)[HOST]
    assert (hv["ansible_connection"], hv["ansible_shell_type"], hv["ansible_port"]) == (
        "ssh",
        "powershell",
        22,
    )
    # The same policy as the Linux endpoints: the workspace's known_hosts, strictly.
    assert (
        hv["ansible_ssh_common_args"]
        == hostvars(small_workspace)["cam-khe"]["ansible_ssh_common_args"]
    )
    assert "StrictHostKeyChecking=yes" in hv["ansible_ssh_common_args"]
    assert "ansible_password" not in hv  # key authentication, like every endpoint
    assert hv["confprov_windows"]["profile"] == "webex"


@pytest.mark.ansible
def test_psrp_validates_the_certificate_against_the_workspace_ca(small_workspace: Path) -> None:
    render_workspace_inventory(with_settings(small_workspace, SETTINGS["psrp"]))
    hv = hostvars(small_workspace)[HOST]
    assert hv["ansible_connection"] == "psrp"
    assert hv["ansible_port"] == 5986
    assert hv["ansible_psrp_protocol"] == "https"
    assert hv["ansible_psrp_cert_validation"] == "validate"
    assert hv["ansible_psrp_ca_cert"] == str(small_workspace / "windows-ca.pem")


@pytest.mark.ansible
def test_one_site_can_take_another_connection_than_the_rest(small_workspace: Path) -> None:
    with_settings(small_workspace, f"windows_connections: {{{HOST}: winrm}}\n")
    render_workspace_inventory(small_workspace)
    hv = hostvars(small_workspace)[HOST]
    assert hv["ansible_connection"] == "winrm"
    assert hv["ansible_winrm_transport"] == "ntlm"
    assert hv["ansible_port"] == 5986


def test_an_override_naming_no_windows_site_exits_2(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_settings(small_workspace, "windows_connections: {cam-khe: psrp}\n")
    assert main(["inventory", "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert "windows_connections.cam-khe: names no Windows site or endpoint" in err
    assert not (small_workspace / "inventory").exists()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("windows: {connection: rdp}\n", "windows.connection: must be one of ssh, psrp, winrm"),
        ("windows: {cert_validation: no}\n", "windows.cert_validation"),
        ("windows_connections: {x: telnet}\n", "windows_connections.x: must be one of"),
    ],
)
def test_bad_windows_settings_exit_2_naming_the_line(
    small_workspace: Path, capsys: pytest.CaptureFixture[str], text: str, field: str
) -> None:
    line = len((small_workspace / "confprov.yml").read_text(encoding="utf-8").splitlines()) + 1
    with_settings(small_workspace, text)
    assert main(["inventory", "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert field in err
    assert f"confprov.yml:{line}: " in err  # the line the setting is on


@pytest.mark.ansible
def test_the_password_is_a_vault_reference_resolved_only_by_ansible(
    small_workspace: Path, tmp_path: Path
) -> None:
    render_workspace_inventory(with_settings(small_workspace, SETTINGS["psrp"]))
    (small_workspace / "vault.yml").write_text(
        vault.encrypt({"vault_windows_password": SECRET}, "pw")
    )
    (tmp_path / "pass").write_text("pw")
    out = subprocess.run(
        [
            str(BIN / "ansible"),
            "-i",
            str(small_workspace / "inventory"),
            HOST,
            "-m",
            "ansible.builtin.debug",
            "-a",
            "var=ansible_password",
            "-e",
            f"@{small_workspace / 'vault.yml'}",
            "--vault-password-file",
            str(tmp_path / "pass"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert SECRET in out.stdout
    for path in (small_workspace / "inventory").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8")


@pytest.mark.ansible
def test_the_inventory_plugin_gives_windows_hosts_the_same_connection(
    small_workspace: Path,
) -> None:
    render_workspace_inventory(with_settings(small_workspace, SETTINGS["winrm"]))
    source = small_workspace / "sites.confprov.yml"
    source.write_text("plugin: confprov.core.registry\n")
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), "--host", HOST],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections")},
    )
    hv = json.loads(out.stdout)
    assert (hv["ansible_connection"], hv["ansible_winrm_scheme"], hv["ansible_port"]) == (
        "winrm",
        "http",
        5985,
    )
    shutil.rmtree(small_workspace / "inventory")
