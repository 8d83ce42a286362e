"""The Windows roles without a Windows host: what each task would be given, checked against
ansible.windows' own documentation, rendered by real Ansible into golden files per profile.

Nothing here runs a Windows module (no Windows host runs on this machine): the module contract
is checked against each module's documented options (``ansible-doc``), because ansible-lint
validates the arguments of Python modules only, not of ansible.windows' PowerShell modules.
The real run is the Molecule scenario (roles/windows_client/molecule/windows, docs/windows.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from confprov import paths
from confprov.provision import windows as winprov

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "tests" / "unit" / "golden" / "windows"
BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "ANSIBLE_ROLES_PATH": str(paths.roles_path()),
    "ANSIBLE_COLLECTIONS_PATH": str(paths.collections_path()),
    "ANSIBLE_NOCOLOR": "1",
}
# A fixed package (as confprov reads it from an MSI), so the golden files are reproducible.
PACKAGE = {
    "file": "Webex.msi",
    "url": "http://198.18.0.1:8474/Webex.msi",
    "sha256": "a" * 64,
    "product_code": "{6F0D3C1E-1B2A-4C3D-9E8F-0A1B2C3D4E5F}",
    "version": "44.10.0.31126",
    "product_name": "Webex",
}
SITE = {
    "windows_client_site": "so-khoa-hoc-va-cong-nghe",
    "windows_client_site_name": 'Sở Khoa học và Công nghệ "KHCN"',
    "windows_client_server": "198.19.255.10",
    "windows_client_port": 5061,
    "windows_client_transport": "tls",
    "windows_client_sip_domain": "hoinghi.example",
    "windows_client_web_url": "https://hop.example.vn:8443/phong/so-khcn?lang=vi",
}


def playbook(tmp_path: Path, plays: list[dict[str, Any]], extra: dict[str, Any]) -> str:
    """Run a play on localhost (local connection: only controller-side tasks), return stdout."""
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(plays, allow_unicode=True))
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    proc = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            f"@{tmp_path / 'extra.json'}",
            str(path),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def task_arguments(tmp_path: Path, profile: str) -> dict[str, Any]:
    """The arguments windows_client's tasks get for ``profile``, templated by Ansible itself
    (the profile passed as extra vars, as confprov passes it)."""
    out = tmp_path / "args.json"
    wanted = (
        "{{ {'win_package': _windows_client_install"
        " if windows_client_profile.kind == 'msi' else {},"
        " 'win_copy': windows_client_profile.files,"
        " 'win_regedit': windows_client_profile.registry} | to_nice_json }}"
    )
    plays = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "ansible.builtin.import_role": {
                        "name": "windows_client",
                        "tasks_from": "wanted",
                    }
                },
                {"ansible.builtin.copy": {"content": wanted, "dest": str(out), "mode": "0644"}},
            ],
        }
    ]
    loaded = winprov.load_windows_profile(profile)
    extra = {
        **SITE,
        "windows_client_profile": loaded.as_vars(),
        "windows_client_package": PACKAGE if loaded.kind == "msi" else {},
    }
    playbook(tmp_path, plays, extra)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.mark.parametrize("profile", winprov.available())
@pytest.mark.ansible
def test_task_arguments_per_profile_match_golden(tmp_path: Path, profile: str) -> None:
    """Regenerate after an intended change with ``CONFPROV_UPDATE_GOLDEN=1 pytest``."""
    args = task_arguments(tmp_path, profile)
    golden = GOLDEN / f"args-{profile}.json"
    text = json.dumps(args, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("CONFPROV_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    site_file = next(f for f in args["win_copy"] if f["path"].endswith("site.json"))
    identity = json.loads(site_file["content"])  # valid JSON, whatever the site's name holds
    assert identity["site"] == SITE["windows_client_site"]
    assert identity["name"] == SITE["windows_client_site_name"]


@pytest.mark.ansible
def test_the_msi_is_installed_by_product_code_checksum_and_pinned_properties(
    tmp_path: Path,
) -> None:
    install = task_arguments(tmp_path, "webex")["win_package"]
    assert install["product_id"] == PACKAGE["product_code"]
    assert (install["checksum"], install["checksum_algorithm"]) == (PACKAGE["sha256"], "sha256")
    assert install["path"] == PACKAGE["url"]
    assert "ACCEPT_EULA=TRUE" in install["arguments"]


@pytest.mark.ansible
def test_browser_policies_allow_exactly_the_conference_origin(tmp_path: Path) -> None:
    regedit = task_arguments(tmp_path, "browser")["win_regedit"]
    allowed = {
        (r["path"].rsplit("\\", 1)[-1], r["path"].split("\\")[3], r["data"])
        for r in regedit
        if "Policies" in r["path"]
    }
    origin = "https://hop.example.vn:8443"
    assert allowed == {
        ("VideoCaptureAllowedUrls", "Google", origin),
        ("AudioCaptureAllowedUrls", "Google", origin),
        ("VideoCaptureAllowedUrls", "Microsoft", origin),
        ("AudioCaptureAllowedUrls", "Microsoft", origin),
    }


# --------------------------------------------------------------------------- module contract


def windows_tasks() -> list[tuple[str, str, dict[str, Any]]]:
    """(file, module, arguments) of every ansible.windows task in the Windows roles and plays."""
    files = [
        *sorted((REPO / "roles").glob("windows_*/tasks/*.yml")),
        *sorted((REPO / "roles").glob("windows_*/handlers/*.yml")),
        REPO / "playbooks" / "provision.yml",
        REPO / "playbooks" / "verify.yml",
    ]
    found = []

    def walk(rel: str, tasks: list[dict[str, Any]]) -> None:
        for task in tasks or []:
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers", "block"):
                walk(rel, task.get(key, []))
            for key, value in task.items():
                if key.startswith("ansible.windows."):
                    found.append((rel, key, value))

    for path in files:
        walk(str(path.relative_to(REPO)), yaml.safe_load(path.read_text()) or [])
    return found


@pytest.mark.ansible
def test_every_windows_task_uses_only_documented_options() -> None:
    tasks = windows_tasks()
    modules = sorted({m for _, m, _ in tasks})
    assert len(modules) >= 9, modules  # the walk found the roles' modules
    docs = json.loads(
        subprocess.run(
            [str(BIN / "ansible-doc"), "-t", "module", "-j", *modules],
            capture_output=True,
            text=True,
            env=ENV,
            check=True,
        ).stdout
    )
    problems = []
    for rel, module, args in tasks:
        options = docs[module]["doc"].get("options", {})
        for name in set(args) - set(options):
            problems.append(f"{rel}: {module}: unknown option {name}")
        for name, spec in options.items():
            if spec.get("required") and name not in args:
                problems.append(f"{rel}: {module}: required option {name} missing")
            value = args.get(name)
            choices = spec.get("choices")
            if choices and isinstance(value, str) and "{{" not in value and value not in choices:
                problems.append(f"{rel}: {module}: {name}={value!r} not in {choices}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- verify's report


def recorded(path: str) -> dict[str, Any]:
    return json.loads((REPO / "tests" / "unit" / "data" / "windows" / path).read_text())


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "installed",
            {
                "versions": ["44.10.0.31126"],
                "site_file": True,
                "site": "so-khoa-hoc-va-cong-nghe",
                "sip_port": {"ok": True, "detail": "", "seconds": 0.02},
            },
        ),
        (
            "bare",
            {
                "versions": [],
                "site_file": False,
                "site": "",
                "sip_port": {
                    "ok": False,
                    "seconds": 5.01,
                    "detail": "timeout while waiting for 198.19.255.10:5061 to start listening",
                },
            },
        ),
    ],
)
@pytest.mark.ansible
def test_the_check_report_reads_recorded_module_results(
    tmp_path: Path, case: str, expected: dict[str, Any]
) -> None:
    """windows_check's report task run by Ansible on module results recorded in the shapes
    ansible.windows documents (RETURN of win_reg_stat, win_stat, slurp, win_wait_for): mocked
    results, because no Windows host runs here."""
    out = tmp_path / "fact.json"
    plays = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "ansible.builtin.include_tasks": str(
                        REPO / "roles/windows_check/tasks/report.yml"
                    )
                },
                {
                    "ansible.builtin.copy": {
                        "content": "{{ windows_check_result | to_json }}",
                        "dest": str(out),
                        "mode": "0644",
                    }
                },
            ],
        }
    ]
    playbook(tmp_path, plays, recorded(f"check-{case}.json"))
    assert json.loads(out.read_text()) == expected


@pytest.mark.ansible
def test_the_plays_pass_ansibles_syntax_check_with_a_windows_host(small_workspace: Path) -> None:
    from confprov.workspace import render_workspace_inventory

    render_workspace_inventory(small_workspace)
    for play in ("provision.yml", "verify.yml"):
        proc = subprocess.run(
            [
                str(BIN / "ansible-playbook"),
                "--syntax-check",
                "-i",
                str(small_workspace / "inventory"),
                str(paths.playbook(play)),
            ],
            capture_output=True,
            text=True,
            env=ENV,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.ansible
def test_the_provision_play_hands_the_role_what_confprov_read_from_the_msi(
    tmp_path: Path,
    build_msi,  # type: ignore[no-untyped-def]
) -> None:
    """The Windows play's own variables (playbooks/provision.yml), templated by Ansible with the
    extra variables confprov computes: the install task gets this laptop's URL of the MSI, its
    ProductCode and SHA-256 as read on the controller."""
    from confprov.config import parse_config

    ws = tmp_path / "ws"
    msi = build_msi(ws / "packages" / "windows" / "Webex.msi")
    config = parse_config("conference: {server: 198.19.255.10, sip_domain: h}\n", "confprov.yml")
    plan = winprov.plan(ws, config)
    plays = yaml.safe_load(paths.playbook("provision.yml").read_text())
    windows_play = next(p for p in plays if p["hosts"] == "os_windows")
    out = tmp_path / "vars.json"
    wanted = (
        "{{ {'install': _windows_client_install, 'site': windows_client_site,"
        " 'ntp': windows_baseline_ntp_server, 'survey_dir': site_survey_dir} | to_json }}"
    )
    test_play = {
        "hosts": "localhost",
        "gather_facts": False,
        "vars": windows_play["vars"],
        "tasks": [
            {"ansible.builtin.import_role": {"name": "windows_client", "tasks_from": "wanted"}},
            {"ansible.builtin.copy": {"content": wanted, "dest": str(out), "mode": "0644"}},
        ],
    }
    extra = {
        **plan.play_vars({"localhost": "http://198.18.0.1:8474/"}),
        "confprov_site": "so-khoa",
        "confprov_site_name": "Sở KHCN",
        "confprov_conference": config.as_vars()["conference"] | {"ntp_server": "198.19.255.1"},
        "confprov_windows": config.as_vars()["windows"],
        "confprov_workspace": str(ws),
    }
    playbook(tmp_path, [test_play], extra)
    got = json.loads(out.read_text())
    package = winprov.read_msi(msi)
    assert got["install"]["path"] == "http://198.18.0.1:8474/Webex.msi"
    assert got["install"]["product_id"] == package.product_code
    assert got["install"]["checksum"] == package.sha256
    assert (got["site"], got["ntp"], got["survey_dir"]) == (
        "so-khoa",
        "198.19.255.1",
        f"{ws}/survey",
    )
