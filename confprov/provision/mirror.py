"""The workspace's package mirror: the pinned client and its dependency closure, signed.

Endpoints have no internet. The controller downloads, from its own apt sources, the client at
its pinned version and every package it depends on (resolved by apt itself against an empty
system, so the closure holds even on a bare endpoint), writes a flat repository
(``Packages`` with SHA256 sums, ``Release``, ``InRelease`` signed with a key of this workspace)
and serves it over HTTP on the management network while ``confprov provision`` runs. On the
endpoint apt checks the signature of ``InRelease`` against the key the role installs, and the
SHA256 of every package against ``Packages``: nothing unverified is installed.

The private key lives in ``<workspace>/mirror-key/`` (mode 0700), never in the served folder.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confprov import safefile
from confprov.exceptions import ConfprovError, EnvironmentProblem, InputError, Problem

MIRROR_DIR = "mirror"
KEY_DIR = "mirror-key"
MANIFEST = "mirror.json"
PUBLIC_KEY = "confprov.asc"
# A fixed port keeps the endpoints' apt source identical from run to run (idempotence); the
# server binds the controller's management address only, so labs of other slots do not clash.
DEFAULT_PORT = 8473
_ORIGIN = "confprov"


@dataclass(frozen=True, kw_only=True)
class MirrorSpec:
    """What the mirror must hold: ``name=version`` pins and unpinned names."""

    profile: str
    pinned: tuple[str, ...]  # "baresip-core=1.0.0-4+b3"
    extra: tuple[str, ...]  # any version: baseline tools, python3-apt for Ansible's apt module
    release: str
    arch: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "pinned": list(self.pinned),
            "extra": list(self.extra),
            "release": self.release,
            "arch": self.arch,
        }


@dataclass(frozen=True, kw_only=True)
class MirrorState:
    path: Path
    built: bool  # False: the existing mirror already matched
    packages: int
    size_bytes: int
    seconds: float

    def text(self) -> str:
        size = f"{self.size_bytes / 1e6:.0f} MB"
        if not self.built:
            return f"mirror {self.path}: up to date ({self.packages} packages, {size})"
        return (
            f"mirror {self.path}: built {self.packages} packages ({size}) in {self.seconds:.1f} s"
        )


def controller_release() -> tuple[str, str]:
    """The controller's Debian codename and architecture: the mirror is for endpoints alike."""
    codename = ""
    with contextlib.suppress(FileNotFoundError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                codename = line.split("=", 1)[1].strip().strip('"')
    arch = _run(["dpkg", "--print-architecture"]).strip()
    return codename, arch


def read_manifest(workspace: Path) -> dict[str, Any] | None:
    path = workspace / MIRROR_DIR / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data


def public_key(workspace: Path) -> str:
    return (workspace / MIRROR_DIR / PUBLIC_KEY).read_text()


def ensure_mirror(workspace: Path, spec: MirrorSpec, *, rebuild: bool = False) -> MirrorState:
    """Build the mirror when it is missing or holds something else than ``spec``."""
    target = workspace / MIRROR_DIR
    manifest = read_manifest(workspace)
    if (
        not rebuild
        and manifest is not None
        and manifest.get("spec") == spec.as_dict()
        and (target / "InRelease").is_file()
    ):
        return MirrorState(
            path=target,
            built=False,
            packages=manifest["packages"],
            size_bytes=manifest["size_bytes"],
            seconds=0.0,
        )
    return build_mirror(workspace, spec)


def build_mirror(workspace: Path, spec: MirrorSpec) -> MirrorState:
    """Download, index and sign into a fresh folder, then swap it in: never half a mirror."""
    _require(["apt-get", "dpkg-scanpackages", "gpg", "gpgconf"])
    started = time.monotonic()
    target = workspace / MIRROR_DIR
    safefile.refuse_link(target)
    safefile.real_dir(workspace, KEY_DIR, mode=0o700)
    # An unpredictable, exclusively created staging folder (never a fixed name a link could
    # be planted at), swapped in when complete.
    staging = Path(tempfile.mkdtemp(prefix=f".{MIRROR_DIR}-new-", dir=workspace))
    archives = staging / "archives"
    (archives / "partial").mkdir(parents=True)
    # Reuse what an earlier build downloaded: apt skips files already present and intact.
    # Regular files only: a link planted in the served folder is never followed into it.
    if target.is_dir():
        for deb in target.glob("*.deb"):
            if deb.is_file() and not deb.is_symlink():
                shutil.copy2(deb, archives / deb.name, follow_symlinks=False)
    try:
        _download(spec, staging, archives)
        repo = staging / "repo"
        repo.mkdir()
        for deb in archives.glob("*.deb"):
            deb.rename(repo / deb.name)
        shutil.rmtree(archives)
        packages = _index(repo)
        size = sum(p.stat().st_size for p in repo.glob("*.deb"))
        _sign(workspace, repo)
        manifest = {
            "spec": spec.as_dict(),
            "packages": packages,
            "size_bytes": size,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (repo / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        old = staging / "old"  # inside the staging folder: removed with it
        if target.exists():
            target.rename(old)
        repo.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return MirrorState(
        path=target,
        built=True,
        packages=packages,
        size_bytes=size,
        seconds=time.monotonic() - started,
    )


def _require(programs: Iterable[str]) -> None:
    package = {"dpkg-scanpackages": "dpkg-dev", "gpg": "gnupg", "gpgconf": "gnupg"}
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        names = sorted({package.get(p, p) for p in missing})
        raise EnvironmentProblem(
            f"mirror: missing program(s) {', '.join(missing)}: apt-get install {' '.join(names)}"
        )


def _download(spec: MirrorSpec, staging: Path, archives: Path) -> None:
    # apt resolves the closure as for a system with nothing installed (empty dpkg status), so a
    # bare endpoint finds every dependency; it uses the controller's own package lists.
    status = staging / "status"
    status.write_text("")
    argv = [
        "apt-get",
        "-q",
        "-o",
        f"Dir::State::status={status}",
        "-o",
        f"Dir::Cache::archives={archives}",
        "-o",
        "Debug::NoLocking=1",
        "-o",
        f"APT::Architecture={spec.arch}",
        "install",
        "-y",
        "--download-only",
        "--no-install-recommends",
        *spec.pinned,
        *spec.extra,
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = " ".join(
            line for line in proc.stderr.splitlines() if line.startswith(("E:", "W:"))
        )
        raise InputError(
            [
                Problem(
                    "confprov.yml",
                    None,
                    "client.version",
                    f"the controller's apt cannot download {' '.join(spec.pinned)} and its "
                    f"dependencies ({detail or proc.stderr.strip()[-300:]}); check the pinned "
                    "version (`apt-cache policy <package>`) and refresh the controller's lists "
                    "(`apt-get update`)",
                )
            ]
        )


def _index(repo: Path) -> int:
    packages = _run(["dpkg-scanpackages", "-m", ".", "/dev/null"], cwd=repo)
    (repo / "Packages").write_text(packages)
    return packages.count("\nPackage: ") + packages.startswith("Package: ")


def release_text(repo: Path, codename: str = "") -> str:
    """A flat repository's Release: the index files with their sizes and SHA256 sums."""
    lines = [
        f"Origin: {_ORIGIN}",
        f"Label: {_ORIGIN} conference client mirror",
        "Suite: confprov",
        f"Codename: {codename or 'confprov'}",
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}",
        "SHA256:",
    ]
    for name in ("Packages",):
        data = (repo / name).read_bytes()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}")
    return "\n".join(lines) + "\n"


def _gpg(workspace: Path, args: list[str]) -> str:
    home = workspace / KEY_DIR
    return _run(["gpg", "--batch", "--quiet", "--homedir", str(home), *args])


def _ensure_key(workspace: Path) -> str:
    """The workspace's signing key (made once), as its fingerprint."""
    home = safefile.real_dir(workspace, KEY_DIR, mode=0o700)  # never through a link
    home.chmod(0o700)
    listing = _gpg(workspace, ["--with-colons", "--list-secret-keys"])
    fprs = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
    if fprs:
        return fprs[0]
    uid = f"confprov mirror ({workspace.name}) <confprov@{socket.gethostname()}>"
    _gpg(
        workspace,
        ["--passphrase", "", "--quick-generate-key", uid, "ed25519", "sign", "never"],
    )
    listing = _gpg(workspace, ["--with-colons", "--list-secret-keys"])
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def _sign(workspace: Path, repo: Path) -> None:
    try:
        fpr = _ensure_key(workspace)
        (repo / "Release").write_text(release_text(repo))
        _gpg(workspace, ["--yes", "--local-user", fpr, "--clearsign", "-o", str(repo / "InRelease"),
                         str(repo / "Release")])  # fmt: skip
        _gpg(workspace, ["--yes", "--local-user", fpr, "--armor", "--detach-sign", "-o",
                         str(repo / "Release.gpg"), str(repo / "Release")])  # fmt: skip
        (repo / PUBLIC_KEY).write_text(_gpg(workspace, ["--armor", "--export", fpr]))
    finally:
        # gpg started an agent for this home: stop it (only this home's agent).
        subprocess.run(
            ["gpgconf", "--homedir", str(workspace / KEY_DIR), "--kill", "gpg-agent"],
            capture_output=True,
            check=False,
        )


def _run(argv: list[str], cwd: Path | None = None) -> str:
    env = {**os.environ, "LC_ALL": "C"}
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    if proc.returncode != 0:
        raise ConfprovError(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return proc.stdout


# --------------------------------------------------------------------------- serving


def source_address(remote: str) -> str:
    """The controller's address that ``remote`` is reached from (no packet is sent)."""
    family = socket.AF_INET6 if ":" in remote else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect((remote, 9))
        return str(sock.getsockname()[0])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextlib.contextmanager
def serve(
    root: Path, addresses: Iterable[str], port: int = DEFAULT_PORT
) -> Iterator[dict[str, str]]:
    """Serve ``root`` read-only over HTTP on each address (never on all interfaces).

    Yields each address's base URL; the servers stop when the block ends.
    """
    handler = functools.partial(_QuietHandler, directory=str(root))
    servers: list[http.server.ThreadingHTTPServer] = []
    urls: dict[str, str] = {}
    try:
        for address in sorted(set(addresses)):
            try:
                server = http.server.ThreadingHTTPServer((address, port), handler)
            except OSError as exc:
                raise EnvironmentProblem(
                    f"mirror: cannot serve on {address}:{port} ({exc.strerror}); is another "
                    "`confprov provision` running on this lab?"
                ) from None
            server.daemon_threads = True
            servers.append(server)
            # A short poll interval: shutdown() waits up to one interval (0.5 s by default).
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"mirror-{address}",
                daemon=True,
            ).start()
            host = f"[{address}]" if ":" in address else address
            urls[address] = f"http://{host}:{port}/"
        yield urls
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
