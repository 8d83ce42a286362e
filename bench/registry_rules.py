"""What the #13 data-stays-data rules cost ``confprov check`` at national scale.

The same 20,000-site registry (bench/registry_scale.py's generator) is checked by this tree's
confprov and by a baseline ref's (default ``main``, exported with ``git archive`` into a temporary
folder and put first on PYTHONPATH), alternating the two in each round so load on the shared
machine falls on both alike; each figure is the median over fresh processes of the wall time
and of the CPU time (user + system: what the rules cost, less sensitive to the load).

Usage: .venv/bin/python bench/registry_rules.py [--sites 20000] [--runs 7] [--baseline main]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_scale import make_registry

REPO = Path(__file__).resolve().parents[1]


def export(ref: str, target: Path) -> None:
    """The ref's ``confprov`` package into ``target``."""
    data = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, "confprov"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="data")


def timed(pythonpath: str, ws: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one check in a fresh process."""
    env = {**os.environ, "PYTHONPATH": pythonpath}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "confprov", "check", "-q", "-w", str(ws)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", default="main")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="confprov-bench-rules-"))
    try:
        export(args.baseline, base / "baseline")
        ws = base / "ws"
        subprocess.run(
            [sys.executable, "-m", "confprov", "init", str(ws)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (ws / "sites.csv").write_text(make_registry(args.sites), encoding="utf-8")
        timed(str(REPO), ws)  # warm the page cache for both
        here, then = [], []
        for _ in range(args.runs):
            here.append(timed(str(REPO), ws))
            then.append(timed(str(base / "baseline"), ws))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"machine: {platform.node()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"confprov check, {args.sites} sites, median of {args.runs}:")
    for what, index in (("wall", 0), ("CPU", 1)):
        h = statistics.median(t[index] for t in here)
        b = statistics.median(t[index] for t in then)
        print(
            f"  {what}: this tree {h:.2f} s, baseline {args.baseline} {b:.2f} s, ratio {h / b:.2f}x"
        )


if __name__ == "__main__":
    main()
