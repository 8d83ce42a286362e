"""Detection latency, CPU and probe traffic of `confprov watch` on a lab (root).

    sudo .venv/bin/python bench/watch.py --example phu-tho --cuts 24   # 298 sites
    sudo .venv/bin/python bench/watch.py --sites 6 --cuts 4            # a quick try

One lab (`--name`, default wbench): a route to the conference network in every router (set
straight in the router's namespace: the bench is about the watch, not the push), the collector
and the agents deployed by `confprov.watch.deploy` (timed, and a no-change rerun timed), then the
engine in a child process (as `watch serve` runs it) writing every site's state to a file on each
change, so the bench reads states without costing the engine anything.

Measured:
- **detection latency**: `--cuts` sites, one after another in random order, each cut with
  `lab fault --down` (WAN link down); from the moment the fault is applied to the first state
  file showing the site `down`; p50/p95/max, for each `--gaps` value (the engine's
  `watch.gap_s`; the collector does not depend on it, so one deployment serves all);
- **CPU** of the collector (its process on the conference host) and of the engine child, as a
  share of one core, over `--steady` seconds with every site reporting (utime+stime from
  /proc/PID/stat);
- **probe traffic**: the collector's packet counter over the same interval, times the probe's
  size on the wire (UDP payload + 28 bytes IPv4/UDP; replies are smaller and counted too), as a
  share of `conference.uplink_kbps` (the lab's and, for the example, the shipped workspace's).

The lab is taken down at the end (also on failure) unless `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IP_UDP = 28
REPLY_BYTES = 12 + 16 + 16  # RTP header, reply body, signature (confprov/watch/probe.py)


def engine_child(workspace: Path, out: Path, gap_s: float) -> None:
    """The engine as `watch serve` runs it; every change of a state rewrites ``out``."""
    from confprov.watch.engine import open_engine

    engine = open_engine(workspace)
    engine.config = replace(engine.config, watch=replace(engine.config.watch, gap_s=gap_s))
    engine.rules = replace(engine.rules, gap_s=gap_s)

    async def main() -> None:
        runner = asyncio.ensure_future(engine.run())
        version, last = 0, ""
        while True:
            version = await engine.wait_changed(version)
            text = json.dumps({v.site: v.state.value for v in engine.snapshot()})
            if text != last:
                tmp = out.with_suffix(".tmp")
                tmp.write_text(text)
                tmp.replace(out)
                last = text
            if runner.done():
                runner.result()

    asyncio.run(main())


def cpu_ticks(stat: str) -> int:
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of proc(5))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


class Bench:
    def __init__(self, name: str, workspace: Path) -> None:
        from confprov.lab.plan import LabPlan
        from confprov.lab.state import LabState

        self.name, self.workspace = name, workspace
        self.state = LabState(name)
        self.plan = LabPlan.from_dict(self.state.read_json("plan.json"))

    def in_conference(self, argv: list[str]) -> str:
        from confprov.lab.containers import exec_command

        cmd = exec_command(self.state.entries(), self.plan.conf_ns, argv)
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def route_all(self) -> None:
        """A static route to the conference network in every router's FRR (kept by zebra
        across a link going down and up, as a pushed route is)."""
        from concurrent.futures import ThreadPoolExecutor

        from confprov.lab.containers import exec_command

        entries = self.state.entries()
        line = f"ip route {self.plan.conf_net} {self.plan.conf_wan}"

        def one(ns: str) -> None:
            argv = ["vtysh", "-c", "configure terminal", "-c", line]
            subprocess.run(exec_command(entries, ns, argv), capture_output=True, check=True)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, [s.router_ns for s in self.plan.sites]))

    def collector_pid(self) -> str:
        return self.in_conference(["cat", "/run/confprov-watch-collector.pid"]).strip()

    def collector_sample(self) -> tuple[float, int, int]:
        pid = self.collector_pid()
        stat = self.in_conference(["cat", f"/proc/{pid}/stat"])
        from confprov.config import load_config
        from confprov.watch.engine import collector_address, fetch_report

        report = asyncio.run(fetch_report(collector_address(load_config(self.workspace))))
        return time.monotonic(), cpu_ticks(stat), int(report["collector"]["packets"])

    def fault(self, slug: str, *, down: bool) -> None:
        from confprov.lab import faults

        faults.apply(self.state, self.plan, slug, link_down=down, clear_all=not down)


def read_states(path: Path) -> dict[str, str]:
    try:
        states: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return states


def in_state(slug: str, *wanted: str) -> Callable[[dict[str, str]], bool]:
    """A check for wait_states: the site's state is one of ``wanted``."""
    return lambda states: states.get(slug) in wanted


def wait_states(
    path: Path, check: Callable[[dict[str, str]], bool], seconds: float
) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states = read_states(path)
        if states and check(states):
            return states
        time.sleep(0.01)
    raise SystemExit(f"bench: timed out after {seconds:g} s; states: {read_states(path)}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from confprov.config import load_config
    from confprov.lab import lab as lab_mod
    from confprov.lab.plan import example_sites, generated_sites
    from confprov.watch.deploy import deploy

    specs = example_sites(args.example) if args.example else generated_sites(args.sites)
    out: dict[str, Any] = {"sites": len(specs)}
    if args.reuse:  # a lab of this name already up (e.g. a bench interrupted after `lab up`)
        ws = Path(args.reuse)
    else:
        ws = Path(tempfile.mkdtemp(prefix="wbench-")) / "workspace"
        t = time.monotonic()
        lab_mod.up(args.name, specs, ws)
        out["lab_up_s"] = round(time.monotonic() - t, 1)
    bench = Bench(args.name, ws)
    bench.route_all()
    t = time.monotonic()
    first = second = deploy(ws)
    out["deploy_s"] = round(time.monotonic() - t, 1)
    if not args.no_rerun:
        t = time.monotonic()
        second = deploy(ws)
        out["deploy_rerun_s"] = round(time.monotonic() - t, 1)
        out["deploy_rerun_changed"] = len(second.changed_hosts)
    if not (first.ok and second.ok):
        raise SystemExit(f"bench: deploy failed:\n{first.summary_text()}\n{second.summary_text()}")
    config = load_config(ws)
    hz = os.sysconf("SC_CLK_TCK")
    out["gaps"] = {}
    for n, gap in enumerate(args.gaps):
        states_file = ws / f"states-{gap:g}.json"
        child = subprocess.Popen(
            [sys.executable, __file__, "--engine-child", str(ws), str(states_file), str(gap)]
        )
        try:
            wait_states(states_file, lambda s: all(v in ("up", "degraded") for v in s.values()), 60)
            if n == 0:  # steady state: CPU and traffic with every site reporting
                t0, c0, p0 = bench.collector_sample()
                e0 = cpu_ticks(Path(f"/proc/{child.pid}/stat").read_text())
                time.sleep(args.steady)  # the measured interval itself, not a synchronisation
                t1, c1, p1 = bench.collector_sample()
                e1 = cpu_ticks(Path(f"/proc/{child.pid}/stat").read_text())
                span = t1 - t0
                rate = (p1 - p0) / span
                probe_bits = (config.watch.probe_bytes + IP_UDP) * 8
                reply_bits = (REPLY_BYTES + IP_UDP) * 8
                kbps_in = rate * probe_bits / 1000
                kbps_out = rate * reply_bits / 1000
                out["steady"] = {
                    "seconds": round(span, 1),
                    "collector_cpu_pct": round(100 * (c1 - c0) / hz / span, 2),
                    "engine_cpu_pct": round(100 * (e1 - e0) / hz / span, 2),
                    "probes_per_s": round(rate, 1),
                    "probe_kbps_in": round(kbps_in, 1),
                    "reply_kbps_out": round(kbps_out, 1),
                    "lab_uplink_kbps": config.conference.uplink_kbps,
                    "share_of_lab_uplink_pct": round(
                        100 * kbps_in / config.conference.uplink_kbps, 2
                    ),
                }
                if args.example:
                    from confprov.config import parse_config

                    shipped = ROOT / "confprov" / "examples" / args.example / "confprov.yml"
                    uplink = parse_config(shipped.read_text(), str(shipped)).conference.uplink_kbps
                    out["steady"]["example_uplink_kbps"] = uplink
                    out["steady"]["share_of_example_uplink_pct"] = round(100 * kbps_in / uplink, 3)
            latencies: list[float] = []
            slugs = [s.slug for s in bench.plan.sites]
            random.seed(1 + n)
            for slug in random.sample(slugs, min(args.cuts, len(slugs))):
                wait_states(states_file, in_state(slug, "up", "degraded"), 60)
                start = time.monotonic()
                bench.fault(slug, down=True)
                wait_states(states_file, in_state(slug, "down"), 30)
                latencies.append(time.monotonic() - start)
                bench.fault(slug, down=False)
            out["gaps"][f"{gap:g}"] = {
                "cuts": len(latencies),
                "p50_s": round(statistics.median(latencies), 2),
                "p95_s": round(pct(latencies, 95), 2),
                "max_s": round(max(latencies), 2),
                "min_s": round(min(latencies), 2),
                "each_s": [round(x, 2) for x in latencies],
            }
        finally:
            child.terminate()
            child.wait(10)
    return out


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--engine-child":
        engine_child(Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--name", default="wbench")
    parser.add_argument("--sites", type=int, default=6)
    parser.add_argument("--example", help="a shipped province instead of --sites (phu-tho: 298)")
    parser.add_argument("--cuts", type=int, default=20)
    parser.add_argument("--gaps", type=float, nargs="+", default=[2.5, 3.0])
    parser.add_argument("--steady", type=float, default=60.0, help="CPU/traffic interval, s")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", metavar="WORKSPACE", help="use lab --name, already up")
    parser.add_argument("--no-rerun", action="store_true", help="skip the no-change deploy")
    args = parser.parse_args()
    from confprov.lab import lab as lab_mod

    load_before = os.getloadavg()
    try:
        out = run(args)
    finally:
        if not args.keep:
            lab_mod.down(args.name)
    out["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
