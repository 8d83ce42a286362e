"""Starting and stopping the lab's systemd-nspawn hosts, by PID only.

Every host is ``systemd-nspawn`` on an overlay (shared image below, the host's own upper folder
on top) inside the namespace the lab made for it. Stopping finds a lab's processes two ways: the
nspawn PIDs recorded at start (checked against their command line, so a reused PID is never hit)
and every process whose network namespace is one of the lab's (what survives a crashed nspawn).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from confprov.lab.net import NETNS_DIR
from confprov.lab.state import Entry, LabState
from confprov.lab.system import LabCommandError

PROPAGATE_DIR = Path("/run/systemd/nspawn/propagate")
ROUTER_CAPS = "CAP_NET_RAW,CAP_SYS_ADMIN,CAP_NET_ADMIN"


@dataclass(frozen=True)
class HostSpec:
    machine: str  # also the namespace name; unique on the machine
    hostname: str
    netns: str
    upper: Path
    log: Path
    router: bool
    binds: tuple[str, ...] = ()  # extra nspawn --bind/--bind-ro (execution nodes)


def nspawn_command(image: Path, host: HostSpec) -> list[str]:
    cmd = [
        "systemd-nspawn",
        "--register=no",
        "--keep-unit",
        "-q",
        "--as-pid2",
        "--console=pipe",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        f"--machine={host.machine}",
        f"--hostname={host.hostname[:63]}",
        "-D",
        str(image),
        f"--overlay={image}:{host.upper}:/",
        f"--network-namespace-path={NETNS_DIR}/{host.netns}",
    ]
    if host.router:
        cmd.append(f"--capability={ROUTER_CAPS}")
    cmd.extend(host.binds)
    return [*cmd, "/bin/sh", "/etc/confprov/boot.sh"]


def start(image: Path, hosts: list[HostSpec], state: LabState) -> list[int]:
    """Start every host without waiting for any; record each PID as soon as it exists."""
    state.record(Entry("dir", str(PROPAGATE_DIR / h.machine)) for h in hosts)
    pids: list[int] = []
    batch: list[Entry] = []
    for host in hosts:
        with host.log.open("ab") as log:
            proc = subprocess.Popen(
                nspawn_command(image, host),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the CLI's exit and its Ctrl-C
            )
        pids.append(proc.pid)
        batch.append(Entry("pid", str(proc.pid)))
        if len(batch) >= 50:
            state.record(batch)
            batch = []
    state.record(batch)
    return pids


def wait_ssh(addresses: list[str], timeout: float) -> list[str]:
    """Wait until sshd accepts on port 22 of every address; return those that never did."""
    pending = set(addresses)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        # At most 400 sockets at once: well below the usual 1024 open files.
        for chunk in _chunks(sorted(pending), 400):
            pending -= _accepting(chunk, min(deadline, time.monotonic() + 2.0))
        if pending:
            time.sleep(0.3)
    return sorted(pending)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _accepting(addresses: list[str], end: float) -> set[str]:
    """The addresses whose port 22 accepts a TCP connection before ``end``."""
    ok: set[str] = set()
    sel = selectors.DefaultSelector()
    socks: list[socket.socket] = []
    try:
        for addr in addresses:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setblocking(False)
            sock.connect_ex((addr, 22))
            sel.register(sock, selectors.EVENT_WRITE, data=(sock, addr))
        left = len(addresses)
        while left and time.monotonic() < end:
            for key, _ in sel.select(timeout=max(0.0, end - time.monotonic())):
                sock, addr = key.data
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    ok.add(addr)
                sel.unregister(sock)
                left -= 1
    finally:
        for sock in socks:
            sock.close()
        sel.close()
    return ok


def _netns_inode(path: str) -> tuple[int, int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def lab_processes(entries: list[Entry]) -> set[int]:
    """PIDs belonging to the lab: its live nspawn monitors and everything inside its namespaces."""
    machines = [Path(e.value).name for e in entries if e.kind == "dir"]
    pids: set[int] = set()
    for entry in entries:
        if entry.kind == "pid":
            cmd = _cmdline(int(entry.value))
            if "systemd-nspawn" in cmd and any(f"--machine={m} " in cmd for m in machines):
                pids.add(int(entry.value))
    inodes = {
        ino
        for e in entries
        if e.kind == "netns" and (ino := _netns_inode(f"{NETNS_DIR}/{e.value}")) is not None
    }
    if not inodes:
        return pids
    own = os.getpid()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == own:
            continue
        if _netns_inode(f"{proc}/ns/net") in inodes:
            pids.add(int(proc.name))
    return pids


def stop(entries: list[Entry], grace: float = 3.0) -> int:
    """End the lab's processes by PID: SIGTERM to nspawn monitors, then SIGKILL to what remains."""
    pids = lab_processes(entries)
    if not pids:
        return 0
    count = len(pids)
    for pid in pids:
        _signal(pid, signal.SIGKILL if pid not in _monitors(entries) else signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        reap(entries)
        if not lab_processes(entries):
            return count
        time.sleep(0.1)
    for pid in lab_processes(entries):
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while lab_processes(entries) and time.monotonic() < deadline:
        time.sleep(0.1)
    reap(entries)
    return count


def _monitors(entries: list[Entry]) -> set[int]:
    return {int(e.value) for e in entries if e.kind == "pid"}


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def reap(entries: list[Entry]) -> None:
    """Collect exit statuses of monitors this process started itself (no zombies left)."""
    for pid in _monitors(entries):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def alive(entries: list[Entry]) -> int:
    """How many recorded nspawn monitors still run."""
    machines = [Path(e.value).name for e in entries if e.kind == "dir"]
    count = 0
    for pid in _monitors(entries):
        cmd = _cmdline(pid)
        if "systemd-nspawn" in cmd and any(f"--machine={m} " in cmd for m in machines):
            count += 1
    return count


def host_pid(entries: list[Entry], machine: str) -> int | None:
    """Host PID of a running host's init (the nspawn monitor's child), for nsenter."""
    for pid in _monitors(entries):
        if f"--machine={machine} " not in _cmdline(pid):
            continue
        children = Path(f"/proc/{pid}/task/{pid}/children")
        try:
            kids = children.read_text().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None
    return None


def exec_command(entries: list[Entry], machine: str, argv: list[str]) -> list[str]:
    """The command line that runs ``argv`` inside a host (its file system, network, PIDs)."""
    pid = host_pid(entries, machine)
    if pid is None:
        raise LabCommandError(f"host {machine} is not running")
    return ["nsenter", "-t", str(pid), "-m", "-u", "-i", "-n", "-p", "--", *argv]
