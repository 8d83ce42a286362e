"""`pip install .` (not only editable) gives working playbooks, the plugin and the templates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.ansible
def test_wheel_ships_ansible_content_and_it_runs(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("confprov-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "ansible_collections/confprov/core/playbooks/ping.yml",
        "ansible_collections/confprov/core/plugins/inventory/registry.py",
        "confprov/templates/inventory/endpoint.yml.j2",
        "confprov/examples/phu-tho/sites.csv",
        "confprov/py.typed",
    ):
        assert needed in names, needed

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", "import confprov.paths as p; print(p.playbook('ping.yml'))"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    installed_play = Path(out.stdout.strip())
    assert installed_play.is_relative_to(target)
    ws = tmp_path / "ws"
    subprocess.run(
        [sys.executable, "-m", "confprov", "init", str(ws)], env=env, cwd=tmp_path, check=True
    )
    subprocess.run(
        [sys.executable, "-m", "confprov", "inventory", "-w", str(ws)],
        env=env,
        cwd=tmp_path,
        check=True,
    )
    check = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "--syntax-check",
            "-i",
            str(ws / "inventory"),
            str(installed_play),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
