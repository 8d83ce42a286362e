"""Time and memory of `confprov lab up` / `lab down` at scale (root).

    sudo .venv/bin/python bench/lab_scale.py --example phu-tho      # 298 sites, 597 hosts
    sudo .venv/bin/python bench/lab_scale.py --sites 20 --runs 3    # a quick run

Each run brings up a small baseline lab (``--baseline-sites``, 20 by default) and then the lab
under test, and takes each down; the report gives medians over ``--runs`` and the per-host cost
of the lab under test relative to the baseline measured in the same run (1.0 = it scales
linearly). Memory is the machine's used memory (MemTotal - MemAvailable) with the lab up minus
before it, read after every host answers SSH and ``--settle`` seconds; it includes page cache the
lab pulled in, so it is an upper bound. Other labs running on the machine at the same time share
its two cores: the report counts the other labs' namespaces so a reader can judge. Every lab is
taken down at the end, also when `up` fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFPROV = [sys.executable, "-m", "confprov"]


def used_mib() -> float:
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        info[key] = int(value.split()[0])
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns"], capture_output=True, text=True, check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def other_namespaces(name: str) -> int:
    return sum(1 for ns in namespaces() if not ns.startswith(f"cp-{name}-"))


def measure(name: str, source: list[str], settle: float) -> dict[str, float]:
    """One up/down of a lab; the lab is down again when this returns."""
    workspace = Path(f"/tmp/confprov-bench-{name}")
    up = [*CONFPROV, "lab", "up", "--name", name, "-w", str(workspace), *source]
    subprocess.run(["sync"], check=True)
    before = used_mib()
    t0 = time.monotonic()
    proc = subprocess.run(up, cwd=ROOT, capture_output=True, text=True, check=False)
    up_s = time.monotonic() - t0
    try:
        if proc.returncode != 0:
            raise SystemExit(f"lab up failed ({proc.returncode}): {proc.stderr.strip()}")
        time.sleep(settle)  # a settling period before reading memory, not a synchronisation
        mem = used_mib() - before
        hosts = int(proc.stdout.split(" sites, ")[1].split()[0])
    finally:
        t1 = time.monotonic()
        down = subprocess.run(
            [*CONFPROV, "lab", "down", "--name", name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        down_s = time.monotonic() - t1
        subprocess.run(["rm", "-rf", str(workspace)], check=False)
    if down.returncode != 0:
        raise SystemExit(f"lab down failed: {down.stderr.strip()}")
    if any(ns.startswith(f"cp-{name}-") for ns in namespaces()):
        raise SystemExit(f"lab {name} left namespaces behind")
    return {"hosts": hosts, "up_s": up_s, "mem_mib": mem, "down_s": down_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--example", choices=["phu-tho"])
    source.add_argument("--sites", type=int)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-sites", type=int, default=20)
    parser.add_argument("--name", default=f"bench{os.getpid() % 10000}")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before reading memory")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/lab_scale.py needs root", file=sys.stderr)
        return 2
    target = ["--example", args.example] if args.example else ["--sites", str(args.sites)]
    runs: list[dict[str, dict[str, float]]] = []
    for i in range(args.runs):
        others = other_namespaces(args.name)
        base = measure(args.name, ["--sites", str(args.baseline_sites)], args.settle)
        lab = measure(args.name, target, args.settle)
        runs.append({"baseline": base, "lab": lab, "other_netns": {"count": others}})
        print(json.dumps({"run": i + 1, **runs[-1]}), flush=True)

    def med(kind: str, key: str) -> float:
        return statistics.median(r[kind][key] for r in runs)

    hosts, base_hosts = med("lab", "hosts"), med("baseline", "hosts")
    up_ratio = (med("lab", "up_s") / hosts) / (med("baseline", "up_s") / base_hosts)
    mem_ratio = (med("lab", "mem_mib") / hosts) / (med("baseline", "mem_mib") / base_hosts)
    print(
        f"\nmachine: {platform.node()}, {os.cpu_count()} cores, "
        f"{round(os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30)} GiB; "
        f"runs: {args.runs}; other labs' namespaces during the runs: "
        f"{sorted(int(r['other_netns']['count']) for r in runs)}"
    )
    print("| lab | hosts | up (median) | memory (median) | down (median) | per host: up, memory |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kind, label in (("baseline", f"--sites {args.baseline_sites}"), ("lab", " ".join(target))):
        n = med(kind, "hosts")
        print(
            f"| `{label}` | {n:.0f} | {med(kind, 'up_s'):.1f} s | {med(kind, 'mem_mib'):.0f} MiB "
            f"| {med(kind, 'down_s'):.1f} s | {med(kind, 'up_s') / n * 1000:.0f} ms, "
            f"{med(kind, 'mem_mib') / n:.1f} MiB |"
        )
    print(f"\nper-host ratio to the baseline: up {up_ratio:.2f}, memory {mem_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
