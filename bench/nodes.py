"""Execution nodes: the same work run here vs spread over 3 lab nodes (root).

    sudo .venv/bin/python bench/nodes.py --sites 60 --runs 3 --provision 30
    sudo .venv/bin/python bench/nodes.py --sites 90 --runs 0 --provision 30 --floor

One lab (``--name``, default nbench) of ``--sites`` sites with three execution nodes
(confprov/lab/execnodes.py: lab hosts that run this machine's ansible-runner through sshd).

- **verify**: ``confprov verify`` in process, here and with ``--nodes`` (3 slices, the same
  total forks), in alternating order, ``--runs`` times each: the overhead of
  transmit | worker | process, as a ratio to the local run measured in the same bench;
- **first provision**: ``--provision`` sites' endpoints provisioned for the first time here, and
  as many *other* sites' endpoints for the first time spread (a first install can be timed only
  once per endpoint): one run each, with the per-endpoint cost;
- **floor** (``--floor``): on as many *further* fresh endpoints, a raw parallel install over SSH
  with confprov's forks: per endpoint one ``ssh`` (the workspace's key, pinned host keys) that
  points apt at the same mirror, served the same way, and runs ``apt-get update`` +
  ``apt-get install`` of the client profile's pinned packages and the baseline's packages (as
  confprov's mirror spec lists them). Package install only: no config files, services or survey;
- **plan**: from the measured per-host cost of a spread verify, how many sites a node verifies in
  10 minutes and how many nodes 10,000 sites need (``--runs 0``: no verify, no plan).

The machine's load average before and after is printed: its 2 cores are shared, and nodes here
share them too (a real node brings its own cores). The lab is taken down at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from confprov import paths
from confprov.cli import main as confprov
from confprov.lab.lab_workspace import ssh_argv
from confprov.provision import mirror
from confprov.provision.run import baseline_packages, mirror_spec, prepare_mirror, served
from confprov.workspace import load

# confprov provision's parallelism, passed to it explicitly and used by the floor: one number.
FORKS = 20


def _timed(argv: list[str]) -> tuple[float, int]:
    started = time.monotonic()
    code = confprov(argv)
    return time.monotonic() - started, code


def _floor_command(ws: Path) -> str:
    """The raw install, as one root shell command reading the mirror's key on stdin: the
    role's source and keyring paths, apt-get update of that source only, then the packages
    the mirror was built for (the profile's pinned client and the baseline's packages)."""
    loaded = load(ws)
    profile, _ = prepare_mirror(loaded)
    spec = mirror_spec(profile, profile.version(loaded.config.client.version))
    role_vars = paths.roles_path() / "conference_client" / "vars" / "main.yml"
    names = yaml.safe_load(role_vars.read_text())
    keyring, source = names["_conference_client_keyring"], names["_conference_client_source"]
    packages = [*spec.pinned, *baseline_packages()]
    only_source = (
        f"-o Dir::Etc::SourceList={source} -o Dir::Etc::SourceParts=- "
        "-o APT::Get::List-Cleanup=0 -o Acquire::Check-Date=false"
    )
    script = (
        f"set -e; mkdir -p {Path(keyring).parent}; cat > {keyring}; "
        f"printf 'Types: deb\\nURIs: %s\\nSuites: ./\\nSigned-By: {keyring}\\n' \"$1\" > {source}; "
        f"apt-get update -q {only_source}; "
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
        + " ".join(shlex.quote(p) for p in packages)
    )
    return f"sudo sh -c {shlex.quote(script)} floor"


def floor(ws: Path, addresses: dict[str, str]) -> float:
    """Raw parallel first install over SSH on ``addresses`` (host -> management address)."""
    command = _floor_command(ws)
    key = mirror.public_key(ws)
    loaded = load(ws)
    with served(ws, loaded, addresses) as urls:

        def one(host: str) -> subprocess.CompletedProcess[str]:
            argv = ssh_argv(ws, addresses[host], f"{command} {shlex.quote(urls[host])}")
            return subprocess.run(argv, input=key, capture_output=True, text=True, check=False)

        started = time.monotonic()
        with ThreadPoolExecutor(FORKS) as pool:
            done = list(pool.map(one, addresses))
        took = time.monotonic() - started
    failed = [p for p in done if p.returncode]
    if failed:
        raise SystemExit(f"floor failed on {len(failed)} host(s): {failed[0].stderr[-2000:]}")
    return took


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
        forks = ["--forks", str(FORKS)]
        spread = ["--nodes", nodes_file]
        slugs = [s.slug for s in up.plan.sites]
        n = args.provision
        if n:
            here = ",".join(slugs[:n])
            there = ",".join(slugs[n : 2 * n])
            if args.floor:  # first: it fails fast, and builds the mirror before any timing
                fresh = {s.slug: s.endpoint_mgmt for s in up.plan.sites[2 * n : 3 * n]}
                t_floor = floor(ws, fresh)
                print(f"floor: {t_floor:.1f} s", flush=True)
            t_here, c_here = _timed(["provision", *base, *forks, "--limit", here])
            print(f"provision here: {t_here:.1f} s (exit {c_here})", flush=True)
            t_there, c_there = _timed(["provision", *base, *forks, "--limit", there, *spread])
            print(f"provision spread: {t_there:.1f} s (exit {c_there})", flush=True)
            out["provision"] = {
                "endpoints": n,
                "local_s": round(t_here, 1),
                "spread_s": round(t_there, 1),
                "ratio": round(t_there / t_here, 2),
                "exit": [c_here, c_there],
            }
            if args.floor:
                out["provision"].update(
                    floor_s=round(t_floor, 1),
                    local_to_floor=round(t_here / t_floor, 2),
                    spread_to_floor=round(t_there / t_floor, 2),
                )
        if args.runs < 1:
            return out
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
    parser.add_argument(
        "--floor", action="store_true", help="also a raw apt-get-over-SSH first-install floor"
    )
    args = parser.parse_args()
    takes = 3 if args.floor else 2
    if takes * args.provision > args.sites:
        parser.error(f"--provision takes {takes} times its number of sites: raise --sites")
    print("RESULT " + json.dumps(bench(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
