"""`confprov trust HOST…`: pin a host's SSH key in the workspace's known_hosts, deliberately.

Every connection confprov makes refuses an unknown or changed key. Trusting is the one way a key
gets in: the operator names the host, sees the key's fingerprint and confirms it on a terminal
(``--yes`` for a script that checked the fingerprint another way; without a terminal and without
``--yes`` nothing is pinned and the command exits 2), and confprov pins it. Never silently on
first sight. A key that differs from the pinned one is only replaced with ``--replace``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from confprov.exceptions import InputError, NotReady
from confprov.routers.settings import DEFAULTS


@dataclass(frozen=True)
class Trusted:
    host: str
    address: str
    key_type: str
    fingerprint: str
    outcome: str  # pinned, already pinned, replaced, refused: changed, failed, not pinned

    def line(self) -> str:
        return f"{self.host} ({self.address}): {self.key_type} {self.fingerprint}: {self.outcome}"


def fingerprint(key_b64: str) -> str:
    digest = hashlib.sha256(base64.b64decode(key_b64)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def resolve(workspace: Path, hosts: list[str]) -> list[tuple[str, str, int]]:
    """Inventory names (routers, endpoints, conference-server) or addresses: (name, addr, port)."""
    from confprov.inventory import CONFERENCE_HOST
    from confprov.workspace import load

    loaded = load(workspace)
    known: dict[str, str] = {}
    for site in loaded.registry.sites:
        if site.router:
            known[site.router_host] = site.router
        for host, address in zip(site.endpoint_hosts, site.endpoints, strict=True):
            known[host] = address
    if loaded.config.conference.management_address:
        known[CONFERENCE_HOST] = loaded.config.conference.management_address
    addresses = set(known.values())
    out = []
    for ref in hosts:
        name, _, port = ref.partition(":")
        if name in known:
            out.append((name, known[name], int(port or 22)))
        elif name in addresses:
            out.append((name, name, int(port or 22)))
        else:
            raise InputError(
                f"trust {ref}: not a host of this workspace (a router `<site>-rt`, an endpoint, "
                "conference-server, or one of their addresses)"
            )
    return out


def fetch_key(
    address: str, port: int, timeout: float, prefer: tuple[str, ...] = ()
) -> tuple[str, str]:
    """The host key the server offers (type, base64), without logging in.

    ``prefer``: key types already pinned, asked for first (as paramiko's client does), so a
    pinned RSA key is compared with the server's RSA key, not its Ed25519 one.
    """
    import paramiko

    sock = socket.create_connection((address, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    try:
        options = transport.get_security_options()
        # A pinned RSA key is stored as `ssh-rsa`, a signature paramiko no longer offers:
        # ask for its SHA-2 signatures instead, and never for a type paramiko does not know.
        wanted = [
            alias
            for t in prefer
            for alias in (("rsa-sha2-512", "rsa-sha2-256") if t == "ssh-rsa" else (t,))
            if alias in options.key_types
        ]
        options.key_types = (*wanted, *(t for t in options.key_types if t not in wanted))
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
        return key.get_name(), key.get_base64()
    finally:
        transport.close()


Confirm = Callable[[list[Trusted]], bool]


def trust(
    workspace: Path,
    hosts: list[str],
    *,
    replace: bool = False,
    timeout: float = DEFAULTS.connect_timeout,
    confirm: Confirm | None = None,
) -> list[Trusted]:
    """Fetch each host's key, then pin the new (or, with ``replace``, changed) ones.

    ``confirm`` sees every key about to be pinned, fingerprints included, before anything is
    written; when it says no, nothing is. None pins without asking (``--yes``).
    """
    import paramiko

    path = workspace / "known_hosts"
    keys = paramiko.HostKeys()
    if path.exists():
        keys.load(str(path))
    results = []
    for name, address, port in resolve(workspace, hosts):
        entry = address if port == 22 else f"[{address}]:{port}"
        pinned = keys.lookup(entry) or {}
        try:
            key_type, key_b64 = fetch_key(address, port, timeout, tuple(pinned.keys()))
        except (OSError, EOFError, paramiko.SSHException) as exc:  # EOF: hung up mid-handshake
            results.append(Trusted(name, address, "-", "-", f"failed: {exc or type(exc).__name__}"))
            continue
        new = paramiko.PKey.from_type_string(key_type, base64.b64decode(key_b64))
        old = pinned.get(key_type)
        if old is not None and old.get_base64() == key_b64:
            outcome = "already pinned"
        elif pinned and not replace:
            outcome = "refused: CHANGED from the pinned key (check it; then --replace)"
        else:
            outcome = "replaced" if pinned else "pinned"
            if entry in keys:
                del keys[entry]
            keys.add(entry, key_type, new)
        results.append(Trusted(name, address, key_type, fingerprint(key_b64), outcome))
    pending = [r for r in results if r.outcome in ("pinned", "replaced")]
    if pending and confirm is not None and not confirm(pending):
        return [
            dataclasses.replace(r, outcome="not pinned: declined") if r in pending else r
            for r in results
        ]
    if pending:
        keys.save(str(path))
    return results


def ask_on_terminal(pending: list[Trusted]) -> bool:
    """Show the keys about to be pinned and ask; refuse (exit 2) where nobody can answer."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        shown = "; ".join(r.line().rsplit(": ", 1)[0] for r in pending)
        raise InputError(
            f"trust: not pinned, nobody to confirm (not a terminal): {shown}. Compare these "
            "fingerprints with the host's own (`ssh-keygen -lf` on it), then run again on a "
            "terminal or with --yes"
        )
    print("About to pin (compare with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on each host):")
    for r in pending:
        print(f"  {r.host} ({r.address}): {r.key_type} {r.fingerprint}")
    answer = input(f"Pin {'this key' if len(pending) == 1 else 'these keys'}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def raise_if_refused(results: list[Trusted]) -> None:
    bad = [r for r in results if r.outcome.startswith(("refused", "failed", "not pinned"))]
    if bad:
        raise NotReady("; ".join(r.line() for r in bad))
