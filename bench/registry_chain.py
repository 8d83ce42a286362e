"""Registry checks stay linear: a chain of parents costs what a flat registry of that size does.

Two registries of N rows (default 20,000), each checked by ``confprov check`` in a fresh process:

* flat: a province site and N-1 departments, every parent empty (a valid registry: exit 0);
* chain: the same rows, each department's parent the department before it (a 20,000-deep
  chain: refused, exit 2, one level problem per row, which is printed too).

Printed: the median CPU time (user + system) of each over several runs and their ratio (CPU
time, not wall time: this machine is shared, and its load swamps wall times). ``--baseline DIR``
also times the chain with the confprov found in DIR (e.g. a checkout of an older commit) at
``--baseline-rows`` rows, to show what the linear cycle walk replaced.

``--load-only N…`` instead times ``load_registry`` of chains of N rows inside this process
(CPU seconds), for whichever confprov is importable: run it with ``PYTHONPATH=<checkout>`` from
a neutral folder to measure an older commit.

Usage: .venv/bin/python bench/registry_chain.py [--rows 20000] [--runs 5]
       [--baseline /work/main --baseline-rows 1200]
       cd /tmp && PYTHONPATH=/path/to/checkout python bench/registry_chain.py --load-only 300 600
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CONFPROV = [sys.executable, "-m", "confprov"]
NEUTRAL = Path(tempfile.gettempdir())


def address(i: int) -> str:
    return f"198.{18 + i // 65536}.{i // 256 % 256}.{i % 256}"


def registry(n: int, *, chain: bool) -> str:
    rows = ["id,name,level,parent,endpoint", f"p,Trung tâm Hội nghị tỉnh,province,,{address(1)}"]
    for i in range(n - 1):
        parent = f"d{i - 1}" if chain and i else ""
        rows.append(f"d{i},Sở số {i},department,{parent},{address(i + 2)}")
    return "\n".join(rows) + "\n"


def timed(cmd: list[str], want: int, env: dict[str, str] | None = None) -> float:
    """CPU seconds (user + system) of one command: on a shared, loaded machine the wall time
    mostly measures the other users; the CPU time is what the command itself cost."""
    # From a neutral folder: `python -m` puts the current folder first on sys.path, which
    # would shadow the --baseline checkout's confprov with the one here.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=NEUTRAL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != want:
        raise SystemExit(f"{' '.join(cmd)}: exit {code}, wanted {want}")
    return usage.ru_utime + usage.ru_stime


def workspace(base: Path, name: str, text: str) -> Path:
    ws = base / name
    subprocess.run([*CONFPROV, "init", str(ws)], check=True, stdout=subprocess.DEVNULL)
    (ws / "sites.csv").write_text(text, encoding="utf-8")
    return ws


def load_only(sizes: list[int]) -> None:
    import time

    import confprov
    from confprov.exceptions import InputError
    from confprov.registry import load_registry

    base = Path(tempfile.mkdtemp(prefix="confprov-chain-"))
    results = []
    try:
        for n in sizes:
            path = base / f"chain{n}.csv"
            path.write_text(registry(n, chain=True), encoding="utf-8")
            start = time.process_time()
            with contextlib.suppress(InputError):  # refused, as it must be: the time counts
                load_registry(path)
            results.append(f"{n} rows: {time.process_time() - start:.2f} s CPU")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{Path(confprov.__file__).parent}: " + "; ".join(results))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="a checkout whose confprov to compare")
    parser.add_argument("--baseline-rows", type=int, default=1200)
    parser.add_argument("--load-only", type=int, nargs="+", metavar="N")
    args = parser.parse_args()
    if args.load_only:
        load_only(args.load_only)
        return

    base = Path(tempfile.mkdtemp(prefix="confprov-chain-"))
    try:
        flat = workspace(base, "flat", registry(args.rows, chain=False))
        chain = workspace(base, "chain", registry(args.rows, chain=True))
        flat_t, chain_t = [], []
        for _ in range(args.runs):  # interleaved: a change of load hits both alike
            flat_t.append(timed([*CONFPROV, "check", "-w", str(flat)], 0))
            chain_t.append(timed([*CONFPROV, "check", "-w", str(chain)], 2))
        old: list[float] = []
        new_small: list[float] = []
        if args.baseline:
            small = workspace(base, "small", registry(args.baseline_rows, chain=True))
            env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}
            for _ in range(args.runs):
                old.append(timed([*CONFPROV, "check", "-w", str(small)], 2, env))
                new_small.append(timed([*CONFPROV, "check", "-w", str(small)], 2))
    finally:
        shutil.rmtree(base, ignore_errors=True)

    load = os.getloadavg()
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {load[0]:.1f}; "
        f"median of {args.runs} runs"
    )
    print()
    print("| registry | rows | `confprov check` CPU, median | vs flat |")
    print("| --- | --- | --- | --- |")
    f, c = statistics.median(flat_t), statistics.median(chain_t)
    print(f"| flat (every parent empty) | {args.rows} | {f:.2f} s | 1.0x |")
    print(f"| chain (each row the parent of the next) | {args.rows} | {c:.2f} s | {c / f:.2f}x |")
    if old:
        o, n = statistics.median(old), statistics.median(new_small)
        print(
            f"| chain, before (confprov of {args.baseline}) | {args.baseline_rows} | {o:.2f} s | |"
        )
        print(f"| chain, now | {args.baseline_rows} | {n:.2f} s | |")


if __name__ == "__main__":
    main()
