"""Files are what they seem: the writers that keep private or served files (router backups, the
mirror and its signing key, run folders) refuse a link planted where they write, and the
helpers themselves never follow one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from confprov import safefile
from confprov.exceptions import InputError
from confprov.provision import mirror
from confprov.routers import backups


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_backups_never_go_through_a_planted_link(tmp_path: Path, elsewhere: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / backups.BACKUPS_DIR).symlink_to(elsewhere)
    with pytest.raises(InputError, match="is a symbolic link"):
        backups.save(ws, "site-rt", "hostname site\n")
    (ws / backups.BACKUPS_DIR).unlink()
    (ws / backups.BACKUPS_DIR).mkdir()
    (ws / backups.BACKUPS_DIR / "site-rt").symlink_to(elsewhere)
    with pytest.raises(InputError, match="is a symbolic link"):
        backups.save(ws, "site-rt", "hostname site\n")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("planted", [mirror.MIRROR_DIR, mirror.KEY_DIR])
def test_the_mirror_and_its_key_never_go_through_a_planted_link(
    tmp_path: Path, elsewhere: Path, planted: str
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / planted).symlink_to(elsewhere)
    release, arch = mirror.controller_release()
    spec = mirror.MirrorSpec(
        profile="test", pinned=("iputils-ping",), extra=(), release=release, arch=arch
    )
    with pytest.raises(InputError, match="is a symbolic link"):
        mirror.build_mirror(ws, spec)
    assert list(elsewhere.iterdir()) == []
    assert [p.name for p in ws.iterdir()] == [planted], "no staging folder left"


def test_replace_swaps_a_planted_link_for_a_file_and_leaves_its_target(
    tmp_path: Path, elsewhere: Path
) -> None:
    victim = elsewhere / "victim"
    victim.write_text("precious")
    path = tmp_path / "summary.json"
    path.symlink_to(victim)
    safefile.replace(path, "{}")
    assert victim.read_text() == "precious"
    assert not path.is_symlink() and path.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_create_refuses_a_planted_link(tmp_path: Path, elsewhere: Path) -> None:
    path = tmp_path / "new.yml"
    path.symlink_to(elsewhere / "target")
    with pytest.raises(FileExistsError):
        safefile.create(path, b"x")
    assert not (elsewhere / "target").exists()


def test_inputs_that_are_not_files_are_refused_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    with pytest.raises(InputError, match="is a FIFO"):
        safefile.read_input(tmp_path / "fifo", "registry")
    with pytest.raises(InputError, match="is a folder"):
        safefile.read_input(tmp_path / "dir", "registry")
    with pytest.raises(InputError, match="is a device"):
        safefile.read_input(Path("/dev/zero"), "registry")


def test_inside_keeps_paths_in_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "out").symlink_to(tmp_path)
    ws = tmp_path / "ws"
    assert safefile.inside(ws, "sites.csv") == ws.resolve() / "sites.csv"
    assert safefile.inside(ws, "../x.csv") is None
    assert safefile.inside(ws, "/etc/passwd") is None
    assert safefile.inside(ws, "out/x.csv") is None  # a link leading out counts as out
