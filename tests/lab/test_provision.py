"""`confprov provision` on the shared 3-site lab: real endpoints over SSH, the mirror served on
the management network, apt verifying signatures, baresip installed and configured per site.

The tests run in order on one lab: first provision, rerun (nothing changes), a failing and an
unreachable endpoint (the others carry on; --retry-failed reruns just those), --limit, --check.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from confprov import vault
from confprov.cli import main
from confprov.lab.system import lab_unavailable
from confprov.provision import mirror
from confprov.provision.profiles import load_profile

if (_reason := lab_unavailable()) is not None:
    pytest.skip(_reason, allow_module_level=True)

pytestmark = pytest.mark.lab
PINNED = load_profile("baresip").default_version


def provision(lab, *args: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    """Run the real CLI with --json; return its exit code and its JSON output."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "confprov"), "provision",
         "-w", str(lab.workspace), "--json", *args],
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def hosts(out: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return out["result"]["hosts"]  # type: ignore[no-any-return]


def vault_secrets(workspace: Path) -> list[str]:
    password = vault.read_password(workspace)
    data = vault.decrypt(workspace / "vault.yml", password)
    return [password, data["vault_router_password"], *data["vault_sip_passwords"].values()]


@pytest.fixture(scope="module")
def first(lab):  # type: ignore[no-untyped-def]
    code, out = provision(lab)
    return code, out


def test_first_run_installs_and_configures_every_endpoint(lab, first) -> None:  # type: ignore[no-untyped-def]
    code, out = first
    assert code == 0, out
    assert set(hosts(out)) == set(lab.sites)
    assert all(h["status"] == "changed" for h in hosts(out).values())
    passwords = vault.decrypt(lab.workspace / "vault.yml", vault.read_password(lab.workspace))
    for site in lab.sites:
        address = lab.endpoint(site)
        assert lab.ssh(address, "dpkg-query -W -f='${Version}' baresip-core").stdout == PINNED
        smoke = lab.ssh(address, "/usr/bin/baresip -h 2>&1; true").stdout
        assert "baresip v" + PINNED.split("-")[0] in smoke
        account = lab.ssh(address, "cat ~/.baresip/accounts").stdout
        host_vars = (lab.workspace / "inventory" / "host_vars" / f"{site}.yml").read_text()
        site_name = json.loads(host_vars.split("confprov_site_name: ", 1)[1].splitlines()[0])
        sip_password = passwords["vault_sip_passwords"][site]
        assert f'"{site_name}" <sip:{site}@{lab.conference_server};transport=udp>' in account
        assert f"auth_pass={sip_password};" in account
        assert lab.ssh(address, "stat -c '%a %U' ~/.baresip/accounts").stdout.strip() == "600 conf"
        autostart = lab.ssh(address, "cat ~/.config/autostart/confprov-conference-client.desktop")
        assert "Exec=/usr/bin/baresip -f /home/conf/.baresip" in autostart.stdout
        assert f"Name=Điểm cầu {site_name}" in autostart.stdout
        chrony = lab.ssh(address, "cat /etc/chrony/sources.d/confprov.sources").stdout
        assert f"server {lab.conference_server} iburst prefer" in chrony
        assert lab.ssh(address, "dpkg-query -W -f='${Status}' chrony").stdout.endswith("installed")
        logind = lab.ssh(address, "cat /etc/systemd/logind.conf.d/confprov-no-sleep.conf").stdout
        assert "HandleLidSwitch=ignore" in logind and "IdleAction=ignore" in logind


def test_apt_verifies_the_source_and_refuses_a_tampered_index(lab, first, tmp_path) -> None:  # type: ignore[no-untyped-def]
    address = lab.endpoint(0)
    source = lab.ssh(address, "cat /etc/apt/sources.list.d/confprov.sources").stdout
    assert "Signed-By: /etc/apt/keyrings/confprov.asc" in source
    assert "trusted=yes" not in source
    controller = mirror.source_address(address)
    assert f"URIs: http://{controller}:{mirror.DEFAULT_PORT}/" in source
    # The same mirror with its index altered, and InRelease edited to match, without the key.
    forged = tmp_path / "mirror"
    shutil.copytree(lab.workspace / "mirror", forged, ignore=shutil.ignore_patterns("*.deb"))
    index = forged / "Packages"
    before = index.read_bytes()
    index.write_text(index.read_text().replace("\nVersion: ", "\nX-Forged: yes\nVersion: ", 1))
    after = index.read_bytes()
    inrelease = forged / "InRelease"
    inrelease.write_text(
        inrelease.read_text().replace(
            f"{hashlib.sha256(before).hexdigest()} {len(before)} Packages",
            f"{hashlib.sha256(after).hexdigest()} {len(after)} Packages",
        )
    )
    update = (
        "sudo apt-get update -o Dir::Etc::SourceList=/etc/apt/sources.list.d/confprov.sources "
        "-o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 2>&1"
    )
    with mirror.serve(forged, [controller]):
        refused = lab.ssh(address, update, check=False)
    assert "BADSIG" in refused.stdout or "signatures were invalid" in refused.stdout, refused.stdout
    # apt kept the index it had verified: the forged one was never used.
    kept = lab.ssh(address, "cat /var/lib/apt/lists/*8473*_Packages").stdout
    assert "Package: baresip-core" in kept and "X-Forged" not in kept


def test_survey_saved_per_site_and_summarised(lab, first) -> None:  # type: ignore[no-untyped-def]
    _, out = first
    for site in lab.sites:
        data = json.loads((lab.workspace / "survey" / f"{site}.json").read_text())
        assert data["site"] == site and data["memory_mb"] > 0 and data["cpu"]["cores"] > 0
        assert data["cameras"] == []  # lab endpoints have none: the summary says so, truthfully
    assert out["survey"]["sites"] == 3
    assert len(out["survey"]["lacking"]["camera"]) == 3


def test_no_secret_in_any_file_of_any_run_folder(lab, first) -> None:  # type: ignore[no-untyped-def]
    runs = lab.workspace / "runs"
    for secret in vault_secrets(lab.workspace):
        found = subprocess.run(["grep", "-rlF", secret, str(runs), str(lab.workspace / "survey")],
                               capture_output=True, text=True, check=False)  # fmt: skip
        assert found.stdout == "", f"a vault secret is in {found.stdout}"


def test_rerun_changes_nothing(lab, first) -> None:  # type: ignore[no-untyped-def]
    code, out = provision(lab)
    assert code == 0
    assert {h: v["changed"] for h, v in hosts(out).items()} == dict.fromkeys(lab.sites, 0)
    assert all(v["status"] == "ok" for v in hosts(out).values())


def test_check_shows_what_would_change_and_changes_nothing(lab, first) -> None:  # type: ignore[no-untyped-def]
    site = lab.sites[1]
    lab.ssh(lab.endpoint(site), "echo '# edited by hand' >> ~/.baresip/config")
    try:
        code, out = provision(lab, "--check")
        assert code == 0
        assert out["would_change"] == {site: ["/home/conf/.baresip/config: content differs"]}
        assert "edited by hand" in lab.ssh(lab.endpoint(site), "cat ~/.baresip/config").stdout
        code, out = provision(lab, "--limit", site)
        assert set(hosts(out)) == {site} and hosts(out)[site]["changed"] > 0
        assert "edited by hand" not in lab.ssh(lab.endpoint(site), "cat ~/.baresip/config").stdout
    finally:
        provision(lab, "--limit", site)


def test_failing_and_unreachable_endpoints_do_not_stop_the_others(lab, first) -> None:  # type: ignore[no-untyped-def]
    broken, dead, fine = lab.sites
    # A failure on one endpoint: its client folder is a file (someone's mistake).
    lab.ssh(lab.endpoint(broken), "rm -rf ~/.baresip && echo oops > ~/.baresip")
    # An unreachable one: SSH dropped inside that endpoint's own namespace (no other address).
    table = "inet p4_block_ssh"
    lab.run(dead, ["nft", f"add table {table}"])
    try:
        lab.run(dead, ["nft", f"add chain {table} in {{ type filter hook input priority 0; }}"])
        # A reset, not a silent drop: Ansible's kept-open SSH connection fails at once too.
        lab.run(dead, ["nft", f"add rule {table} in tcp dport 22 reject with tcp reset"])
        code, out = provision(lab)
        assert code == 1
        result = hosts(out)
        assert result[fine]["status"] == "ok"
        assert result[broken]["status"] == "failed"
        assert result[broken]["failed_task"] == "Create the client's folders in the operator's home"
        assert result[dead]["status"] == "unreachable"
        code2 = main(["provision", "-w", str(lab.workspace), "--retry-failed", "-q"])
        assert code2 == 1
    finally:
        lab.run(dead, ["nft", f"delete table {table}"], check=False)
        lab.ssh(lab.endpoint(broken), "rm -f ~/.baresip")
    code, out = provision(lab, "--retry-failed")
    assert code == 0
    assert set(hosts(out)) == {broken, dead}, "only the hosts that failed last time"
    assert lab.ssh(lab.endpoint(broken), "test -d ~/.baresip && echo dir").stdout.strip() == "dir"


def test_limit_to_a_district_and_unknown_limit(lab, first, capsys) -> None:  # type: ignore[no-untyped-def]
    district = next(s for s in lab.plan.sites if s.level == "district")
    code, out = provision(lab, "--limit", f"district:{district.name}")
    assert code == 0
    assert district.slug in hosts(out)
    assert set(hosts(out)) < set(lab.sites)
    assert main(["provision", "-w", str(lab.workspace), "--limit", "level:village"]) == 2
    assert "no such level" in capsys.readouterr().err
