"""Router push at province scale: `confprov routers push` against the floor and a sequential push.

Needs root and the lab image. Brings up (or reuses) a lab of the shipped province (298 sites,
298 FRR routers), then, in the same run and interleaved, for each repetition:

- floor:      a bare netmiko ThreadPoolExecutor pushing the same lines (connect with the same
              pinned host keys, send_config_set, save_config, disconnect), same worker count,
              each connection given a file with only its router's pinned key (as confprov does);
- naive:      the same, but netmiko given the whole known_hosts (paramiko parses all 597 keys
              for every connection): what a first netmiko script does;
- engine:     confprov's engine called directly (no Ansible): what the module does inside;
- confprov:   `confprov routers push` as an operator runs it (Ansible, run folder, summary);
- sequential: the bare netmiko push one router after another (once: it is slow).

Before each timed push the routers are reset (untimed) so every push has the same work.
Each push is timed twice: wall time, and the controller's CPU time (user + system of this process
and of the `confprov` process tree it waited for). On a shared 2-core machine whose load comes and
goes, CPU time is the steadier measure of what a push costs; the routers' own CPU (sshd, vtysh in
the lab's containers) is not in it. Prints a Markdown table for docs/benchmarks.md (median of the
repetitions, ratio to the floor).

    sudo .venv/bin/python bench/routers_push.py [--reps 3] [--workers 50] [--keep]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

LAB = "rtbench"
# A push where some router did not answer (on this 2-core machine under the lab's own load, a lab
# router's vtysh now and then stalls past the 30 s command timeout) is not comparable: it is
# redone after a reset, at most this many times, and the redo is printed and counted.
ATTEMPTS = 3


class PushFailed(Exception):
    """Not every router took the push."""


def lab_up(workspace: Path, name: str = LAB, sites: int = 0) -> None:
    from confprov.lab import lab as lab_mod
    from confprov.lab.plan import example_sites
    from confprov.lab.state import LabState

    if LabState(name).exists():
        lab_mod.down(name)
    started = time.monotonic()
    chosen = example_sites("phu-tho")
    lab_mod.up(name, chosen[:sites] if sites else chosen, workspace)
    print(f"lab {name} up in {time.monotonic() - started:.1f} s", file=sys.stderr)


def lines_for(targets: list[Any], conference: Any) -> dict[str, list[str]]:
    from confprov.routers.configdiff import dialect
    from confprov.routers.platforms import platform
    from confprov.routers.render import render

    out: dict[str, list[str]] = {}
    for t in targets:
        d = dialect(platform(t.platform))
        out[t.host] = d.commands(d.missing(d.statements(render(t, conference)), []))
    return out


def netmiko_push(t: Any, known_hosts: Any, commands: list[str]) -> None:
    from netmiko import ConnectHandler

    from confprov.routers.device import HostKeyStore

    if isinstance(known_hosts, HostKeyStore):
        known_hosts = known_hosts.file_for(t.address)

    conn = ConnectHandler(
        device_type="cisco_ios",
        host=t.address,
        username=t.username,
        password=t.password,
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=str(known_hosts),
        ssh_config_file=None,
        allow_agent=False,
        use_keys=False,
        conn_timeout=30,
        auth_timeout=30,
        banner_timeout=30,
    )
    try:
        # The same prompt settling as confprov's (a banner line taken for the prompt under load).
        from confprov.routers.device import _settle_prompt

        _settle_prompt(conn)
        conn.send_config_set(commands)
        conn.save_config()
    finally:
        conn.disconnect()


def pool(targets: list[Any], known_hosts: Any, lines: dict[str, list[str]], workers: int) -> float:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        futures = {t.host: ex.submit(netmiko_push, t, known_hosts, lines[t.host]) for t in targets}
    spent = time.monotonic() - started
    bad = {h: f.exception() for h, f in futures.items() if f.exception() is not None}
    if bad:
        host, exc = next(iter(bad.items()))
        raise PushFailed(f"netmiko pool: {len(bad)} router(s) failed, e.g. {host}: {exc}")
    return spent


def reset(targets: list[Any], known_hosts: Any, conference: Any, workers: int) -> None:
    """Remove what a push adds (untimed), so the next push has the full work again."""
    undo = {}
    for t in targets:
        undo[t.host] = [
            f"no ip route {conference.network} {t.wan_gateway}",
            f"interface {t.wan_interface}",
            "no description",
            "exit",
        ]
    pool(targets, known_hosts, undo, workers)


def engine_push(workspace: Path, targets: list[Any], conference: Any, workers: int) -> float:
    from confprov.routers import engine
    from confprov.routers.targets import known_hosts

    opts = engine.Options(workspace=workspace, known_hosts=known_hosts(workspace), workers=workers)
    started = time.monotonic()
    results = engine.run("push", [engine.Job(t) for t in targets], conference, opts)
    spent = time.monotonic() - started
    bad = [r for r in results.values() if r.status != "changed"]
    if bad:
        raise PushFailed(f"engine push: {len(bad)} not changed, e.g. {bad[0]}")
    return spent


def cli_push(workspace: Path, workers: int, count: int, *extra: str) -> float:
    confprov = Path(sys.executable).parent / "confprov"
    started = time.monotonic()
    argv = [str(confprov), "routers", "push", "-w", str(workspace), "-q", "--workers", str(workers)]
    proc = subprocess.run(
        [*argv, *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    spent = time.monotonic() - started
    if proc.returncode != 0 or f" {count} changed" not in proc.stdout:
        raise PushFailed(f"confprov push failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return spent


def cpu() -> float:
    """CPU seconds of this process and of its waited-for children, so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/rtbench-ws"))
    parser.add_argument("--reuse", action="store_true", help="use a lab already up")
    parser.add_argument("--lab", default=LAB, help=f"the lab's name (default {LAB})")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    parser.add_argument(
        "--sites",
        type=int,
        default=0,
        help="only the example's first N sites (a smaller lab when the machine is loaded); 0: all",
    )
    parser.add_argument("--no-sequential", action="store_true")
    parser.add_argument(
        "--modes",
        type=lambda v: v.split(","),
        default=["floor", "engine", "confprov", "naive"],
        help="comma-separated pushes to time, in this order, among floor, engine, confprov, "
        "confprov-no-logs (confprov without session logs), naive (default: all but the last)",
    )
    args = parser.parse_args()

    from confprov.routers.targets import known_hosts, workspace_routers
    from confprov.workspace import render_workspace_inventory

    if not args.reuse:
        lab_up(args.workspace, args.lab, args.sites)
    try:
        ws = args.workspace
        render_workspace_inventory(ws)
        targets, conference = workspace_routers(ws)
        kh = known_hosts(ws)
        lines = lines_for(targets, conference)
        from confprov.routers.device import HostKeyStore

        store = HostKeyStore(kh)
        times: dict[str, list[float]] = {mode: [] for mode in args.modes}
        cpus: dict[str, list[float]] = {mode: [] for mode in times}
        redone: dict[str, int] = dict.fromkeys(times, 0)
        reset(targets, store, conference, args.workers)
        for rep in range(args.reps):
            for mode in args.modes:
                for attempt in range(1, ATTEMPTS + 1):
                    used = cpu()
                    try:
                        if mode == "floor":
                            spent = pool(targets, store, lines, args.workers)
                        elif mode == "naive":
                            spent = pool(targets, kh, lines, args.workers)
                        elif mode == "engine":
                            spent = engine_push(ws, targets, conference, args.workers)
                        elif mode == "confprov-no-logs":
                            spent = cli_push(ws, args.workers, len(targets), "--no-session-logs")
                        else:
                            spent = cli_push(ws, args.workers, len(targets))
                        break
                    except PushFailed as exc:
                        redone[mode] += 1
                        print(f"rep {rep + 1} {mode}: NOT COUNTED, redone: {exc}", file=sys.stderr)
                        reset(targets, store, conference, args.workers)
                        if attempt == ATTEMPTS:
                            raise SystemExit(f"{mode}: {ATTEMPTS} attempts failed") from None
                times[mode].append(spent)
                cpus[mode].append(cpu() - used)
                load = os.getloadavg()[0]
                print(
                    f"rep {rep + 1} {mode}: {spent:.1f} s wall, {cpus[mode][-1]:.1f} s CPU, "
                    f"load {load:.0f}",
                    file=sys.stderr,
                    flush=True,
                )
                reset(targets, store, conference, args.workers)
        if not args.no_sequential:
            used = cpu()
            spent = pool(targets, store, lines, 1)
            times["sequential"] = [spent]
            cpus["sequential"] = [cpu() - used]
            print(f"sequential: {spent:.1f} s", file=sys.stderr)
            reset(targets, store, conference, args.workers)
        store.close()
        floor = statistics.median(times["floor"])
        floor_cpu = statistics.median(cpus["floor"])
        print(f"\n{len(targets)} routers, {args.workers} workers, {args.reps} repetitions\n")
        print("| push | wall (median) | wall runs | ratio | CPU (median) | CPU runs | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for mode, values in times.items():
            med, cmed = statistics.median(values), statistics.median(cpus[mode])
            runs = ", ".join(f"{v:.1f}" for v in values)
            cruns = ", ".join(f"{v:.1f}" for v in cpus[mode])
            print(
                f"| {mode} | {med:.1f} s | {runs} | {med / floor:.2f}x "
                f"| {cmed:.1f} s | {cruns} | {cmed / floor_cpu:.2f}x |"
            )
        for mode, count in redone.items():
            if count:
                print(f"\n{mode}: {count} push(es) redone, a router not answering (above)")
    finally:
        if not args.keep and not args.reuse:
            from confprov.lab import lab as lab_mod

            lab_mod.down(args.lab)


if __name__ == "__main__":
    main()
