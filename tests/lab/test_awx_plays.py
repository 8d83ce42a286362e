"""The plays as AWX runs them: plain `ansible-playbook` on the lab's real hosts, no confprov
command in between (docs/awx.md).

What an AWX job has is reproduced here with the same parts: the project's checkout as the working
folder (its ansible.cfg), the inventory plugin file as the inventory source, `confprov
export-vars`' file as the job's extra variables, the vault opened by the plays with a vault
password (AWX's Vault credential), router logins from `-u`/`-k` answered at the prompt (AWX's
Machine credential, the way AWX answers it) or from ANSIBLE_NET_USERNAME/PASSWORD (its Network
credential). AWX itself, its container engine and execution environment cannot run here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from confprov import paths, vault
from confprov.cli import main
from confprov.inventory import group_name
from confprov.lab.system import lab_unavailable
from confprov.playvars import SOURCE_FILE

if (_reason := lab_unavailable()) is not None:
    pytest.skip(_reason, allow_module_level=True)

from tests.lab.test_verify import conference_route, fault, prepared  # noqa: F401

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class Job:
    """One workspace as an AWX project sees it: inventory source, extra variables, vault."""

    def __init__(self, lab, folder: Path) -> None:
        self.lab = lab
        self.folder = folder
        self.vars = folder / "play-vars.yml"
        assert main(["export-vars", "-w", str(lab.workspace), "--out", str(self.vars)]) == 0
        self.source = lab.workspace / SOURCE_FILE  # the workspace's own, written by export-vars
        assert "plugin: confprov.core.registry" in self.source.read_text()
        self.password = vault.read_password(lab.workspace)
        self.pass_file = folder / "vault-pass"
        fd = os.open(self.pass_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.password + "\n")
        self.secrets = vault.decrypt(lab.workspace / vault.VAULT_FILE, self.password)

    def argv(self, play: str, *args: str) -> list[str]:
        return [
            str(BIN / "ansible-playbook"),
            "-i", str(self.source),
            "-e", f"@{self.vars}",
            "--vault-password-file", str(self.pass_file),
            str(paths.playbook(play)),
            *args,
        ]  # fmt: skip

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            **extra,
        }

    def run(self, play: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """ansible-playbook from the project's checkout (AWX runs a job in the project folder,
        so the project's ansible.cfg applies: roles and collections paths)."""
        return subprocess.run(
            self.argv(play, *args), cwd=REPO, env=self.env(**env), capture_output=True,
            text=True, timeout=600, check=False,
        )  # fmt: skip

    def vault_without_routers(self) -> Path:
        """A vault holding only the SIP passwords: router logins must come from elsewhere."""
        path = self.folder / "vault-sip-only.yml"
        sip = {"vault_sip_passwords": self.secrets["vault_sip_passwords"]}
        path.write_text(vault.encrypt(sip, self.password))
        return path


@pytest.fixture(scope="module")
def job(lab, tmp_path_factory) -> Iterator[Job]:
    made = Job(lab, tmp_path_factory.mktemp("awx"))
    yield made
    made.source.unlink()  # the shared lab's workspace as it was


def test_verify_job_fails_exactly_when_the_site_is_not_ready(lab, prepared, job, tmp_path):  # noqa: F811
    site = lab.sites[0]
    limit = group_name("site", site)
    conference_route(lab, 0, add=True)  # the one thing the shared lab lacks for readiness
    try:
        ready = job.run("verify.yml", "--limit", limit)
        assert ready.returncode == 0, ready.stdout[-3000:] + ready.stderr
        assert f'"msg": "{site} ready"' in ready.stdout
        assert "failed=0" in ready.stdout

        fault(lab, 0, "--loss", "10")
        try:
            lossy = job.run("verify.yml", "--limit", limit)
            # confprov's own verify keeps its behaviour: exit 1, the play's hosts not failed
            # (it judges on the controller; the play's verdict is off).
            out = tmp_path / "verify.json"
            rc = main(["verify", "-w", str(lab.workspace), "--limit", site, "--no-router-checks",
                       "--json", str(out), "--lang", "en"])  # fmt: skip
        finally:
            fault(lab, 0, "--clear")
    finally:
        conference_route(lab, 0, add=False)
    assert lossy.returncode == 2, lossy.stdout[-3000:] + lossy.stderr  # a host failed
    assert f"{site} not ready: loss: " in lossy.stdout
    assert "failed=1" in lossy.stdout
    assert rc == 1
    import json

    data = json.loads(out.read_text())
    assert not data["sites"][0]["ready"]
    summary = json.loads((Path(data["run"]["run_dir"]) / "summary.json").read_text())
    assert {h["status"] for h in summary["hosts"].values()} == {"ok"}
    # No secret of the vault on the plays' output, and none in the exported variables.
    secrets = [job.secrets["vault_router_password"], *job.secrets["vault_sip_passwords"].values()]
    exported = job.vars.read_text()
    for text in (ready.stdout, lossy.stdout, exported):
        assert not any(s in text for s in secrets)


def test_ping_play_runs_alone(lab, job):
    proc = job.run("ping.yml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert proc.stdout.count("ok=1 ") == len(lab.sites)


def test_router_logins_from_the_standard_connection_variables(lab, job):
    """Vault without router credentials: a routers plan (check mode) logs in with the Machine
    credential's -u/-k (prompt answered as AWX does) or the Network credential's environment;
    with neither it stops before any router, naming what to set."""
    user = job.secrets["vault_router_username"]
    password = job.secrets["vault_router_password"]
    only_sip = f"confprov_vault_file={job.vault_without_routers()}"

    bare = job.run("routers.yml", "--check", "-e", only_sip)
    assert bare.returncode != 0
    assert "no router username" in bare.stdout and "ansible_user" in bare.stdout

    env = job.env(ANSIBLE_NET_USERNAME=user, ANSIBLE_NET_PASSWORD=password)
    network = subprocess.run(
        job.argv("routers.yml", "--check", "-e", only_sip), cwd=REPO, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert network.returncode == 0, network.stdout[-3000:] + network.stderr
    assert "failed=0" in network.stdout

    child = pexpect.spawn(
        job.argv("routers.yml", "--check", "-e", only_sip, "-u", user, "-k")[0],
        job.argv("routers.yml", "--check", "-e", only_sip, "-u", user, "-k")[1:],
        cwd=str(REPO), env=job.env(), encoding="utf-8", timeout=300,
    )  # fmt: skip
    child.expect("SSH password:")
    child.sendline(password)
    child.expect(pexpect.EOF)
    child.close()
    machine = child.before or ""
    assert child.exitstatus == 0, machine[-3000:]
    assert "failed=0" in machine and password not in machine
