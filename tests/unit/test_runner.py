"""The runner façade, through real ansible-runner and ansible-playbook.

Hosts use Ansible's local connection (no lab needed for the façade itself); the unreachable one
has an SSH executable that fails as ssh does when a host is down: no packet leaves the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from confprov import paths, runner, vault
from confprov.exceptions import InputError

pytestmark = pytest.mark.ansible  # the façade through real ansible-runner

DATA = Path(__file__).parent / "data"
VAULT_PASSWORD = "vault-pw-Zq81"
ROUTER_SECRET = "R0uter-S3cret-xyz"
UNREACHABLE = DATA / "ssh-unreachable"
LOCAL = "{ansible_connection: local, ansible_python_interpreter: /usr/bin/python3}"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ws = tmp_path / "ws"
    (ws / "inventory").mkdir(parents=True)
    (ws / "inventory" / "hosts.yml").write_text(
        "all:\n  hosts:\n"
        f"    good: {LOCAL}\n    steady: {LOCAL}\n    bad: {LOCAL}\n"
        f"    gone: {{ansible_host: gone.invalid, ansible_ssh_executable: {UNREACHABLE}}}\n"
        f"  vars: {{confprov_vault_file: {ws / 'vault.yml'}}}\n"
    )
    vault.write_password_file(ws / ".vault-pass", VAULT_PASSWORD)
    (ws / "vault.yml").write_text(
        vault.encrypt({"vault_router_password": ROUTER_SECRET}, VAULT_PASSWORD)
    )
    real = paths.playbook
    monkeypatch.setattr(
        paths,
        "playbook",
        lambda name: DATA / "playbooks" / name if name == "runner_probe.yml" else real(name),
    )
    return ws


def test_result_names_each_failed_host_and_why(ws: Path) -> None:
    seen: list[str] = []
    result = runner.run_playbook(
        ws, "runner_probe.yml", action="probe", forks=4, on_progress=lambda p: seen.append(p.task)
    )
    hosts = result.hosts
    assert hosts["good"].status == "changed"
    assert hosts["steady"].status == "ok"
    assert hosts["bad"].status == "failed"
    assert hosts["bad"].failed_task == "Fail on one host"
    assert hosts["bad"].message == "boom on bad"
    assert hosts["gone"].status == "unreachable"
    assert not result.ok
    assert "Change something" in seen  # progress followed the tasks
    text = result.summary_text()
    assert "FAILED      bad: Fail on one host: boom on bad" in text
    assert "UNREACHABLE gone" in text
    # ansible-runner's own artifacts stay, for audit with standard tools
    events = list((result.run_dir / "artifacts" / "ansible" / "job_events").glob("*.json"))
    kinds = {json.loads(e.read_text())["event"] for e in events}
    assert "playbook_on_stats" in kinds
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["hosts"]["bad"]["status"] == "failed"


def test_no_secret_in_the_run_folder(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(vault.PASSWORD_ENV, VAULT_PASSWORD)  # also when given by environment
    result = runner.run_playbook(ws, "runner_probe.yml", action="probe", forks=4)
    assert result.hosts["good"].status == "changed"  # the vault was read: the task used it
    found = subprocess.run(
        ["grep", "-rlF", "-e", VAULT_PASSWORD, "-e", ROUTER_SECRET, str(ws / "runs")],
        capture_output=True,
        text=True,
    )
    assert found.stdout == "", f"secret written to {found.stdout}"
    command = json.loads((result.run_dir / "artifacts" / "ansible" / "command").read_text())
    assert vault.PASSWORD_ENV not in command["env"]
    # The play loads the vault (vars_files, as under AWX): the runner does not load it again.
    assert "--ask-vault-password" in command["command"]
    assert not any(arg.startswith("@") and "vault.yml" in arg for arg in command["command"])
    # It names the vault for the play (whenever the inventory was rendered): its path, no secret.
    extra = json.loads(command["command"][command["command"].index("-e") + 1])
    assert extra["confprov_vault_file"] == str(ws / "vault.yml")
    assert os.environ[vault.PASSWORD_ENV] == VAULT_PASSWORD  # restored for the caller


def test_the_controllers_unrelated_environment_stays_out_of_the_run_folder(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unrelated-Cl0ud-key")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_unrelated-t0ken")
    result = runner.run_playbook(ws, "runner_probe.yml", action="probe", forks=4)
    assert result.hosts["good"].status == "changed"
    found = subprocess.run(
        ["grep", "-rlF", "-e", "unrelated-Cl0ud-key", "-e", "ghp_unrelated", str(ws / "runs")],
        capture_output=True,
        text=True,
    )
    assert found.stdout == "", f"the controller's environment written to {found.stdout}"
    command = json.loads((result.run_dir / "artifacts" / "ansible" / "command").read_text())
    assert "ANSIBLE_ROLES_PATH" in command["env"]  # what confprov set is kept, for audit


def test_an_unencrypted_vault_or_an_open_password_file_is_refused_before_any_run(
    ws: Path,
) -> None:
    (ws / ".vault-pass").chmod(0o644)
    with pytest.raises(InputError, match=r"readable by others \(mode 0644\).*chmod 600"):
        runner.run_playbook(ws, "runner_probe.yml", action="probe")
    (ws / ".vault-pass").chmod(0o600)
    (ws / "vault.yml").write_text(f"vault_router_password: {ROUTER_SECRET}\n")
    with pytest.raises(InputError, match=r"not encrypted.*ansible-vault encrypt") as caught:
        runner.run_playbook(ws, "runner_probe.yml", action="probe")
    assert ROUTER_SECRET not in str(caught.value)
    assert not (ws / "runs").exists(), "refused before a run folder was made"


def test_a_wrong_vault_password_is_bad_input_before_any_run(ws: Path) -> None:
    vault.write_password_file(ws / ".vault-pass", "not-the-password")
    with pytest.raises(InputError, match="cannot decrypt"):
        runner.run_playbook(ws, "runner_probe.yml", action="probe")
    assert not (ws / "runs").exists()


def test_a_symlinked_runs_folder_is_refused(ws: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ws / "runs").symlink_to(elsewhere)
    with pytest.raises(InputError, match="is a symbolic link"):
        runner.run_playbook(ws, "runner_probe.yml", action="probe")
    assert list(elsewhere.iterdir()) == []


def test_retry_limit_takes_failed_and_unreachable(ws: Path) -> None:
    runner.run_playbook(ws, "runner_probe.yml", action="probe", forks=4)
    assert runner.retry_limit(ws, "probe") == ["bad", "gone"]
    again = runner.run_playbook(ws, "runner_probe.yml", action="probe", limit=["bad", "gone"])
    assert set(again.hosts) == {"bad", "gone"}


def test_retry_without_a_previous_run_is_bad_input(ws: Path) -> None:
    with pytest.raises(InputError, match="no earlier 'probe' run"):
        runner.retry_limit(ws, "probe")


def test_missing_inventory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="confprov inventory"):
        runner.run_playbook(tmp_path, "ping.yml", action="ping")


def test_tasks_are_found_by_action_and_role_not_by_display_name(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provision roles' report task and a failing task, in copies of the roles whose display
    names were reworded: provision still finds what would change, the failure still names its
    role and module (the display name only for people)."""
    from confprov.provision.run import REPORT_ROLES, would_change

    roles = tmp_path / "roles"
    for role in REPORT_ROLES:
        report = (paths.roles_path() / role / "tasks" / "report.yml").read_text()
        assert "- name: Report what a real run would change" in report
        (roles / role / "tasks").mkdir(parents=True)
        (roles / role / "tasks" / "report.yml").write_text(
            report.replace("Report what a real run would change", f"Reworded in {role}")
        )
    (roles / "failing" / "tasks").mkdir(parents=True)
    (roles / "failing" / "tasks" / "main.yml").write_text(
        "- name: A display name nobody should rely on\n"
        "  ansible.builtin.fail:\n    msg: boom\n  when: inventory_hostname == 'bad'\n"
    )
    imports = "".join(
        f"    - name: Report in {role}\n      ansible.builtin.import_role:\n"
        f"        name: {role}\n        tasks_from: report\n      vars:\n"
        f"        _{role}_state: {{drift: ['{role} differs on {{{{ inventory_hostname }}}}']}}\n"
        for role in REPORT_ROLES
    )
    (tmp_path / "reworded.yml").write_text(
        "- name: Reworded roles\n  hosts: good:bad\n  gather_facts: false\n  tasks:\n"
        f"{imports}"
        "    - name: Fail in a role\n      ansible.builtin.import_role:\n        name: failing\n"
    )
    monkeypatch.setattr(paths, "roles_path", lambda: roles)
    monkeypatch.setattr(paths, "playbook", lambda name: tmp_path / name)
    result = runner.run_playbook(ws, "reworded.yml", action="probe", forks=2)
    bad = result.hosts["bad"]
    assert (bad.status, bad.failed_role, bad.failed_action) == (
        "failed",
        "failing",
        "ansible.builtin.fail",
    )
    assert bad.failed_task == "A display name nobody should rely on"  # shown to people
    assert (
        json.loads((result.run_dir / "summary.json").read_text())["hosts"]["bad"]["failed_role"]
        == "failing"
    )
    assert would_change(result.run_dir) == {
        host: sorted(f"{role} differs on {host}" for role in REPORT_ROLES)
        for host in ("bad", "good")
    }
    found = runner.task_results(result.run_dir, actions=("fail",), role="failing")
    assert [(t.host, t.status, t.action) for t in found] == [
        ("bad", "failed", "ansible.builtin.fail")
    ]


def test_retry_limit_keeps_the_limit(ws: Path) -> None:
    runner.run_playbook(ws, "runner_probe.yml", action="probe", forks=4)
    assert runner.retry_limit(ws, "probe", within=["gone", "good"]) == ["gone"]
    with pytest.raises(runner.NothingToRetry):
        runner.retry_limit(ws, "probe", within=["good"])
