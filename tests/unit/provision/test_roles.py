"""The provisioning roles: the state probe sees what differs (specs: tests/contracts).

The probe module runs through real ansible-playbook with the local connection on files in a
temporary folder and on this machine's own dpkg database (no endpoint is needed for it).
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


def play(tmp_path: Path, spec: dict[str, Any], check: bool = False) -> dict[str, Any]:
    """Run confprov.core.endpoint_state once on this machine with one section (files given with
    their content go through the confprov.core.checksummed filter, as the roles do); return that
    section's result with the module's changed flag and survey."""
    playbook = tmp_path / "probe.yml"
    args = (
        "{{ {'sections': {'t': spec | combine({"
        "'files': spec.files | default([]) | confprov.core.checksummed, "
        "'home_files': spec.home_files | default([]) | confprov.core.checksummed})}, "
        "'survey': true} }}"
    )
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"spec": spec},
                    "tasks": [
                        {"confprov.core.endpoint_state": args, "register": "state"},
                        {"ansible.builtin.copy": {"content": "{{ state | to_json }}",
                                                  "dest": str(tmp_path / "state.json")},
                         "check_mode": False},
                    ],
                }
            ]
        )
    )  # fmt: skip
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(paths.collections_path()),
        "ANSIBLE_NOCOLOR": "1",
    }
    argv = [
        str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
        "-e", f"ansible_python_interpreter={sys.executable}", str(playbook),
    ]  # fmt: skip
    if check:
        argv.append("--check")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "S3cret-in-file" not in proc.stdout + proc.stderr
    result = json.loads((tmp_path / "state.json").read_text())
    return {**result["sections"]["t"], "changed": result["changed"], "survey": result["survey"]}


@pytest.mark.ansible
def test_probe_names_each_difference_and_never_shows_content(tmp_path: Path) -> None:
    user = __import__("pwd").getpwuid(os.getuid()).pw_name
    (tmp_path / "home" / "app").mkdir(parents=True)
    same = tmp_path / "same.conf"
    same.write_text("a = 1\n")
    same.chmod(0o644)
    wrong = tmp_path / "home" / "app" / "accounts"
    wrong.write_text("old S3cret-in-file\n")
    wrong.chmod(0o644)
    dpkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dpkg"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    state = play(
        tmp_path,
        {
            "packages": {"dpkg": dpkg, "coreutils": "0.0-old", "no-such-package-x": ""},
            "absent": ["dpkg"],
            "files": [
                {"path": str(same), "content": "a = 1\n", "mode": "0644", "owner": user},
                {"path": str(tmp_path / "missing.conf"), "content": "wanted = 2\n", "mode": "0644"},
            ],
            "home": str(tmp_path / "home"),
            "home_owner": user,
            "home_dirs": ["app", "gone"],
            "home_files": [
                {
                    "path": "app/accounts",
                    "content": "new S3cret-in-file\n",
                    "mode": "0600",
                    "secret": True,
                }
            ],
            "processes": ["no-such-process-x"],
        },
        check=True,
    )
    drift = state["drift"]
    assert not any(str(same) in line for line in drift)
    assert any(
        line.startswith("package coreutils: ") and "wanted 0.0-old" in line for line in drift
    )
    assert "package no-such-package-x: not installed" in drift
    assert "package dpkg: installed, must be removed" in drift
    assert f"{tmp_path}/missing.conf: missing" in drift
    assert f"{tmp_path}/home/app: mode 0755, wanted 0700" in drift
    assert f"{tmp_path}/home/gone: missing" in drift
    assert f"{wrong}: mode 0644, wanted 0600" in drift
    assert f"{wrong}: content differs" in drift
    assert state["installed"]["dpkg"] == dpkg
    assert state["running"] == []
    assert "S3cret-in-file" not in json.dumps(state)
    assert state["changed"] is False
    assert state["survey"]["cpu"]["cores"] > 0 and state["survey"]["memory_mb"] > 0


@pytest.mark.ansible
def test_probe_refuses_an_unknown_key_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"section t: unknown key\(s\) packges"):
        play(tmp_path, {"packges": {"dpkg": ""}})


@pytest.mark.ansible
def test_probe_finds_nothing_to_do_when_all_matches(tmp_path: Path) -> None:
    user = __import__("pwd").getpwuid(os.getuid()).pw_name
    (tmp_path / "home" / "app").mkdir(parents=True, mode=0o700)
    (tmp_path / "home" / "app").chmod(0o700)
    target = tmp_path / "home" / "app" / "config"
    target.write_text("ok\n")
    target.chmod(0o600)
    state = play(
        tmp_path,
        {
            "home": str(tmp_path / "home"),
            "home_owner": user,
            "home_dirs": ["app"],
            "home_files": [{"path": "app/config", "content": "ok\n", "mode": "0600"}],
        },
    )
    assert state["drift"] == []


@pytest.mark.ansible
def test_survey_file_is_written_once_and_unchanged_after(tmp_path: Path) -> None:
    """The site_survey role's save step, through real ansible-playbook on this machine."""
    playbook = tmp_path / "save.yml"
    folder = tmp_path / "survey"
    task = {
        "confprov.core.site_survey_save": {
            "dir": str(folder),
            "name": "{{ inventory_hostname }}",
            "data": {"site": "yen-tap.cam-khe", "site_name": "UBND xã Yên Tập", "cameras": []},
        },
        "register": "saved",
    }
    playbook.write_text(
        yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [task, task]}])
    )
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(paths.collections_path()),
        "ANSIBLE_NOCOLOR": "1",
    }
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c",
            "local", str(playbook)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed=1" in proc.stdout, "written by the first task, left alone by the second"
    saved = json.loads((folder / "localhost.json").read_text(encoding="utf-8"))
    assert saved["site_name"] == "UBND xã Yên Tập"
    assert [p.name for p in folder.iterdir()] == ["localhost.json"], "no temporary file left"
