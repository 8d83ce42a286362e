"""Opening a netmiko session to a router: pinned host keys, timeouts, a session log without secrets.

Host keys come from the workspace's ``known_hosts`` only (never the user's, never ~/.ssh/config)
and an unknown or changed key is refused (paramiko's RejectPolicy), so a router answering at a
wrong address is never sent the password. ``confprov trust HOST`` pins a key deliberately.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from confprov import safefile
from confprov.routers.platforms import Platform, platform
from confprov.routers.render import RouterTarget
from confprov.routers.settings import DEFAULTS, RouterSettings

UNREACHABLE = "unreachable"
FAILED = "failed"


class Connection(Protocol):
    """What confprov uses of a netmiko connection (a fake one replays recorded output in tests)."""

    def send_command(self, command_string: str, **kwargs: Any) -> Any: ...

    def send_config_set(self, config_commands: list[str], **kwargs: Any) -> str: ...

    def save_config(self, *args: Any, **kwargs: Any) -> str: ...

    def disconnect(self) -> None: ...


@dataclass(frozen=True)
class Timeouts:
    connect: float = DEFAULTS.connect_timeout  # TCP connect, SSH banner and authentication, each
    command: float = DEFAULTS.command_timeout  # one command's output

    @classmethod
    def of(cls, settings: RouterSettings) -> Timeouts:
        return cls(connect=settings.connect_timeout, command=settings.command_timeout)


class DeviceError(Exception):
    """A router could not be reached or refused us; ``kind`` is unreachable or failed."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class HostKeyStore:
    """The workspace's known_hosts, read once per run, handed to each session as its own file.

    netmiko has paramiko load the whole file for every connection: with hundreds of routers that
    is hundreds of key parses per connection, all behind logging's lock (it made a 298-router
    push several times slower). Here the file is read once, and each session gets a file of its
    own holding only its router's pinned lines (hashed entries are matched too), in a private
    folder removed at :meth:`close`. paramiko then checks the key exactly as before.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._plain: dict[str, list[str]] = {}
        self._hashed: list[tuple[list[str], str]] = []
        try:
            text = path.read_text()
        except FileNotFoundError:
            text = ""
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            names = fields[1] if fields[0].startswith("@") and len(fields) > 1 else fields[0]
            hashed = [n for n in names.split(",") if n.startswith("|1|")]
            if hashed:
                self._hashed.append((hashed, line))
            for name in names.split(","):
                if not name.startswith("|1|"):
                    self._plain.setdefault(name, []).append(line)
        self._dir: Path | None = None
        self._lock = threading.Lock()

    @staticmethod
    def entry(address: str, port: int = 22) -> str:
        return address if port == 22 else f"[{address}]:{port}"

    def lines_for(self, address: str, port: int = 22) -> list[str]:
        name = self.entry(address, port)
        out = list(self._plain.get(name, []))
        if self._hashed:
            import paramiko

            for hashes, line in self._hashed:
                for hashed in hashes:
                    salt = hashed.split("|")[2]
                    if paramiko.HostKeys.hash_host(name, salt) == hashed:
                        out.append(line)
        return out

    def file_for(self, address: str, port: int = 22) -> Path | None:
        """A file with only this host's pinned lines, or None when none is pinned."""
        lines = self.lines_for(address, port)
        if not lines:
            return None
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="confprov-hostkeys-"))
        path = self._dir / self.entry(address, port).replace(":", "_").replace("/", "_")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        return path

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def classify(exc: BaseException, target: RouterTarget) -> DeviceError:  # noqa: PLR0911
    """One line an operator can act on, from whatever netmiko or paramiko raised."""
    text = " ".join(str(exc).split())
    where = f"{target.address}:{target.port}"
    if "not found in known_hosts" in text:
        return DeviceError(
            FAILED,
            f"host key of {where} is unknown: refused (check it, then `confprov trust "
            f"{target.host}`)",
        )
    if "does not match" in text or "BadHostKey" in type(exc).__name__:
        return DeviceError(
            FAILED,
            f"host key of {where} CHANGED since it was pinned: refused (a replaced router, or "
            f"someone in between; if expected: `confprov trust --replace {target.host}`)",
        )
    if "Authentication" in text or "Authentication" in type(exc).__name__:
        return DeviceError(FAILED, f"authentication to {where} failed (check the vault)")
    if "TCP connection to device failed" in text or "timed out" in text.lower():
        return DeviceError(UNREACHABLE, f"no answer from {where} (TCP connect failed or timed out)")
    if type(exc).__name__ == "ReadTimeout" or "Pattern not detected" in text:
        waited = re.search(r"Pattern not detected: '(.+?)' in output", text)
        what = ""
        if waited:  # netmiko shows repr(re.escape(prompt)): the prompt as the router prints it
            prompt = re.sub(r"\\(.)", r"\1", waited.group(1).replace("\\\\", "\\"))
            what = f", waiting for the prompt {prompt!r}"
        return DeviceError(UNREACHABLE, f"{where} stopped answering (command timed out{what})")
    if isinstance(exc, OSError | EOFError) or "Socket is closed" in text or "EOF" in text:
        return DeviceError(UNREACHABLE, f"{where}: connection lost ({text[:160]})")
    if type(exc).__module__.startswith(("netmiko", "paramiko")):
        return DeviceError(UNREACHABLE, f"{where}: {text[:200]}")
    return DeviceError(FAILED, f"{type(exc).__name__}: {text[:300]}")


@dataclass
class Session:
    conn: Any
    log: Any = None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a dead session is closed all the same
            self.conn.disconnect()
        if self.log is not None:
            self.log.close()


def connect(
    target: RouterTarget,
    keys: HostKeyStore | Path,
    timeouts: Timeouts,
    session_log: Path | None = None,
) -> Session:
    """A logged-in netmiko session, or DeviceError."""
    plat: Platform = platform(target.platform)
    store = keys if isinstance(keys, HostKeyStore) else HostKeyStore(keys)
    key_file = store.file_for(target.address, target.port)
    if key_file is None:
        raise DeviceError(
            FAILED,
            f"no pinned host key for {target.address} in {store.path}: refused "
            f"(check the router, then `confprov trust {target.host}`)",
        )
    log: Any = None
    if session_log is not None:
        # Mode 0600, never through a link, appended to (a retried connection keeps the log of
        # the attempt before); netmiko hides the password in it (its no_log filter).
        log = safefile.append(session_log, 0o600)
    try:
        conn = _driver(plat)(
            device_type=plat.device_type,
            host=target.address,
            port=target.port,
            username=target.username,
            password=target.password,
            ssh_strict=True,  # paramiko.RejectPolicy: unknown keys are refused, never added
            system_host_keys=False,
            alt_host_keys=True,
            alt_key_file=str(key_file),
            ssh_config_file=None,
            allow_agent=False,
            use_keys=False,
            conn_timeout=timeouts.connect,
            auth_timeout=timeouts.connect,
            banner_timeout=timeouts.connect,
            read_timeout_override=timeouts.command,
            session_log=log,
            fast_cli=True,
        )
    except Exception as exc:  # noqa: BLE001 - netmiko raises many kinds; each becomes one line
        if log is not None:
            log.close()
        raise classify(exc, target) from None
    session = Session(conn, log)
    try:
        _settle_prompt(conn)
    except Exception as exc:  # noqa: BLE001 - as above: one line per router
        session.close()
        raise classify(exc, target) from None
    return session


def _driver(plat: Platform) -> Any:
    """The netmiko class for a platform: netmiko's own, except for FRR's vtysh."""
    from netmiko import ConnectHandler

    if plat.name != "frr":
        return ConnectHandler
    return _frr_vtysh_class()


@functools.cache
def _frr_vtysh_class() -> Any:
    """FRR's vtysh speaks an IOS-like CLI (netmiko's cisco_ios driver) but has no
    `terminal width`: the IOS driver's session preparation sends it, waits for its echo and
    leaves a "% Unknown command" in every session. This driver skips it (one round trip less per
    router) and keeps the rest: paging off, then the prompt."""
    from netmiko.cisco.cisco_ios import CiscoIosSSH

    class FrrVtyshSSH(CiscoIosSSH):
        def session_preparation(self) -> None:
            self.disable_paging()
            self.set_base_prompt()

    return FrrVtyshSSH


def _settle_prompt(conn: Any, tries: int = 3) -> None:
    """Re-read the prompt when netmiko took a login banner line for it.

    A prompt never holds a space. Under load the banner (e.g. a MOTD with ``uname``, whose
    ``#1 SMP`` looks like a prompt's ``#``) can arrive before the CLI's prompt and be taken for
    it; every later command would then wait for a prompt that never comes.
    """
    for _ in range(tries):
        if not any(c.isspace() for c in str(conn.base_prompt)):
            return
        conn.read_channel_timing(last_read=0.3, read_timeout=10)
        conn.set_base_prompt()
    raise DeviceError(FAILED, f"cannot find the CLI prompt (last seen {conn.base_prompt!r})")
