"""CPU of the watch collector alone, on loopback: N simulated agents at 5 probes/s each.

    .venv/bin/python bench/watch_collector.py --seconds 8 [--spread] [--probe FILE]

Starts `probe.py collector` (or the given older copy of probe.py, to compare) on 127.0.0.1,
sends every agent's probe once per 200 ms (in one burst of N, or with `--spread` evenly over the
200 ms, as real agents arrive) and reads the collector's utime+stime from /proc: its share of
one core.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from confprov.watch import probe as p  # noqa: E402 - after the path of a checkout

KEY = bytes(range(32))


def ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--agents", type=int, default=298)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--probe", default=str(ROOT / "confprov" / "watch" / "probe.py"))
    parser.add_argument("--spread", action="store_true", help="agents evenly over 200 ms")
    args = parser.parse_args()
    with socket.socket(type=socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        query = s.getsockname()[1]
    config = Path(tempfile.mkdtemp()) / "collector.json"
    config.write_text(
        json.dumps(
            {
                "bind": "127.0.0.1",
                "port": port,
                "query_bind": "127.0.0.1",
                "query_port": query,
                "key": KEY.hex(),
                "window_s": 30,
                "reset_s": 3,
            }
        )
    )
    config.chmod(0o600)
    proc = subprocess.Popen(
        [sys.executable, args.probe, "collector", "--config", str(config)],
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1)  # the collector's start, not a synchronisation of what is measured
        socks = [socket.socket(type=socket.SOCK_DGRAM) for _ in range(args.agents)]
        for s in socks:
            s.setblocking(False)
        start, before, seq, sent = time.monotonic(), ticks(proc.pid), 0, 0
        while time.monotonic() - start < args.seconds:
            burst = time.monotonic()
            for i, s in enumerate(socks):
                if args.spread:  # the i-th agent's slot in the 200 ms
                    time.sleep(max(0.0, burst + 0.2 * i / len(socks) - time.monotonic()))
                probe = p.Probe(site=f"xa-{i}", seq=seq, sent_ns=time.monotonic_ns())
                s.sendto(p.encode_probe(KEY, probe), ("127.0.0.1", port))
                sent += 1
                with contextlib.suppress(BlockingIOError):
                    s.recv(128)
            seq += 1
            time.sleep(max(0.0, 0.2 - (time.monotonic() - burst)))
        span = time.monotonic() - start
        share = 100 * (ticks(proc.pid) - before) / os.sysconf("SC_CLK_TCK") / span
        print(
            f"{sent / span:.0f} probes/s; collector {share:.1f} % of a core; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
