"""Execution nodes: the same work run here vs spread over 3 lab nodes (root).

    sudo .venv/bin/python bench/nodes.py --sites 60 --runs 3 --provision 30

One lab (``--name``, default nbench) of ``--sites`` sites with three execution nodes
(confprov/lab/execnodes.py: lab hosts that run this machine's ansible-runner through sshd).

- **verify**: ``confprov verify`` in process, here and with ``--nodes`` (3 slices, the same
  total forks), in alternating order, ``--runs`` times each: the overhead of
  transmit | worker | process, as a ratio to the local run measured in the same bench;
- **first provision**: ``--provision`` sites' endpoints provisioned for the first time here, and
  as many *other* sites' endpoints for the first time spread (a first install can be timed only
  once per endpoint): one run each, with the per-endpoint cost;
- **plan**: from the measured per-host cost of a spread verify, how many sites a node verifies in
  10 minutes and how many nodes 10,000 sites need.

The machine's load average before and after is printed: its 2 cores are shared, and nodes here
share them too (a real node brings its own cores). The lab is taken down at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from confprov.cli import main as confprov


def _timed(argv: list[str]) -> tuple[float, int]:
    started = time.monotonic()
    code = confprov(argv)
    return time.monotonic() - started, code


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from confprov.lab import execnodes
    from confprov.lab import lab as lab_mod
    from confprov.lab.plan import generated_sites

    out: dict[str, Any] = {"sites": args.sites, "load_before": _load()}
    ws = Path(args.workspace or f"/tmp/{args.name}-ws").resolve()
    up = lab_mod.up(args.name, generated_sites(args.sites), ws)
    try:
        nodes_file = str(execnodes.up(args.name, 3))
        base = ["-w", str(ws), "-q"]
        spread = ["--nodes", nodes_file]
        slugs = [s.slug for s in up.plan.sites]
        n = args.provision
        if n:
            here = ",".join(slugs[:n])
            there = ",".join(slugs[n : 2 * n])
            t_here, c_here = _timed(["provision", *base, "--limit", here])
            t_there, c_there = _timed(["provision", *base, "--limit", there, *spread])
            out["provision"] = {
                "endpoints": n,
                "local_s": round(t_here, 1),
                "spread_s": round(t_there, 1),
                "ratio": round(t_there / t_here, 2),
                "exit": [c_here, c_there],
            }
        # so verify checks a realistic site: routes pushed, the media reflector answering
        confprov(["routers", "push", *base])
        confprov(["reflector", "--deploy", *base])
        times: dict[str, list[float]] = {"local": [], "spread": []}
        for i in range(args.runs):
            order = ("local", "spread") if i % 2 == 0 else ("spread", "local")
            for how in order:
                took, _ = _timed(["verify", *base, *(spread if how == "spread" else [])])
                times[how].append(round(took, 2))
        local, spread_med = (statistics.median(times[k]) for k in ("local", "spread"))
        per_host = spread_med / args.sites  # wall seconds per site, 3 nodes on 2 shared cores
        out["verify"] = {
            "runs": times,
            "local_median_s": round(local, 2),
            "spread_median_s": round(spread_med, 2),
            "ratio": round(spread_med / local, 2),
        }
        # The plan: a node's throughput measured here is a third of the spread run's (3 nodes
        # shared these 2 cores), so per node: sites / (spread time) / 3 … conservative.
        node_rate = args.sites / spread_med / 3  # sites per second per node
        sites_per_node = math.floor(node_rate * 600)
        out["plan"] = {
            "seconds_per_site_spread": round(per_host, 3),
            "sites_per_node_in_10_min": sites_per_node,
            "nodes_for_10000": math.ceil(10_000 / max(1, sites_per_node)),
        }
    finally:
        out["load_after"] = _load()
        if not args.keep:
            lab_mod.down(args.name)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="nbench")
    parser.add_argument("--sites", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--provision", type=int, default=6, help="endpoints per first provision")
    parser.add_argument("--workspace", default="")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if 2 * args.provision > args.sites:
        parser.error("--provision takes twice its number of sites: raise --sites")
    print("RESULT " + json.dumps(bench(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
