"""CPU cost of `confprov inventory` at scale for two checkouts: first render, nothing changed,
one site changed (since #13 an update is all or nothing: compared in memory, swapped in whole
only when something changed).

CPU seconds (user + system, forked workers included) of fresh processes, started from a
neutral folder so that PYTHONPATH picks the checkout. On a shared machine the CPU time is what
the command costs; its wall time mostly measures the other users.

Usage: .venv/bin/python bench/inventory_update_cpu.py [--sites 20000] [--runs 3]
       [--before /path/to/older/checkout] [--now /path/to/this/checkout]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from registry_scale import make_registry

HERE = Path(__file__).resolve().parents[1]
NEUTRAL = Path(tempfile.gettempdir())


def cpu(argv: list[str], env: dict[str, str]) -> float:
    proc = subprocess.Popen(
        [sys.executable, "-m", "confprov", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=NEUTRAL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"confprov {' '.join(argv)} failed")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, default=Path("/work/main"))
    parser.add_argument("--now", type=Path, default=HERE)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="confprov-invcpu-"))
    text = make_registry(args.sites)
    try:
        ws = base / "ws"
        env = {**os.environ, "PYTHONPATH": str(args.now)}
        cpu(["init", str(ws)], env)
        runs: dict[str, list[list[float]]] = {"before": [[], [], []], "now": [[], [], []]}
        for i in range(args.runs):  # interleaved: the disk's state and the load hit both alike
            for label, checkout in (("before", args.before), ("now", args.now)):
                env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
                first, same, one = runs[label]
                (ws / "sites.csv").write_text(text, encoding="utf-8")
                if (ws / "inventory").exists():
                    (ws / "inventory").rename(base / f"old-{label}-{i}")  # no delete timed
                first.append(cpu(["inventory", "-w", str(ws)], env))
                same.append(cpu(["inventory", "-w", str(ws)], env))
                changed = text.replace(",led\n", ",tv\n", 1)
                (ws / "sites.csv").write_text(changed, encoding="utf-8")
                one.append(cpu(["inventory", "-w", str(ws)], env))
        results = {label: [statistics.median(x) for x in r] for label, r in runs.items()}
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"N = {args.sites} sites, median of {args.runs}, load {os.getloadavg()[0]:.0f}")
    print("| checkout | first render | nothing changed | one site changed |")
    print("| --- | ---: | ---: | ---: |")
    for label, (a, b, c) in results.items():
        print(f"| {label} | {a:.2f} s | {b:.2f} s | {c:.2f} s |")


if __name__ == "__main__":
    main()
