"""What each lab host gets on top of the shared image: its own host key, logins and boot script.

Everything is written into the host's overlay *upper* folder before the container starts, so the
controller knows every host key (for ``known_hosts``) without asking the host, and a host is ready
as soon as its sshd listens.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from confprov.lab.image import ENDPOINT_USER, ROUTER_USER

BOOT = "etc/confprov/boot.sh"
# The conference host sources every ``*.sh`` here before sshd starts: the hook for extra
# services (e.g. the media reflector of the verify issue). See ``conference_services``.
CONFERENCE_HOOK_DIR = "etc/confprov/conference.d"

ENDPOINT_BOOT = """mkdir -p /run/sshd
exec /usr/sbin/sshd -D -e
"""
ROUTER_BOOT = """mkdir -p /run/frr /run/sshd
chown frr:frr /run/frr
/usr/lib/frr/zebra -d -F traditional -A 127.0.0.1
/usr/lib/frr/staticd -d -F traditional -A 127.0.0.1
exec /usr/sbin/sshd -D -e
"""
CONFERENCE_BOOT = """mkdir -p /run/sshd /run/kamailio
chown kamailio:kamailio /run/kamailio
/usr/sbin/kamailio -P /run/kamailio/kamailio.pid -u kamailio -g kamailio -m 32 -M 4 -n 2 \\
    -l udp:{server}:5060 -l tcp:{server}:5060 -E 2>>/var/log/kamailio.log
for hook in /{hook_dir}/*.sh; do
    [ -e "$hook" ] && . "$hook"
done
exec /usr/sbin/sshd -D -e
"""


@dataclass(frozen=True)
class KeyPair:
    private_openssh: bytes
    public_line: str  # "ssh-ed25519 AAAA..."


def new_keypair(comment: str = "") -> KeyPair:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    line = public.decode() + (f" {comment}" if comment else "")
    return KeyPair(private, line)


def password_hash(password: str) -> str:
    """SHA-512 crypt hash for /etc/shadow; the password goes through stdin, never argv."""
    proc = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"],
        input=password,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


class HostWriter:
    """Writes files into upper folders with the ownership and modes of the image's folders.

    A folder that exists both in the image and in the upper folder shows the *upper* one's owner
    and mode inside the container, so every parent created here copies the image's.
    """

    def __init__(self, image: Path) -> None:
        self.image = image
        self._shadow = (image / "etc/shadow").read_text()
        self._ids: dict[str, tuple[int, int]] = {}
        for line in (image / "etc/passwd").read_text().splitlines():
            parts = line.split(":")
            self._ids[parts[0]] = (int(parts[2]), int(parts[3]))

    def ids(self, user: str) -> tuple[int, int]:
        return self._ids[user]

    def _dirs(self, upper: Path, rel: Path) -> None:
        for depth in range(1, len(rel.parts)):
            part = Path(*rel.parts[:depth])
            target = upper / part
            if target.exists():
                continue
            target.mkdir()
            source = self.image / part
            if source.is_dir():
                st = source.stat()
                os.chown(target, st.st_uid, st.st_gid)
                target.chmod(st.st_mode & 0o7777)

    def write(
        self, upper: Path, rel: str, data: bytes | str, mode: int, owner: tuple[int, int] = (0, 0)
    ) -> None:
        path = Path(rel)
        self._dirs(upper, path)
        target = upper / path
        target.write_bytes(data.encode() if isinstance(data, str) else data)
        os.chown(target, *owner)
        target.chmod(mode)

    def authorized_key(self, upper: Path, user: str, home: str, public_line: str) -> None:
        uid, gid = (0, 0) if user == "root" else self.ids(user)
        ssh_dir = upper / home.lstrip("/") / ".ssh"
        self._dirs(upper, Path(home.lstrip("/")) / ".ssh" / "x")
        if not ssh_dir.exists():
            ssh_dir.mkdir()
        os.chown(ssh_dir, uid, gid)
        ssh_dir.chmod(0o700)
        self.write(
            upper, f"{home.lstrip('/')}/.ssh/authorized_keys", public_line + "\n", 0o600, (uid, gid)
        )

    def host_key(self, upper: Path, pair: KeyPair) -> None:
        self.write(upper, "etc/ssh/ssh_host_ed25519_key", pair.private_openssh, 0o600)
        self.write(upper, "etc/ssh/ssh_host_ed25519_key.pub", pair.public_line + "\n", 0o644)

    def router_shadow(self, hashed: str) -> str:
        lines = []
        for line in self._shadow.splitlines():
            parts = line.split(":")
            if parts[0] == ROUTER_USER:
                parts[1] = hashed
            lines.append(":".join(parts))
        return "\n".join(lines) + "\n"

    def shadow_gid(self) -> int:
        for line in (self.image / "etc/group").read_text().splitlines():
            parts = line.split(":")
            if parts[0] == "shadow":
                return int(parts[2])
        return 0


def endpoint_files(writer: HostWriter, upper: Path, host_key: KeyPair, client_public: str) -> None:
    writer.host_key(upper, host_key)
    writer.authorized_key(upper, ENDPOINT_USER, f"/home/{ENDPOINT_USER}", client_public)
    writer.write(upper, BOOT, ENDPOINT_BOOT, 0o755)


def router_files(writer: HostWriter, upper: Path, host_key: KeyPair, shadow: str) -> None:
    writer.host_key(upper, host_key)
    writer.write(upper, "etc/shadow", shadow, 0o640, (0, writer.shadow_gid()))
    writer.write(upper, BOOT, ROUTER_BOOT, 0o755)


def conference_files(
    writer: HostWriter,
    upper: Path,
    host_key: KeyPair,
    *,
    client_public: str,
    server: str,
    services: dict[str, str],
) -> None:
    writer.host_key(upper, host_key)
    writer.authorized_key(upper, "root", "/root", client_public)
    boot = CONFERENCE_BOOT.format(server=server, hook_dir=CONFERENCE_HOOK_DIR)
    writer.write(upper, BOOT, boot, 0o755)
    for name, script in services.items():
        writer.write(upper, f"{CONFERENCE_HOOK_DIR}/{name}.sh", script, 0o644)
