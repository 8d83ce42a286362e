"""`pip install confprov` (a wheel, not only editable) gives working playbooks, the plugin, the
templates, and the collection confprov.core where Ansible finds it with no configured path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COLLECTION = "ansible_collections/confprov/core/"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO)],
        check=True,
    )  # fmt: skip
    (built,) = out.glob("confprov-*.whl")
    return built


@pytest.mark.ansible
def test_the_wheel_ships_the_collection_as_ansible_galaxy_builds_it(
    wheel: Path, tmp_path: Path
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "confprov/templates/inventory/endpoint.yml.j2",
        "confprov/examples/phu-tho/sites.csv",
        "confprov/py.typed",
    ):
        assert needed in names, needed
    shipped = {n.removeprefix(COLLECTION) for n in names if n.startswith(COLLECTION)}
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path),
         str(REPO / "collections" / COLLECTION)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (tarball,) = tmp_path.glob("confprov-core-*.tar.gz")
    with tarfile.open(tarball) as archive:
        packed = {m.name for m in archive.getmembers() if not m.isdir()}
    # The same files; the tarball describes itself in MANIFEST.json and FILES.json, the wheel's
    # copy by galaxy.yml (which ansible-galaxy reads when there is no MANIFEST.json).
    assert shipped == packed - {"MANIFEST.json", "FILES.json"} | {"galaxy.yml"}


@pytest.mark.ansible
def test_wheel_installed_elsewhere_runs_its_own_plays(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True,
    )  # fmt: skip
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
    assert installed_play == target / COLLECTION / "playbooks/ping.yml"
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


@pytest.mark.ansible
def test_a_fresh_venv_with_the_wheel_sees_the_collection_with_no_configured_path(
    wheel: Path, tmp_path: Path
) -> None:
    """A new venv, the wheel installed into it with --no-deps; its dependencies are this venv's
    (a .pth naming this venv's site-packages, whose own .pth files, the editable checkout's among
    them, are not read). No ANSIBLE_COLLECTIONS_PATH, no ansible.cfg: ansible-core finds
    confprov.core in the venv's site-packages, as after `pip install confprov`."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         str(wheel)],
        check=True,
    )  # fmt: skip
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),  # no ~/.ansible/collections of this machine
        "ANSIBLE_NOCOLOR": "1",
    }
    where = subprocess.run(
        [str(python), "-c", "import confprov.paths as p; print(p.collection_root())"],
        capture_output=True, text=True, check=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert Path(where.stdout.strip()) == site / COLLECTION.rstrip("/")
    for kind, name in (("module", "confprov_check"), ("module", "site_survey_save"),
                       ("inventory", "registry")):  # fmt: skip
        proc = subprocess.run(
            [str(python), "-m", "ansible", "doc", "--json", "-t", kind, f"confprov.core.{name}"],
            capture_output=True, text=True, check=False, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stderr
        doc = json.loads(proc.stdout)[f"confprov.core.{name}"]["doc"]
        assert Path(doc["filename"]).is_relative_to(site / COLLECTION), doc["filename"]
    # A play by its full name, its roles found in the collection (no roles path either).
    play = subprocess.run(
        [str(python), "-m", "ansible", "playbook", "--syntax-check", "-i", "localhost,",
         "confprov.core.provision"],
        capture_output=True, text=True, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert play.returncode == 0 and "ERROR" not in play.stderr, play.stderr
