"""Execution nodes: one run spread over other machines with ansible-runner's remote execution.

This is what AWX does over Receptor, without a scheduler of our own: the selected hosts are cut
into slices (whole districts/groups by default, ``Site.grouping``; AWX's round-robin as an
option), each slice is packaged by ``ansible-runner transmit``, run by ``ansible-runner worker``
on its node (``ssh NODE ansible-runner worker`` with the payload on stdin, the node's host key
pinned like every lab host's; or ``receptorctl work submit ansible-runner`` when a Receptor
socket is configured) and streamed back through ``ansible-runner process`` into the run folder,
one ``artifacts/<slice>/`` per slice, so ``runner.task_results`` and the summary read it as they
read a local run. A slice whose stream breaks before its final status (the node died, ssh lost
it) is re-sent once to another node; the summary says so.

Secrets (the vault password, through ansible-runner's ``passwords``) travel inside the payload
on the worker's stdin, never in a process argument. A node runs the same paths as the
controller: confprov's Ansible content and the workspace must be at the same place on it (a
shared file system: plays write survey files and router backups under the workspace).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from confprov.exceptions import InputError, Problem

if TYPE_CHECKING:
    from confprov.runner import RunResult

SLICING = ("group", "round-robin")  # the default first
DEFAULT_SLICING = SLICING[0]
UNGROUPED = "province"  # the slice key of sites in no district and no group
# ansible-runner's final statuses: a slice that ends without one lost its node. "error" is
# one: a healthy worker said the job could not run (no ansible-playbook, a bad argument); the
# node is not lost and the slice is not re-sent (it would fail the same way elsewhere).
FINAL = ("successful", "failed", "timeout", "canceled", "error")
LOST_RC = 4  # ansible-playbook's return code for unreachable hosts
CANCELED_RC = 254  # ansible-runner's return code for a run its cancel callback stopped
NODE_FIELDS = ("name", "address", "user", "port", "key", "known_hosts", "runner", "receptor_node")
FILE_FIELDS = ("nodes", "slicing", "receptor_socket")
LOCAL = "none"  # `--nodes none`: run here even when confprov.yml names execution nodes
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True, kw_only=True)
class Node:
    """One execution node: where ``ansible-runner worker`` runs, reached like every lab host."""

    name: str
    address: str
    user: str = "root"
    port: int = 22
    key: str = ""  # private key file; empty: ssh's default identities
    known_hosts: str = ""  # the node's pinned host key (required for ssh)
    runner: str = "ansible-runner"  # the ansible-runner command on the node
    receptor_node: str = ""  # the Receptor node ID; empty: the name


@dataclass(frozen=True, kw_only=True)
class Nodes:
    """A nodes file: the nodes, how to slice, and the Receptor socket when one is used."""

    path: Path
    nodes: tuple[Node, ...]
    slicing: str = DEFAULT_SLICING
    receptor_socket: str = ""


@dataclass(frozen=True)
class Slice:
    """The hosts one node runs; ``name`` is also its ``artifacts/`` folder in the run."""

    name: str
    node: Node
    hosts: tuple[str, ...]


# ------------------------------------------------------------------------- the nodes file


def load(path: Path) -> Nodes:
    """Read and check a nodes file: every problem at once (file, line, field; exit 2)."""
    import yaml  # only when nodes are used: `confprov --help` stays fast

    from confprov.yamlutil import invalid, load_with_lines

    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(where, None, None, f"cannot read: {exc.strerror}")]) from None
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        raise InputError([invalid(exc, where)]) from None
    return parse(data, lines, path)


def parse(data: Any, lines: Mapping[str, int], path: Path) -> Nodes:
    """The nodes of ``data`` (a list of nodes, or a mapping with ``nodes:``)."""
    where = str(path)
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        # a missing field: the line of the node that lacks it
        line = lines.get(key) or lines.get(key.rsplit(".", 1)[0])
        problems.append(Problem(where, line, key, message))

    prefix = ""
    settings: dict[str, Any] = {}
    if isinstance(data, dict):
        for key in data:
            if key not in FILE_FIELDS:
                bad(str(key), f"unknown key (known: {', '.join(FILE_FIELDS)})")
        settings = data
        data, prefix = data.get("nodes"), "nodes"
    if not isinstance(data, list) or not data:
        raise InputError([Problem(where, lines.get(prefix), prefix or None, _EMPTY)])
    slicing = settings.get("slicing", DEFAULT_SLICING)
    if slicing not in SLICING:
        bad("slicing", f"must be one of {', '.join(SLICING)}, not {slicing!r}")
    socket = settings.get("receptor_socket", "")
    if not isinstance(socket, str):
        bad("receptor_socket", "must be a path (text)")
        socket = ""
    nodes = [_node(item, f"{prefix}[{i}]", path, bool(socket), bad) for i, item in enumerate(data)]
    seen: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node is not None and node.name in seen:
            bad(f"{prefix}[{i}].name", f"{node.name!r} also names {prefix}[{seen[node.name]}]")
        elif node is not None:
            seen[node.name] = i
    if problems:
        raise InputError(problems)
    found = tuple(n for n in nodes if n is not None)
    return Nodes(path=path, nodes=found, slicing=str(slicing), receptor_socket=socket)


_EMPTY = "no execution nodes: a YAML list of nodes (name, address, user, key, known_hosts)"


def _node(
    item: Any, key: str, path: Path, receptor: bool, bad: Callable[[str, str], None]
) -> Node | None:
    if not isinstance(item, dict):
        bad(key, "must be a mapping (name, address, user, key, known_hosts)")
        return None
    errors = 0

    def fail(name: str, message: str) -> None:
        nonlocal errors
        errors += 1
        bad(f"{key}.{name}" if name else key, message)

    for name in item:
        if name not in NODE_FIELDS:
            fail(str(name), f"unknown key (known: {', '.join(NODE_FIELDS)})")
    values = _values(item, fail)
    base = path.parent
    for name in ("key", "known_hosts"):
        if name in values:
            file = (base / values[name]).resolve()
            values[name] = str(file)
            if not file.is_file():
                fail(name, f"no such file: {file}")
    if not receptor and "known_hosts" not in values:
        fail("known_hosts", "missing: the node's host key is pinned (StrictHostKeyChecking=yes)")
    elif not receptor and "address" in values and "known_hosts" in values and not errors:
        port = values.get("port", 22)
        if not _pinned(Path(values["known_hosts"]), values["address"], port):
            fail("known_hosts", f"has no host key for {values['address']}: add the node's key")
    if errors:
        return None
    return Node(**values)


def _values(item: Mapping[str, Any], fail: Callable[[str, str], None]) -> dict[str, Any]:
    """A node's fields of the right type and form (each wrong one said through ``fail``)."""
    values: dict[str, Any] = {}
    for name in NODE_FIELDS:
        if name not in item:
            continue
        value = item[name]
        if name == "port":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                fail(name, "must be a port number 1-65535")
                continue
        elif not isinstance(value, str) or not value.strip():
            fail(name, "must be non-empty text")
            continue
        values[name] = value.strip() if isinstance(value, str) else value
    from confprov.domain import LOGIN, address_error

    # The registry's rules for a device's address and a login (confprov.domain, one place): an
    # address is never an ssh option (a leading "-") nor a shell word, nor this machine.
    for name, check in (
        ("name", lambda v: None if _NAME.match(v) else f"{v!r}: use a-z, 0-9, '.', '_', '-'"),
        ("address", address_error),
        ("user", lambda v: None if LOGIN.match(v) else f"{v!r} is not a login name"),
    ):
        if name not in values:
            if name != "user" and name not in item:
                fail(name, "missing")
        elif why := check(values[name]):
            fail(name, why)
    return values


def _pinned(known_hosts: Path, address: str, port: int) -> bool:
    """Whether ``known_hosts`` names ``address`` (hashed lines are taken on trust: ssh checks)."""
    want = address if port == 22 else f"[{address}]:{port}"
    for line in known_hosts.read_text(encoding="utf-8", errors="replace").splitlines():
        hosts = line.split()[0] if line.strip() and not line.startswith("#") else ""
        if hosts.startswith("|1|") or want in hosts.split(","):
            return True
    return False


def from_workspace(workspace: Path, given: Path | None, setting: str) -> Nodes | None:
    """``--nodes FILE`` wins; else confprov.yml's ``execution_nodes`` (relative to the
    workspace); neither, or ``--nodes none`` (LOCAL): None, the local run."""
    if given is not None:
        return None if str(given) == LOCAL else load(given)
    if setting:
        return load(workspace / setting)
    return None


# ------------------------------------------------------------------------------- slicing


def host_groups(registry: Any, hosts: Iterable[str]) -> dict[str, str]:
    """Each host's slice key: its site's ``grouping`` (district, else two-tier group), the
    registry's one grouping rule; sites in neither share UNGROUPED."""
    key: dict[str, str] = {}
    for site in registry.sites:
        for host in (*site.endpoint_hosts, *((site.router_host,) if site.router else ())):
            key[host] = site.grouping or UNGROUPED
    return {host: key.get(host, UNGROUPED) for host in hosts}


def make_slices(
    nodes: Sequence[Node], hosts: Sequence[str], groups: Mapping[str, str], slicing: str
) -> list[Slice]:
    """Cut ``hosts`` into at most one slice per node.

    ``group``: whole groups, largest first onto the node with the fewest hosts so far (a
    district never spans two nodes, so its hosts' shared uplink is one node's concern);
    ``round-robin``: host i to node i mod n, as AWX's job slicing does.
    """
    if slicing not in SLICING:
        raise ValueError(f"unknown slicing {slicing!r}")
    share: list[list[str]] = [[] for _ in nodes]
    if slicing == "round-robin":
        for i, host in enumerate(hosts):
            share[i % len(nodes)].append(host)
    else:
        members: dict[str, list[str]] = {}
        for host in hosts:
            members.setdefault(groups.get(host, UNGROUPED), []).append(host)
        for _, group in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            least = min(range(len(nodes)), key=lambda i: (len(share[i]), i))
            share[least].extend(group)
    return [
        Slice(f"ansible-{node.name}", node, tuple(part))
        for node, part in zip(nodes, share, strict=True)
        if part
    ]


# ---------------------------------------------------------------------------- transport


def worker_command(node: Node, nodes: Nodes) -> list[str]:
    """The command that runs ``ansible-runner worker`` on ``node``, its payload on stdin.

    Over ssh: batch mode, the node's key pinned (StrictHostKeyChecking=yes against its own
    known_hosts file, no other), keepalives so a dead node ends the stream. Over Receptor:
    ``receptorctl work submit`` of the ``ansible-runner`` work type (the node's receptor.conf
    runs ``ansible-runner worker`` for it), following its output. No secret is an argument.
    """
    if nodes.receptor_socket:
        return [
            "receptorctl",
            "--socket",
            nodes.receptor_socket,
            "work",
            "submit",
            "--node",
            node.receptor_node or node.name,
            "--payload",
            "-",
            "--follow",
            "--rm",
            "ansible-runner",
        ]
    cmd = [
        "ssh",
        "-T",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={node.known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=10",
        # Never through a master connection of the operator's ssh config: its pipes would
        # outlive the transport's process group, and a stop could not end the stream.
        "-o",
        "ControlMaster=no",
        "-o",
        "ControlPath=none",
        "-o",
        "ServerAliveInterval=5",
        "-o",
        "ServerAliveCountMax=3",
        "-p",
        str(node.port),
        "-l",
        node.user,
    ]
    if node.key:
        cmd += ["-o", "IdentitiesOnly=yes", "-i", node.key]
    return [*cmd, "--", node.address, f"{shlex.quote(node.runner)} worker"]


# ----------------------------------------------------------------------------- running


@dataclass
class Attempt:
    """One try of a slice on one node, as the summary tells it."""

    node: str
    status: str = "unstarted"
    rc: int | None = None
    events: int = 0
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class SliceRun:
    slice: Slice
    attempts: list[Attempt] = field(default_factory=list)
    status: str = "unstarted"
    rc: int | None = None
    resend: bool = True  # Spread.resend: false, a lost slice is never sent again

    @property
    def resent(self) -> bool:
        return len(self.attempts) > 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "slice": self.slice.name,
            "node": self.attempts[-1].node if self.attempts else self.slice.node.name,
            "hosts": list(self.slice.hosts),
            "status": self.status,
            "resent": self.resent,
            "resend": self.resend,
            "attempts": [a.as_dict() for a in self.attempts],
        }


EventHook = Callable[[Slice, Node, dict[str, Any]], None]


def _transmit(kwargs: Mapping[str, Any], sink: IO[bytes]) -> None:
    """``ansible-runner transmit`` of the job into ``sink`` (the worker's stdin), then close it.

    The private data folder transmitted is an empty one: every path of the job is absolute and
    the same on the node (see the module's docstring)."""
    import ansible_runner

    with (
        tempfile.TemporaryDirectory(prefix="confprov-transmit-") as empty,
        contextlib.suppress(BrokenPipeError, OSError),
    ):
        ansible_runner.run(
            streamer="transmit", _output=sink, **{**kwargs, "private_data_dir": empty}
        )
    with contextlib.suppress(BrokenPipeError, OSError):
        sink.close()


def run_attempt(
    job: Mapping[str, Any],
    run_dir: Path,
    piece: Slice,
    node: Node,
    *,
    nodes: Nodes,
    handler: Callable[[dict[str, Any]], bool],
    hook: EventHook | None = None,
    started: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Attempt:
    """Send ``piece`` to ``node``: transmit → worker (a subprocess) → process into
    ``run_dir/artifacts/<slice>``. The attempt's status is ansible-runner's final one, or
    ``lost`` when the stream ended without one."""
    import ansible_runner

    attempt = Attempt(node=node.name)
    proc = subprocess.Popen(
        worker_command(node, nodes),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A Ctrl-C at the terminal is confprov's, not the stream's: run_spread ends the
        # transports itself (routers push instead stops between routers: its stop file).
        start_new_session=True,
    )
    if started is not None:  # the spread's stop (SIGINT/SIGTERM) ends it: _Spreading.stop
        started(proc)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    sender = threading.Thread(target=_transmit, args=(job, proc.stdin), daemon=True)
    sender.start()
    errors: list[bytes] = []
    stderr = proc.stderr
    reader = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    reader.start()
    statuses: list[str] = []

    def on_event(event: dict[str, Any]) -> bool:
        attempt.events += 1
        if hook is not None:
            hook(piece, node, event)
        return handler(event)

    def on_status(data: dict[str, Any], runner_config: Any = None) -> None:
        statuses.append(str(data.get("status", "")))
        if data.get("status") == "error" and data.get("job_explanation"):
            attempt.reason = " ".join(str(data["job_explanation"]).split())[:300]

    stream = _Stream(proc.stdout)
    ansible_runner.run(
        streamer="process",
        _input=stream,
        private_data_dir=str(run_dir),
        ident=piece.name,
        quiet=True,
        event_handler=on_event,
        status_handler=on_status,
        settings={"suppress_ansible_output": True},
    )
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    if proc.poll() is None:  # the stream ended but the transport lingers: it is ours to end
        proc.kill()
        proc.wait()
    sender.join(timeout=5)
    reader.join(timeout=5)
    final = next((s for s in reversed(statuses) if s in FINAL), "")
    if final == "error" and not stream.ended:
        # `process` says "error" itself when the stream breaks (EOF, a cut line): a lost node.
        # Only a worker that ended its stream (eof) said the error: then it is final.
        final = ""
    attempt.status = final or "lost"
    attempt.rc = _worker_rc(run_dir / "artifacts" / piece.name) if final else proc.returncode
    if not final:
        said = b"".join(errors).decode(errors="replace").strip().splitlines()
        detail = said[-1] if said else f"exit {proc.returncode}"
        attempt.reason = f"{attempt.reason or 'stream ended before the final status'} ({detail})"
    return attempt


class _Stream:
    """The worker's stream as ``ansible-runner process`` reads it, noting whether the worker
    ended it itself (its ``{"eof": true}`` line) or the stream broke (the node was lost)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.ended = False

    def readline(self) -> bytes:
        line = self.raw.readline()
        if line.startswith(b"{") and b'"eof"' in line:
            with contextlib.suppress(ValueError):
                self.ended = self.ended or json.loads(line).get("eof") is True
        return line

    def read(self, size: int = -1) -> bytes:
        return self.raw.read(size)

    def __getattr__(self, name: str) -> Any:  # close, closed, flush...: the pipe's own
        return getattr(self.raw, name)


def _worker_rc(artifacts: Path) -> int | None:
    """ansible-playbook's return code on the node, from the artifacts the worker streamed back
    (``process`` itself has none to give)."""
    try:
        return int((artifacts / "rc").read_text().strip())
    except (OSError, ValueError):
        return None


def next_node(nodes: Sequence[Node], tried: Iterable[str], lost: Iterable[str]) -> Node | None:
    """Where a lost slice goes: the first node not tried for it and not lost in this run."""
    skip = set(tried) | set(lost)
    return next((n for n in nodes if n.name not in skip), None)


def set_aside(run_dir: Path, piece: Slice, number: int) -> None:
    """A lost attempt's partial artifacts leave ``artifacts/`` (readers count only what a
    finished attempt wrote) and stay in ``nodes/`` for the record."""
    source = run_dir / "artifacts" / piece.name
    if source.is_dir():
        target = run_dir / "nodes" / f"{piece.name}.lost-{number}"
        target.parent.mkdir(exist_ok=True)
        shutil.move(str(source), str(target))


# --------------------------------------------------------------------------- the spread run


@dataclass(frozen=True, kw_only=True)
class Spread:
    """A run spread over execution nodes: the nodes file, the slices cut from the selected
    hosts (``plan``), and a hook every event passes (tests hold a run there)."""

    nodes: Nodes
    slices: list[Slice]
    hook: EventHook | None = None
    # A lost slice goes once to another node. Off for what is unsafe to run twice: a routers
    # push or rollback lost mid-way may have changed routers (revert timers armed); a re-send
    # would back up the half-applied config and push again. Its routers are reported instead.
    resend: bool = True
    # SIGINT/SIGTERM end every slice's transport (the run is canceled, its summary written).
    # Off for routers: they stop between routers through their stop file, never mid-push.
    interrupt: bool = True


def plan(nodes: Nodes | None, registry: Any, hosts: Sequence[str]) -> Spread | None:
    """The spread of ``hosts`` over ``nodes`` (None: no nodes, the local run)."""
    if nodes is None or not hosts:
        return None
    groups = host_groups(registry, hosts)
    return Spread(nodes=nodes, slices=make_slices(nodes.nodes, hosts, groups, nodes.slicing))


def split_forks(forks: int, parts: int) -> list[int]:
    """``forks`` shared by ``parts`` slices, the total unchanged (each at least 1): the same
    parallelism as the local run, not ``parts`` times it."""
    return [max(1, forks // parts + (1 if i < forks % parts else 0)) for i in range(parts)]


class _Spreading:
    """One spread run's shared state: the merged progress and the nodes lost so far."""

    def __init__(self, spread: Spread, progress: Any, on_progress: Any) -> None:
        self.spread = spread
        self.progress = progress
        self.on_progress = on_progress
        self.lock = threading.Lock()
        self.parts: dict[str, Any] = {}
        self.lost: set[str] = set()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}  # each slice's current transport
        self.canceled = threading.Event()
        self.why = ""
        self.finished = 0  # slices returned (their transports gone)

    def started(self, piece: Slice) -> Callable[[subprocess.Popen[bytes]], None]:
        def register(proc: subprocess.Popen[bytes]) -> None:
            with self.lock:
                self.procs[piece.name] = proc
            if self.canceled.is_set():  # started as the stop came: ended too
                _end(proc)

        return register

    def kill(self) -> None:
        """A second signal: SIGKILL to every transport still running (one that ignored SIGTERM)."""
        with self.lock:
            running = [p for p in self.procs.values() if p.poll() is None]
        for proc in running:
            _end(proc, signal.SIGKILL)

    def stop(self, why: str) -> int:
        """Cancel the run: every running transport ended (its process group: ssh, receptorctl
        or a local worker and their children), no slice started or re-sent after. Returns
        how many slices had not finished (a transport starting just now is ended as it
        registers: ``started``)."""
        self.why = why
        self.canceled.set()
        with self.lock:
            running = [p for p in self.procs.values() if p.poll() is None]
            unfinished = len(self.spread.slices) - self.finished
        for proc in running:
            _end(proc)
        return unfinished

    def relay(self, part: Any) -> None:
        """A slice's progress into the run's: the union of every slice's current attempt."""
        with self.lock:
            parts = list(self.parts.values())
            self.progress.done = set().union(*(p.done for p in parts))
            self.progress.failed = set().union(*(p.failed for p in parts))
            self.progress.unreachable = set().union(*(p.unreachable for p in parts))
            self.progress.task = part.task
            if self.on_progress is not None:
                self.on_progress(self.progress)

    def collector(self, piece: Slice) -> Any:
        from confprov import runner

        with self.lock:
            self.parts[piece.name] = runner.Progress()
            return runner.Collector(self.parts[piece.name], self.relay)

    def run_slice(
        self, run_dir: Path, job: Mapping[str, Any], piece: Slice
    ) -> tuple[SliceRun, Any]:
        """The slice on its node; lost, once more on the next node (its partial events set
        aside, its hosts' progress forgotten)."""
        try:
            return self._run_slice(run_dir, job, piece)
        finally:
            with self.lock:
                self.finished += 1

    def _run_slice(
        self, run_dir: Path, job: Mapping[str, Any], piece: Slice
    ) -> tuple[SliceRun, Any]:
        record = SliceRun(piece, resend=self.spread.resend)
        node = piece.node
        for number in (1, 2) if self.spread.resend else (1,):
            if self.canceled.is_set():
                break
            collector = self.collector(piece)
            attempt = run_attempt(
                job,
                run_dir,
                piece,
                node,
                nodes=self.spread.nodes,
                handler=collector,
                hook=self.spread.hook,
                started=self.started(piece),
            )
            record.attempts.append(attempt)
            if attempt.status == "lost" and self.canceled.is_set():
                attempt.status, attempt.reason = "canceled", f"stopped by {self.why}"
                attempt.rc = None  # the transport's signal, not ansible-playbook's code
            if attempt.status != "lost":
                record.status, record.rc = attempt.status, attempt.rc
                return record, collector
            set_aside(run_dir, piece, number)
            with self.lock:
                self.lost.add(node.name)
                self.parts.pop(piece.name, None)
                tried = [a.node for a in record.attempts]
                following = next_node(self.spread.nodes.nodes, tried, self.lost)
            if following is None:
                break
            node = following
        record.status = "canceled" if self.canceled.is_set() else "lost"
        return record, None


def _end(proc: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> None:
    """End a transport: ``sig`` to its process group (start_new_session made it the leader)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


@contextlib.contextmanager
def _stopped_by_signals(state: _Spreading) -> Iterator[None]:
    """SIGINT/SIGTERM/SIGHUP while the slices run (main thread only): say so, end every
    transport, let the slices return (canceled) so the summary is written and the workspace
    lock is held until the transports are gone. A second signal kills the transports that are
    still there (SIGKILL) and gives the signals back to their earlier handlers, so a third
    Ctrl-C interrupts as usual."""
    if not state.spread.interrupt or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: Any) -> None:
        if state.canceled.is_set():
            state.kill()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            return
        name = signal.Signals(signum).name
        running = state.stop(name)
        with contextlib.suppress(OSError):
            print(
                f"{name}: stopping {running} slices (their transports are ended); "
                "the summary says what finished",
                file=sys.stderr,
                flush=True,
            )

    # SIGHUP too: the operator's session to the controller dropping must not leave the slices
    # running on the nodes with no summary and the workspace lock released.
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous: dict[signal.Signals, Any] = {}
    previous.update({sig: signal.signal(sig, on_signal) for sig in handled})
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_spread(
    action: str,
    run_dir: Path,
    job: Mapping[str, Any],
    spread: Spread,
    *,
    progress: Any,
    on_progress: Any,
) -> RunResult:
    """``job`` (runner.run_playbook's ansible-runner arguments) sliced over the nodes, the
    slices in parallel; one runner.RunResult, written as the run's summary."""
    from concurrent.futures import ThreadPoolExecutor

    from confprov import runner, safefile
    from confprov.exceptions import ConfprovError

    state = _Spreading(spread, progress, on_progress)
    cmdline = shlex.split(job["cmdline"])
    at = cmdline.index("--forks") + 1
    jobs = []
    for piece, forks in zip(
        spread.slices, split_forks(int(cmdline[at]), len(spread.slices)), strict=True
    ):
        argv = [*cmdline[:at], str(forks), *cmdline[at + 1 :]]
        jobs.append({**job, "limit": ",".join(piece.hosts), "cmdline": shlex.join(argv)})
    with _stopped_by_signals(state), ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        done = list(pool.map(lambda p, j: state.run_slice(run_dir, j, p), spread.slices, jobs))
    hosts: dict[str, Any] = {}
    for record, collector in done:
        if collector is not None:
            found = collector.hosts()
            hosts.update(found)
            # A slice that ended (a final status) with no event for some of its hosts: the node
            # lacks confprov, ansible-playbook failed before the play... Never silently dropped.
            last = record.attempts[-1]
            for host in record.slice.hosts:
                if host not in found:
                    hosts[host] = runner.HostResult(
                        host=host,
                        status="failed",
                        message=f"no result from slice {record.slice.name} on node {last.node} "
                        f"({last.reason or f'rc {last.rc}'})",
                    )
            continue
        if record.status == "canceled":
            for host in record.slice.hosts:
                hosts[host] = runner.HostResult(
                    host=host, status="failed", message=f"canceled: stopped by {state.why}"
                )
            continue
        why = "; ".join(f"{a.node}: {a.reason}" for a in record.attempts)
        for host in record.slice.hosts:
            hosts[host] = runner.HostResult(
                host=host, status="unreachable", message=f"execution node lost: {why}"
            )
    statuses = [record.status for record, _ in done]
    status = next((s for s in statuses if s != "successful"), "successful")
    if state.canceled.is_set():
        status = "canceled"
    result = runner.RunResult(
        action=action,
        run_dir=run_dir,
        status="failed" if status == "lost" else status,
        # a slice no node finished: its hosts are unreachable, ansible-playbook's 4; a stopped
        # run: ansible-runner's rc of a canceled run, as a local run stopped by a signal has
        rc=CANCELED_RC
        if state.canceled.is_set()
        else max(record.rc if record.rc is not None else LOST_RC for record, _ in done),
        hosts=hosts,
        nodes=[record.as_dict() for record, _ in done],
    )
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False)
    safefile.replace(run_dir / runner.SUMMARY, text)
    if not result.hosts and result.rc != 0:
        lines = "\n".join(runner.nodes_lines(result.nodes))
        raise ConfprovError(f"{action}: Ansible did not run:\n{lines}\n({run_dir})")
    return result


# ----------------------------------------------------------------------------- commands


def nodes_arg(parser: Any) -> None:
    """``--nodes FILE`` of provision, verify and routers push."""
    parser.add_argument(
        "--nodes",
        type=Path,
        default=None,
        metavar="FILE",
        help="run on the execution nodes of FILE (YAML; default: confprov.yml's "
        f"execution_nodes, else this machine; '{LOCAL}': this machine; docs/nodes.md)",
    )


def spread_for(
    workspace: Path, given: Path | None, config: Any, registry: Any, hosts: Sequence[str]
) -> Spread | None:
    """The spread a command's run takes (None: the local run), checked before anything runs."""
    return plan(from_workspace(workspace, given, config.execution_nodes), registry, hosts)


def said(run_dir: Path) -> list[str]:
    """What a finished run's summary says of its execution nodes (nothing for a local run):
    for commands whose own report is not runner.RunResult's (verify, routers)."""
    from confprov import runner

    try:
        data = json.loads((run_dir / runner.SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    slices = data.get("nodes") if isinstance(data, dict) else None
    return runner.nodes_lines(slices) if isinstance(slices, list) else []
