"""The media reflector: echoes confprov's RTP-sized probes back to the endpoint that sent them.

Standard library only and free of confprov imports, so the ``media_reflector`` role deploys
this one file next to the conference server and runs it as ``python3 reflector.py``; in a
checkout it is also ``confprov reflector``. It is stateless (one asyncio datagram endpoint, one
reply per probe, same size as the probe, so it amplifies nothing) and answers only packets that
carry confprov's probe magic, so it serves as many concurrent probes as its uplink carries.
Each reply carries the reflector's wall clock, from which the endpoint derives its clock offset.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Sequence
from typing import cast

MAGIC = b"CPRF"
RTP_HEADER = 12
# After the RTP header: magic (4), the endpoint's send time (8), the reflector's wall time (8).
WALL_OFFSET = RTP_HEADER + 4 + 8
PROBE_MIN = WALL_OFFSET + 8
_WALL = struct.Struct("!q")


def reflect(data: bytes, wall_ns: int) -> bytes | None:
    """The reply to one datagram, or None when it is not a confprov probe."""
    if len(data) < PROBE_MIN or data[RTP_HEADER : RTP_HEADER + 4] != MAGIC:
        return None
    return data[:WALL_OFFSET] + _WALL.pack(wall_ns) + data[PROBE_MIN:]


class Reflector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.reflected = 0
        self.ignored = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        reply = reflect(data, time.time_ns())
        if reply is None or self.transport is None:
            self.ignored += 1
            return
        self.transport.sendto(reply, addr)
        self.reflected += 1

    def error_received(self, exc: Exception) -> None:
        """An ICMP error for an earlier reply (an endpoint went away): nothing to do."""


async def serve(address: str, port: int, ready: asyncio.Event | None = None) -> None:
    loop = asyncio.get_running_loop()
    transport, _protocol = await loop.create_datagram_endpoint(
        Reflector, local_addr=(address, port)
    )
    sock = transport.get_extra_info("socket")
    with contextlib.suppress(OSError):  # bursts of 300 probes: a deep receive queue
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"confprov reflector: listening on udp {address}:{port}", file=sys.stderr, flush=True)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        transport.close()


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(
        prog="reflector.py", description="confprov media reflector (UDP echo of probe packets)"
    )
    parser.add_argument("--bind", default="0.0.0.0", help="address to listen on (the server's)")  # noqa: S104 - a service
    parser.add_argument(
        "--port", type=int, default=50000, help="UDP port (conference.reflector_port)"
    )
    parser.add_argument("--pidfile", default="", help="write the process id here (no systemd)")
    return parser


def serve_args(args: argparse.Namespace) -> int:
    """Serve as ``args`` say (the reflector's own command line, or `confprov reflector`)."""
    if args.pidfile:
        with open(args.pidfile, "w", encoding="ascii") as handle:  # noqa: PTH123 - stdlib only, py3.11
            handle.write(f"{os.getpid()}\n")
    try:
        asyncio.run(serve(args.bind, args.port))
    except OSError as exc:
        print(
            f"confprov reflector: cannot listen on udp {args.bind}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return serve_args(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
