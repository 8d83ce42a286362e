"""The rendered inventory: golden files, Ansible parses it, minimal rewrites, no secrets."""

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
from confprov.workspace import init_workspace, load, render_workspace_inventory

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "unit" / "golden" / "inventory"
BIN = Path(sys.executable).parent


def test_rendered_files_match_golden(small_workspace: Path) -> None:
    """Rendered for a fixed workspace path so the files are byte for byte reproducible.

    Regenerate after an intended change with ``CONFPROV_UPDATE_GOLDEN=1 pytest``.
    """
    loaded = load(small_workspace)
    files = render_files(Path("/srv/confprov/ws"), loaded.registry, loaded.config)
    if os.environ.get("CONFPROV_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, text in files.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_text(text, encoding="utf-8")
    golden = {
        str(p.relative_to(GOLDEN)): p.read_text(encoding="utf-8") for p in GOLDEN.rglob("*.yml")
    }
    assert set(files) == set(golden)
    for rel, text in files.items():
        assert text == golden[rel], rel


def ansible_inventory(source: Path, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), "--list"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert "WARNING" not in out.stderr, out.stderr
    return json.loads(out.stdout)


@pytest.mark.ansible
def test_ansible_inventory_parses_it(small_workspace: Path) -> None:
    render_workspace_inventory(small_workspace)
    inv = ansible_inventory(small_workspace / "inventory")
    hv = inv["_meta"]["hostvars"]
    assert set(inv["endpoints"]["hosts"]) == {
        "trung-tam-hoi-nghi-tinh",
        "trung-tam-hoi-nghi-tinh-2",
        "cam-khe",
        "yen-tap.cam-khe",
        "cam-khe.cam-khe",
        "so-khoa-hoc-va-cong-nghe",
        "sngv",
    }
    assert set(inv["routers"]["hosts"]) == {
        "trung-tam-hoi-nghi-tinh-rt",
        "cam-khe-rt",
        "yen-tap.cam-khe-rt",
        "cam-khe.cam-khe-rt",
        "sngv-rt",
    }
    assert inv["conference"]["hosts"] == ["conference-server"]
    assert inv["district_cam_khe"]["children"] == [
        "site_cam_khe",
        "site_yen_tap_cam_khe",
        "site_cam_khe_cam_khe",
    ]
    assert inv["level_department"]["children"] == ["site_so_khoa_hoc_va_cong_nghe", "site_sngv"]
    ep = hv["yen-tap.cam-khe"]
    assert ep["confprov_display_name"] == "UBND xã Yên Tập"
    assert ep["confprov_router"] == "yen-tap.cam-khe-rt"
    assert ep["confprov_room"]["audio"] == 'loa kéo "Sony" + micro'
    assert ep["confprov_conference"]["server"] == "198.19.255.10"
    assert ep["confprov_sip_password"] == (
        "{{ (vault_sip_passwords | confprov.core.sip_passwords(inventory_hostname))"
        "[inventory_hostname] }}"
    )
    assert "StrictHostKeyChecking=yes" in ep["ansible_ssh_common_args"]
    assert hv["sngv"]["ansible_user"] == "kythuat"
    assert hv["so-khoa-hoc-va-cong-nghe"]["ansible_shell_type"] == "powershell"
    assert hv["cam-khe-rt"]["ansible_connection"] == "local"


@pytest.mark.ansible
def test_vault_references_resolve_with_the_vault(small_workspace: Path, tmp_path: Path) -> None:
    """The account is a reference: resolved by Ansible with the vault, never stored in clear."""
    render_workspace_inventory(small_workspace)
    password = "pw-for-test"
    secret = "S1p-Secret-Yen-Tap"
    (small_workspace / "vault.yml").write_text(
        vault.encrypt({"vault_sip_passwords": {"yen-tap.cam-khe": secret}}, password)
    )
    pass_file = tmp_path / "pass"
    pass_file.write_text(password)
    out = subprocess.run(
        [
            str(BIN / "ansible"),
            "-i",
            str(small_workspace / "inventory"),
            "yen-tap.cam-khe",
            "-m",
            "ansible.builtin.debug",
            "-a",
            "var=confprov_sip_password",
            "-e",
            f"@{small_workspace / 'vault.yml'}",
            "--vault-password-file",
            str(pass_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert secret in out.stdout
    for path in (small_workspace / "inventory").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text()


def test_unchanged_input_rewrites_nothing(small_workspace: Path) -> None:
    first = render_workspace_inventory(small_workspace)
    assert first.written and not first.removed
    stamps = {
        p: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (small_workspace / "inventory").rglob("*.yml")
    }
    second = render_workspace_inventory(small_workspace)
    assert second.written == [] and second.removed == []
    assert "up to date" in second.text()
    assert stamps == {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in stamps}


def test_removed_site_files_go_away(small_workspace: Path) -> None:
    render_workspace_inventory(small_workspace)
    sites = small_workspace / "sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines(keepends=True)
    sites.write_text("".join(line for line in lines if "Yên Tập" not in line), encoding="utf-8")
    report = render_workspace_inventory(small_workspace)
    assert sorted(report.removed) == [
        "host_vars/yen-tap.cam-khe-rt.yml",
        "host_vars/yen-tap.cam-khe.yml",
    ]
    assert "hosts.yml" in report.written
    assert not (small_workspace / "inventory/host_vars/yen-tap.cam-khe.yml").exists()
    assert "yen-tap" not in (small_workspace / "inventory/hosts.yml").read_text()


def test_invalid_registry_writes_nothing(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (small_workspace / "sites.csv").open("a", encoding="utf-8") as fh:
        fh.write(",Sở Mới,ministry,,198.18.9.1,,,,,,,,,,,\n")
    assert main(["inventory", "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert "sites.csv:8: level: unknown level 'ministry'" in err
    assert not (small_workspace / "inventory").exists()


@pytest.mark.ansible
def test_inventory_plugin_yields_the_same_inventory(small_workspace: Path) -> None:
    render_workspace_inventory(small_workspace)
    rendered = ansible_inventory(small_workspace / "inventory")
    source = small_workspace / "sites.confprov.yml"
    source.write_text("plugin: confprov.core.registry\n")
    from_plugin = ansible_inventory(source, {"ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections")})

    def plain(value):  # the plugin keeps registry text as data: Ansible marks it unsafe
        if isinstance(value, dict):
            if set(value) == {"__ansible_unsafe"}:
                return value["__ansible_unsafe"]
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    assert plain(from_plugin) == rendered


@pytest.mark.ansible
def test_plugin_reports_a_bad_registry(small_workspace: Path) -> None:
    with (small_workspace / "sites.csv").open("a", encoding="utf-8") as fh:
        fh.write(",Sở Mới,ministry,,198.18.9.1,,,,,,,,,,,\n")
    source = small_workspace / "sites.confprov.yml"
    source.write_text("plugin: confprov.core.registry\n")
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), "--list"],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections")},
    )
    assert "unknown level 'ministry'" in out.stderr


def test_example_workspace_has_no_secret_in_clear(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", example="phu-tho")
    render_workspace_inventory(ws)
    secrets = vault.decrypt(ws / "vault.yml", vault.read_password(ws))
    values = [secrets["vault_router_password"], *secrets["vault_sip_passwords"].values()]
    assert len(secrets["vault_sip_passwords"]) == 299
    password = (ws / ".vault-pass").read_text().strip()
    assert (ws / ".vault-pass").stat().st_mode & 0o777 == 0o600
    for path in ws.rglob("*"):
        if path.is_file() and path.name != ".vault-pass":
            text = path.read_text(encoding="utf-8")
            assert password not in text
            assert not any(v in text for v in values), path


@pytest.mark.ansible
def test_repository_example_source_lists_the_province() -> None:
    """ansible.cfg at the top points plain Ansible at inventory/example.confprov.yml."""
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "--list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    inv = json.loads(out.stdout)
    assert len(inv["endpoints"]["hosts"]) == 299
    assert len(inv["routers"]["hosts"]) == 292
    assert "yen-tap.cam-khe" in inv["endpoints"]["hosts"]
