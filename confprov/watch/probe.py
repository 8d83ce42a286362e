"""The watch probe: the endpoint agent and the conference-side collector, in one file.

Standard library only and free of confprov imports: the ``watch_agent`` role installs this file
on every endpoint (``python3 probe.py agent --config FILE``) and the ``watch_collector`` role
beside the conference server (``python3 probe.py collector --config FILE``). One file, so the
wire format below exists once and both ends always agree on it.

The agent sends a low-rate RTP-shaped stream (default 5 packets/s of 100 bytes) over the same
media path the conference uses, and carries in every probe whether the conference client process
runs and whether the last SIP ``OPTIONS`` to the conference server (every ~15 s) was answered.
The collector answers every probe (same path back) and keeps per-site state: the last packet,
the round trip (RTCP's LSR/DLSR method, RFC 3550 6.4.1: the agent echoes the collector's
timestamp of the last reply and how long it held it, so no clocks need to agree), the RFC 3550
interarrival jitter and the loss over a sliding window from sequence numbers. The controller
reads that state over the management network (``GET /v1/sites`` on the collector's query
address, JSON).

Every probe and reply carries a MAC (keyed BLAKE2s, 16 bytes: a MAC by design, and several times
cheaper than HMAC-SHA-256 at 1 500 probes/s) with the province's watch key, which is in the 0600
config file and never on a command line: nobody on the path can fake a site alive. The
collector amplifies nothing (a reply is smaller than its probe).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import hmac
import importlib
import json
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

# ---- wire format ---------------------------------------------------------------------------
RTP = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC
PROBE_MAGIC = b"CPWP"
REPLY_MAGIC = b"CPWR"
VERSION = 1
# magic, version, flags, sequence (32 bit), agent send ns, echoed collector ns, hold ns,
# seconds since the last SIP check (65535: never), length of the site id.
PROBE = struct.Struct("!4sBBIqqqHB")
REPLY = struct.Struct("!4sIq")  # magic, sequence, collector receive ns
MAC_LEN = 16
MAX_SITE = 64
PT = 127  # a dynamic RTP payload type
CLIENT_KNOWN, CLIENT_RUNNING, SIP_KNOWN, SIP_OK = 1, 2, 4, 8
DEFAULT_SIZE = 100
MIN_SIZE = RTP.size + PROBE.size + MAC_LEN
REORDER_SPAN = 64  # a sequence this far back is late; further back, a restarted agent


def mac(key: bytes, data: bytes) -> bytes:
    return hashlib.blake2s(data, key=key, digest_size=MAC_LEN).digest()


@dataclass(frozen=True)
class Probe:
    site: str
    seq: int
    sent_ns: int
    echo_ns: int = 0
    hold_ns: int = 0
    client_running: bool | None = None
    sip_ok: bool | None = None
    sip_age_s: int | None = None


def flags_of(client_running: bool | None, sip_ok: bool | None) -> int:
    flags = 0
    if client_running is not None:
        flags |= CLIENT_KNOWN | (CLIENT_RUNNING if client_running else 0)
    if sip_ok is not None:
        flags |= SIP_KNOWN | (SIP_OK if sip_ok else 0)
    return flags


def encode_probe(key: bytes, probe: Probe, size: int = DEFAULT_SIZE) -> bytes:
    site = probe.site.encode()
    if not site or len(site) > MAX_SITE:
        raise ValueError(f"site id must be 1-{MAX_SITE} bytes: {probe.site!r}")
    head = RTP.pack(0x80, PT, probe.seq & 0xFFFF, (probe.sent_ns // 1_000_000) & 0xFFFFFFFF, 0)
    sip_age = 0xFFFF if probe.sip_age_s is None else min(0xFFFE, max(0, probe.sip_age_s))
    body = PROBE.pack(
        PROBE_MAGIC,
        VERSION,
        flags_of(probe.client_running, probe.sip_ok),
        probe.seq & 0xFFFFFFFF,
        probe.sent_ns,
        probe.echo_ns,
        probe.hold_ns,
        sip_age,
        len(site),
    )
    data = head + body + site
    data += bytes(max(0, size - MAC_LEN - len(data)))
    return data + mac(key, data)


def _unpack_probe(key: bytes, data: bytes) -> tuple[int, int, int, int, int, int, str] | None:
    """(flags, sequence, sent, echo, hold, sip age, site) of a signed probe; the hot path."""
    if len(data) < MIN_SIZE or data[RTP.size : RTP.size + 4] != PROBE_MAGIC:
        return None
    if not hmac.compare_digest(mac(key, data[:-MAC_LEN]), data[-MAC_LEN:]):
        return None
    _m, version, flags, seq, sent, echo, hold, sip_age, n = PROBE.unpack_from(data, RTP.size)
    start = RTP.size + PROBE.size
    if version != VERSION or start + n > len(data) - MAC_LEN:
        return None
    return flags, seq, sent, echo, hold, sip_age, data[start : start + n].decode("utf-8", "replace")


def _flag(flags: int, known: int, value: int) -> bool | None:
    return bool(flags & value) if flags & known else None


def decode_probe(key: bytes, data: bytes) -> Probe | None:
    """The probe in ``data``, or None when it is not a probe signed with ``key``."""
    fields = _unpack_probe(key, data)
    if fields is None:
        return None
    flags, seq, sent, echo, hold, sip_age, site = fields
    return Probe(
        site=site,
        seq=seq,
        sent_ns=sent,
        echo_ns=echo,
        hold_ns=hold,
        client_running=_flag(flags, CLIENT_KNOWN, CLIENT_RUNNING),
        sip_ok=_flag(flags, SIP_KNOWN, SIP_OK),
        sip_age_s=None if sip_age == 0xFFFF else sip_age,
    )


def encode_reply(key: bytes, seq: int, recv_ns: int) -> bytes:
    data = RTP.pack(0x80, PT, seq & 0xFFFF, 0, 0) + REPLY.pack(REPLY_MAGIC, seq, recv_ns)
    return data + mac(key, data)


def decode_reply(key: bytes, data: bytes) -> tuple[int, int] | None:
    """(sequence, collector receive ns) of a signed reply, else None."""
    if len(data) != RTP.size + REPLY.size + MAC_LEN or data[RTP.size : RTP.size + 4] != REPLY_MAGIC:
        return None
    if not hmac.compare_digest(mac(key, data[:-MAC_LEN]), data[-MAC_LEN:]):
        return None
    _m, seq, recv_ns = REPLY.unpack_from(data, RTP.size)
    return seq, recv_ns


# ---- collector -----------------------------------------------------------------------------
BATCH_S = 0.02  # the collector reads its socket this often (probes wait at most this long)
DRAIN_MAX = 512  # probes read at one wake-up at most
SO_TIMESTAMPNS = 35  # Linux (asm-generic; not exposed by the socket module): kernel rx time
_TIMESPEC = struct.Struct("@ll")  # struct timespec
_STAMP_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)


@dataclass
class SiteStats:
    """One site's state on the collector; times are the collector's monotonic ns."""

    address: str = ""
    last_ns: int = 0
    last_seq: int = -1
    jitter_ms: float = 0.0
    last_transit_ms: float | None = None
    received: int = 0
    window: collections.deque[tuple[int, int]] = field(default_factory=collections.deque)
    rtts: collections.deque[tuple[int, float]] = field(default_factory=collections.deque)
    client_running: bool | None = None
    sip_ok: bool | None = None
    sip_age_s: int | None = None

    def add(self, probe: Probe, now_ns: int, address: str, window_ns: int, reset_ns: int) -> None:
        flags = flags_of(probe.client_running, probe.sip_ok)
        sip_age = 0xFFFF if probe.sip_age_s is None else probe.sip_age_s
        fields = (flags, probe.seq, probe.sent_ns, probe.echo_ns, probe.hold_ns, sip_age)
        self.add_fields(fields, now_ns, address, window_ns, reset_ns)

    def add_fields(
        self,
        fields: tuple[int, int, int, int, int, int],
        now_ns: int,
        address: str,
        window_ns: int,
        reset_ns: int,
    ) -> None:
        flags, seq, sent_ns, echo_ns, hold_ns, sip_age = fields
        if self.last_ns and 0 <= self.last_seq - seq < REORDER_SPAN:
            return  # a duplicate or a late packet: nothing new (a late one counts as lost)
        if self.last_ns and (now_ns - self.last_ns > reset_ns or seq < self.last_seq):
            # A silence longer than the outage gap, or a restarted agent: the outage counts
            # as "down", not as loss, so the window starts again.
            self.window.clear()
            self.rtts.clear()
            self.last_transit_ms = None
        transit = (now_ns - sent_ns) / 1e6  # RFC 3550 6.4.1, in ms; the clock offset cancels
        if self.last_transit_ms is not None:
            self.jitter_ms += (abs(transit - self.last_transit_ms) - self.jitter_ms) / 16
        self.last_transit_ms = transit
        if echo_ns:
            rtt = (now_ns - echo_ns - hold_ns) / 1e6
            if 0 <= rtt < 60_000:
                self.rtts.append((now_ns, rtt))
        self.window.append((now_ns, seq))
        self.last_ns, self.last_seq, self.address = now_ns, seq, address
        self.received += 1
        self.client_running = _flag(flags, CLIENT_KNOWN, CLIENT_RUNNING)
        self.sip_ok = _flag(flags, SIP_KNOWN, SIP_OK)
        self.sip_age_s = None if sip_age == 0xFFFF else sip_age
        if self.received % 64 == 0:  # keep memory bounded; report() prunes exactly
            self.prune(now_ns, window_ns)

    def prune(self, now_ns: int, window_ns: int) -> None:
        cut = now_ns - window_ns
        while self.window and self.window[0][0] < cut:
            self.window.popleft()
        while self.rtts and self.rtts[0][0] < cut:
            self.rtts.popleft()

    def report(self, now_ns: int, window_ns: int) -> dict[str, Any]:
        self.prune(now_ns, window_ns)
        out: dict[str, Any] = {
            "address": self.address,
            "age_s": round((now_ns - self.last_ns) / 1e9, 3),
            "received": self.received,
            "rtt_ms": None,
            "jitter_ms": round(self.jitter_ms, 3) if self.last_transit_ms is not None else None,
            "loss_ratio": None,
            "window_received": len(self.window),
            "window_expected": 0,
            "client_running": self.client_running,
            "sip_ok": self.sip_ok,
            "sip_age_s": self.sip_age_s,
        }
        if self.rtts:
            out["rtt_ms"] = round(sum(r for _t, r in self.rtts) / len(self.rtts), 3)
        if len(self.window) >= 2:
            # Sequence numbers span the window: those in between that never came were lost.
            # A probe lost right before now is not known yet; it counts with the next packet.
            expected = self.window[-1][1] - self.window[0][1] + 1
            out["window_expected"] = expected
            out["loss_ratio"] = round(max(0.0, 1 - len(self.window) / expected), 4)
        return out


class Collector(asyncio.DatagramProtocol):
    """Answers probes, keeps per-site statistics; ``report()`` is what the query returns."""

    def __init__(self, key: bytes, window_s: float, reset_s: float) -> None:
        self.key = key
        self.window_ns = int(window_s * 1e9)
        self.reset_ns = int(reset_s * 1e9)
        self.sites: dict[str, SiteStats] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.started_ns = time.monotonic_ns()
        self.packets = 0
        self.rejected = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def handle(
        self, data: bytes, addr: tuple[str | Any, int], arrived_ns: int | None = None
    ) -> bytes | None:
        """Account one datagram; the reply to send, or None (not a signed probe).

        ``arrived_ns``: when the kernel received it (monotonic ns), for statistics that do not
        depend on when the collector got round to reading it; the reply carries the time it is
        sent, so the round trip (RFC 3550's LSR/DLSR) excludes the wait in the queue too.
        """
        now = time.monotonic_ns()
        fields = _unpack_probe(self.key, data)
        if fields is None:
            self.rejected += 1
            return None
        self.packets += 1
        site = fields[6]
        stats = self.sites.get(site)
        if stats is None:
            stats = self.sites[site] = SiteStats()
        arrived = now if arrived_ns is None else min(arrived_ns, now)
        stats.add_fields(fields[:6], arrived, addr[0], self.window_ns, self.reset_ns)
        return encode_reply(self.key, fields[1], now)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = self.handle(data, addr)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def drain(self, sock: socket.socket) -> int:
        """Read every queued probe (at most a bounded number, so the query server gets its
        turn) and answer it; how many were read. The loop calls it every ``BATCH_S``: one
        wake-up for tens of probes instead of one per probe, the collector's main cost at
        1 500 probes/s. Arrival times come from the kernel (``SO_TIMESTAMPNS``), so loss,
        jitter and round trip do not see the wait."""
        offset = time.time_ns() - time.monotonic_ns()  # kernel stamps are wall-clock ns
        for count in range(DRAIN_MAX):
            try:
                data, ancdata, _flags, addr = sock.recvmsg(2048, _STAMP_SPACE)
            except (BlockingIOError, InterruptedError):
                return count
            except OSError:
                continue  # an ICMP error queued for an earlier reply: nothing to do
            arrived = None
            for level, kind, raw in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= 16:
                    sec, nsec = _TIMESPEC.unpack_from(raw)
                    arrived = sec * 1_000_000_000 + nsec - offset
            reply = self.handle(data, addr, arrived)
            if reply is not None:
                with contextlib.suppress(OSError):
                    sock.sendto(reply, addr)
        return DRAIN_MAX

    def error_received(self, exc: Exception) -> None:
        """An ICMP error for an earlier reply (an endpoint went away): nothing to do."""

    def report(self) -> dict[str, Any]:
        now = time.monotonic_ns()
        return {
            "collector": {
                "uptime_s": round((now - self.started_ns) / 1e9, 3),
                "packets": self.packets,
                "rejected": self.rejected,
                "window_s": self.window_ns / 1e9,
                "wall": time.time(),
            },
            "sites": {
                name: stats.report(now, self.window_ns) for name, stats in self.sites.items()
            },
        }


async def _http(collector: Collector, reader: asyncio.StreamReader, writer: Any) -> None:
    """A minimal HTTP/1.0 responder: ``GET /v1/sites`` (JSON), everything else 404."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(line) >= 2 and line[0] == "GET" and line[1] == "/v1/sites":
            status, body = "200 OK", json.dumps(collector.report()).encode()
        else:
            status, body = "404 Not Found", b'{"error": "GET /v1/sites"}'
        writer.write(
            f"HTTP/1.0 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
        pass
    finally:
        writer.close()


async def run_collector(config: dict[str, Any], ready: asyncio.Event | None = None) -> None:
    loop = asyncio.get_running_loop()
    collector = Collector(
        bytes.fromhex(config["key"]), float(config["window_s"]), float(config["reset_s"])
    )
    family, _t, _p, _c, address = socket.getaddrinfo(
        config["bind"], int(config["port"]), type=socket.SOCK_DGRAM
    )[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    with contextlib.suppress(OSError):  # 300 sites: a deep receive queue
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    with contextlib.suppress(OSError):  # without it: arrival = when read (BATCH_S later at most)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.bind(address)

    async def pump() -> None:
        while True:
            more = collector.drain(sock) == DRAIN_MAX
            await asyncio.sleep(0 if more else BATCH_S)

    pumping = asyncio.ensure_future(pump())
    server = await asyncio.start_server(
        lambda r, w: _http(collector, r, w), config["query_bind"], int(config["query_port"])
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"confprov watch collector: probes on udp {config['bind']}:{config['port']}, "
        f"queries on http://{config['query_bind']}:{config['query_port']}/v1/sites",
        file=sys.stderr,
        flush=True,
    )
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        server.close()
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pumping
        sock.close()


# ---- agent ---------------------------------------------------------------------------------
def process_running(name: str, proc: str = "/proc") -> bool:
    """Whether a process whose program (argv[0] or comm) is ``name`` runs."""
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{entry.path}/cmdline", "rb") as handle:  # noqa: PTH123 - hot loop
                argv0 = handle.read(4096).split(b"\0", 1)[0].decode("utf-8", "replace")
        except OSError:
            continue
        if argv0 and os.path.basename(argv0) == name:  # noqa: PTH119 - hot loop
            return True
    return False


def sip_options(sip: dict[str, Any], timeout: float = 2.0) -> bool:
    """One SIP OPTIONS to the conference server: answered (any final response below 500)?

    The SIP client is the connection check's (the collection's module confprov_check.py,
    installed beside this file): one SIP implementation in confprov.
    """
    here = Path(__file__).resolve().parent
    # On the controller, the collection's modules: where confprov/paths.py finds them (in a
    # checkout, or beside the installed package); this file stays free of the package.
    modules = Path("ansible_collections", "confprov", "core", "plugins", "modules")
    for folder in (here, here.parents[1] / "collections" / modules, here.parents[1] / modules):
        if (folder / "confprov_check.py").is_file() and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    check: Any = importlib.import_module("confprov_check")
    try:
        client = check.SipClient(
            sip["server"], int(sip["port"]), sip["transport"], sip["domain"], timeout
        )
    except OSError:
        return False
    try:
        code, _r, _h, _ms = client.request(
            "OPTIONS", f"sip:{sip['domain']}", sip.get("user") or "watch", []
        )
    except (check.SipError, OSError, ValueError):
        return False
    finally:
        client.close()
    return 200 <= int(code) < 500 and int(code) != 408


class Agent(asyncio.DatagramProtocol):
    def __init__(self, key: bytes) -> None:
        self.key = key
        self.transport: asyncio.DatagramTransport | None = None
        self.echo_ns = 0
        self.echo_at = 0
        self.replies = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = decode_reply(self.key, data)
        if reply is not None:
            self.echo_ns, self.echo_at = reply[1], time.monotonic_ns()
            self.replies += 1

    def error_received(self, exc: Exception) -> None:
        """No route, port unreachable: the next probe tries again (that is the point)."""


class Health:
    """The endpoint's own health carried in every probe: client process, last SIP OPTIONS."""

    def __init__(self, process: str, sip: dict[str, Any]) -> None:
        self.process, self.sip = process, sip
        self.sip_interval = float(sip.get("interval_s", 15)) if sip else 0.0
        self.client: bool | None = None
        self.client_at = -1e9
        self.sip_ok: bool | None = None
        self.sip_at = -1e9
        self.task: asyncio.Future[bool] | None = None

    def poll(self, now: float) -> None:
        if self.process and now - self.client_at >= 1.0:
            self.client, self.client_at = process_running(self.process), now
        if self.task is not None and self.task.done():
            self.sip_ok = self.task.result() if not self.task.exception() else False
            self.task, self.sip_at = None, now
        if self.sip and self.task is None and now - self.sip_at >= self.sip_interval:
            self.task = asyncio.ensure_future(asyncio.to_thread(sip_options, self.sip))

    def sip_age(self, now: float) -> int | None:
        return int(now - self.sip_at) if self.sip_ok is not None else None

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def run_agent(config: dict[str, Any], stop: asyncio.Event | None = None) -> None:
    """Probe until ``stop`` (SIGTERM as a service); never gives up on a lost path."""
    loop = asyncio.get_running_loop()
    if stop is None:  # as a service: stop on SIGTERM (tests pass their own event)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    key, site = bytes.fromhex(config["key"]), str(config["site"])
    target = (str(config["collector"]), int(config["port"]))
    interval = 1 / float(config.get("rate", 5))
    size = max(MIN_SIZE, int(config.get("size", DEFAULT_SIZE)))
    health = Health(str(config.get("client_process") or ""), config.get("sip") or {})
    agent = Agent(key)
    transport: asyncio.DatagramTransport | None = None
    seq, next_at = 0, time.monotonic()
    print(f"confprov watch agent {site}: probing udp {target[0]}:{target[1]}", file=sys.stderr)
    try:
        while not stop.is_set():
            now = time.monotonic()
            health.poll(now)
            if transport is None:
                with contextlib.suppress(OSError):  # no route yet: keep trying
                    transport, _p = await loop.create_datagram_endpoint(
                        lambda: agent, remote_addr=target
                    )
            if transport is not None:
                now_ns = time.monotonic_ns()
                probe = Probe(
                    site=site,
                    seq=seq,
                    sent_ns=now_ns,
                    echo_ns=agent.echo_ns,
                    hold_ns=now_ns - agent.echo_at if agent.echo_ns else 0,
                    client_running=health.client,
                    sip_ok=health.sip_ok,
                    sip_age_s=health.sip_age(now),
                )
                transport.sendto(encode_probe(key, probe, size))
                seq += 1
            next_at += interval
            if next_at < time.monotonic():  # suspended or overloaded: no burst to catch up
                next_at = time.monotonic() + interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
    finally:
        if transport is not None:
            transport.close()
        health.close()


# ---- command line --------------------------------------------------------------------------
AGENT_KEYS = ("site", "collector", "port", "key")
COLLECTOR_KEYS = ("bind", "port", "query_bind", "query_port", "key", "window_s", "reset_s")


def read_config(path: str, required: Sequence[str]) -> dict[str, Any]:
    """The JSON config file (mode 0600: it holds the watch key), checked for required keys."""
    with open(path, encoding="utf-8") as handle:  # noqa: PTH123 - stdlib only, py3.11
        data = json.load(handle)
    if not isinstance(data, dict):
        raise TypeError(f"{path}: must be a JSON object")
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{path}: missing keys: {', '.join(missing)}")
    bytes.fromhex(data["key"])
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="probe.py", description="confprov watch probe")
    parser.add_argument("role", choices=("agent", "collector"))
    parser.add_argument("--config", required=True, help="JSON config file (mode 0600)")
    parser.add_argument("--pidfile", default="", help="write the process id here (no systemd)")
    args = parser.parse_args(argv)
    try:
        config = read_config(args.config, AGENT_KEYS if args.role == "agent" else COLLECTOR_KEYS)
    except (OSError, ValueError, TypeError) as exc:
        print(f"confprov watch {args.role}: bad config: {exc}", file=sys.stderr)
        return 2
    if args.pidfile:
        with open(args.pidfile, "w", encoding="ascii") as handle:  # noqa: PTH123
            handle.write(f"{os.getpid()}\n")
    try:
        asyncio.run(run_agent(config) if args.role == "agent" else run_collector(config))
    except OSError as exc:
        print(f"confprov watch {args.role}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
