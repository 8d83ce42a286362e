"""The offline mirror, built for real from this machine's apt sources (Debian's registry).

A small package keeps it quick; the closure is resolved by apt as for a bare system.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from confprov.provision import mirror

pytestmark = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("apt-get", "dpkg-scanpackages", "gpg", "gpgv")),
    reason="needs apt-get, dpkg-dev and gnupg",
)


def candidate(package: str) -> str:
    out = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    match = re.search(r"Candidate: (\S+)", out)
    if not match or match.group(1) == "(none)":
        pytest.skip(f"no {package} in this machine's apt lists")
    return match.group(1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, mirror.MirrorSpec]:
    ws = tmp_path_factory.mktemp("ws")
    release, arch = mirror.controller_release()
    spec = mirror.MirrorSpec(
        profile="test",
        pinned=(f"iputils-ping={candidate('iputils-ping')}",),
        extra=(),
        release=release,
        arch=arch,
    )
    state = mirror.build_mirror(ws, spec)
    assert state.built and state.packages >= 2
    return ws, spec


def test_every_package_is_indexed_with_its_sha256(built: tuple[Path, mirror.MirrorSpec]) -> None:
    ws, _ = built
    repo = ws / mirror.MIRROR_DIR
    index = (repo / "Packages").read_text()
    debs = sorted(repo.glob("*.deb"))
    assert any(d.name.startswith("iputils-ping_") for d in debs)
    assert any(d.name.startswith("libc6_") for d in debs), "closure as for a bare system"
    for deb in debs:
        digest = hashlib.sha256(deb.read_bytes()).hexdigest()
        assert f"Filename: ./{deb.name}\n" in index
        assert f"SHA256: {digest}\n" in index


def gpgv(ws: Path, tmp_path: Path, signed: Path) -> subprocess.CompletedProcess[str]:
    keyring = tmp_path / "key.gpg"
    subprocess.run(["gpg", "--batch", "--yes", "--dearmor", "-o", str(keyring),
                    str(ws / mirror.MIRROR_DIR / mirror.PUBLIC_KEY)], check=True)  # fmt: skip
    return subprocess.run(["gpgv", "--keyring", str(keyring), str(signed)],
                          capture_output=True, text=True, check=False)  # fmt: skip


def test_inrelease_is_signed_by_the_published_key_and_covers_the_index(
    built: tuple[Path, mirror.MirrorSpec], tmp_path: Path
) -> None:
    ws, _ = built
    repo = ws / mirror.MIRROR_DIR
    assert gpgv(ws, tmp_path, repo / "InRelease").returncode == 0
    packages = (repo / "Packages").read_bytes()
    release = (repo / "InRelease").read_text()
    assert f" {hashlib.sha256(packages).hexdigest()} {len(packages)} Packages\n" in release
    forged = tmp_path / "InRelease"
    forged.write_text(release.replace(hashlib.sha256(packages).hexdigest(), "0" * 64))
    assert gpgv(ws, tmp_path, forged).returncode != 0


def test_private_key_stays_out_of_the_served_folder(built: tuple[Path, mirror.MirrorSpec]) -> None:
    ws, _ = built
    for path in (ws / mirror.MIRROR_DIR).iterdir():
        assert b"PRIVATE KEY" not in path.read_bytes(), path
    assert (ws / mirror.KEY_DIR).stat().st_mode & 0o077 == 0


def test_an_unchanged_spec_reuses_the_mirror_a_new_one_rebuilds(
    built: tuple[Path, mirror.MirrorSpec],
) -> None:
    ws, spec = built
    assert not mirror.ensure_mirror(ws, spec).built
    key_before = mirror.public_key(ws)
    wider = dataclasses.replace(spec, extra=("iproute2",))
    state = mirror.ensure_mirror(ws, wider)
    assert state.built
    assert any(p.name.startswith("iproute2_") for p in (ws / mirror.MIRROR_DIR).glob("*.deb"))
    assert mirror.public_key(ws) == key_before, "one key per workspace: endpoints keep trusting it"
    assert not (ws / ".mirror-new").exists() and not (ws / ".mirror-old").exists()


def test_an_unknown_version_is_bad_input_naming_the_field(tmp_path: Path) -> None:
    release, arch = mirror.controller_release()
    spec = mirror.MirrorSpec(
        profile="test",
        pinned=("iputils-ping=0.0-nonexistent",),
        extra=(),
        release=release,
        arch=arch,
    )
    with pytest.raises(mirror.InputError) as err:
        mirror.build_mirror(tmp_path, spec)
    assert "client.version" in str(err.value)
    assert not (tmp_path / mirror.MIRROR_DIR).exists(), "nothing half-way"
