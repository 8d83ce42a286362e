"""Registry check and inventory rendering at national scale (issue #2's speed targets).

Generates a registry of N sites (default 20,000: one province centre, districts of ~27 communes,
departments), then measures, each as the median of several runs in fresh processes:

* ``confprov check``                     target ≤ 2 s
* ``confprov inventory`` (first render)   target ≤ 5 s and ≤ 500 MB
* ``confprov inventory`` (nothing changed)
* the floor: writing the same bytes without validation or templating, measured in the same run,
  so the ratio says what confprov's own work costs above the disk.

With ``--xlsx`` it measures instead ``confprov check`` of the same registry as a workbook
(sites.xlsx) against it as CSV, in the same run (target: the workbook within 2x the CSV), and the
two ways of reading the cells in process (python-calamine, which confprov uses, and openpyxl's
read-only mode).

Usage: .venv/bin/python bench/registry_scale.py [--sites 20000] [--runs 5] [--xlsx]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFPROV = [sys.executable, "-m", "confprov"]
SYLLABLES = (
    "an",
    "bình",
    "cường",
    "dũng",
    "đông",
    "giang",
    "hà",
    "hưng",
    "khê",
    "lâm",
    "minh",
    "nam",
    "phú",
    "quang",
    "sơn",
    "tân",
    "thanh",
    "thủy",
    "trung",
    "văn",
    "xuân",
    "yên",
)


def name(i: int) -> str:
    """A distinct Vietnamese-looking name for every i."""
    words = []
    while True:
        words.append(SYLLABLES[i % len(SYLLABLES)].capitalize())
        i //= len(SYLLABLES)
        if i == 0:
            break
    return " ".join(words)


def make_registry(n: int) -> str:
    rows = ["name,level,parent,endpoint,router,router_platform,wan_kbps,display"]
    departments = max(1, n // 60)
    districts = max(1, (n - 1 - departments) // 28)
    communes = n - 1 - departments - districts
    ip = iter(f"198.{18 + k // 65536}.{k // 256 % 256}.{k % 256}" for k in range(1, 131000))
    rows.append(f"Trung tâm Hội nghị tỉnh,province,,{next(ip)},{next(ip)},cisco_ios,100000,led")
    for d in range(districts):
        rows.append(f"UBND huyện {name(d)},district,,{next(ip)},{next(ip)},cisco_ios,50000,tv")
    for c in range(communes):
        district = name(c % districts)
        rows.append(
            f"UBND xã {name(c)},commune,{district},{next(ip)},{next(ip)},huawei_vrp,20000,tv"
        )
    for p in range(departments):
        rows.append(f"Sở {name(p)},department,,{next(ip)},{next(ip)},frr,20000,projector")
    return "\n".join(rows) + "\n"


def settle() -> None:
    """Flush earlier writes and deletions first (this disk discards on delete): each timing then
    starts from the same state instead of paying for the previous run's I/O."""
    subprocess.run(["sync"], check=True)


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of one command."""
    settle()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss // 1024


def floor_write(files: dict[str, bytes], target: Path) -> float:
    settle()
    start = time.perf_counter()
    for rel, data in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return time.perf_counter() - start


def write_xlsx(csv_text: str, path: Path) -> None:
    import csv
    import io

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sites")
    for row in csv.reader(io.StringIO(csv_text)):
        sheet.append(row)
    book.save(path)


def in_process(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_xlsx(args: argparse.Namespace) -> None:
    from openpyxl import load_workbook
    from python_calamine import CalamineWorkbook

    load_before = os.getloadavg()[0]
    base = Path(tempfile.mkdtemp(prefix="confprov-bench-xlsx-"))
    try:
        text = make_registry(args.sites)
        spaces = {}
        for kind in ("csv", "xlsx"):
            ws = base / kind
            subprocess.run([*CONFPROV, "init", str(ws)], check=True, stdout=subprocess.DEVNULL)
            (ws / "sites.csv").unlink()
            if kind == "csv":
                (ws / "sites.csv").write_text(text, encoding="utf-8")
            else:
                write_xlsx(text, ws / "sites.xlsx")
            spaces[kind] = ws
        times: dict[str, list[float]] = {"csv": [], "xlsx": []}
        for _ in range(args.runs):  # alternated, so a change in the machine's load hits both
            for kind, ws in spaces.items():
                times[kind].append(timed([*CONFPROV, "check", "-w", str(ws)])[0])
        book = spaces["xlsx"] / "sites.xlsx"
        calamine = in_process(
            lambda: CalamineWorkbook.from_path(str(book)).get_sheet_by_index(0).to_python(),
            args.runs,
        )
        openpyxl_ro = in_process(
            lambda: list(
                load_workbook(book, read_only=True, data_only=True)
                .worksheets[0]
                .iter_rows(values_only=True)
            ),
            args.runs,
        )
        size = book.stat().st_size
    finally:
        shutil.rmtree(base, ignore_errors=True)
    csv_s, xlsx_s = statistics.median(times["csv"]), statistics.median(times["xlsx"])
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; N = {args.sites} sites "
        f"(workbook {size / 1e6:.1f} MB); median of {args.runs} runs; load average before: "
        f"{load_before:.1f}, after: {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| step | median wall | vs CSV | target |")
    print("| --- | --- | --- | --- |")
    print(f"| `confprov check`, sites.csv | {csv_s:.2f} s | 1.0x | |")
    print(f"| `confprov check`, sites.xlsx | {xlsx_s:.2f} s | {xlsx_s / csv_s:.2f}x | ≤ 2x |")
    print(f"| read the cells: python-calamine (used) | {calamine:.2f} s | | |")
    print(f"| read the cells: openpyxl read-only | {openpyxl_ro:.2f} s | | |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--xlsx", action="store_true", help="check of sites.xlsx against CSV")
    args = parser.parse_args()
    if args.xlsx:
        bench_xlsx(args)
        return

    base = Path(tempfile.mkdtemp(prefix="confprov-bench-"))
    try:
        ws = base / "ws"
        subprocess.run([*CONFPROV, "init", str(ws)], check=True, stdout=subprocess.DEVNULL)
        (ws / "sites.csv").write_text(make_registry(args.sites), encoding="utf-8")
        cfg = ws / "confprov.yml"
        cfg.write_text(cfg.read_text().replace("province: Tên tỉnh", "province: Quốc gia"))

        check = [timed([*CONFPROV, "check", "-w", str(ws)]) for _ in range(args.runs)]
        first, again = [], []
        for i in range(args.runs):
            # Moved aside, not deleted: deleting 40,000 files makes this disk discard, which
            # would be charged to the next timing. Everything is deleted at the end.
            if (ws / "inventory").exists():
                (ws / "inventory").rename(base / f"old-inventory-{i}")
            first.append(timed([*CONFPROV, "inventory", "-w", str(ws)]))
            again.append(timed([*CONFPROV, "inventory", "-w", str(ws)]))
        files = {
            str(p.relative_to(ws / "inventory")): p.read_bytes()
            for p in (ws / "inventory").rglob("*.yml")
        }
        floors = [floor_write(files, base / f"floor{i}") for i in range(args.runs)]
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import confprov.cli"], check=True)
        startup = time.perf_counter() - start
    finally:
        shutil.rmtree(base, ignore_errors=True)

    def med(pairs: list[tuple[float, int]]) -> float:
        return statistics.median(t for t, _ in pairs)

    def peak(pairs: list[tuple[float, int]]) -> int:
        return max(m for _, m in pairs)

    floor = statistics.median(floors)
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; N = {args.sites} sites, {len(files)} files; "
        f"median of {args.runs} runs"
    )
    print()
    print("| step | median wall | peak memory | vs floor | target |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| `confprov check` | {med(check):.2f} s | {peak(check)} MB | | ≤ 2 s |")
    print(
        f"| `confprov inventory`, first render | {med(first):.2f} s | {peak(first)} MB | "
        f"{med(first) / floor:.1f}x | ≤ 5 s, ≤ 500 MB |"
    )
    print(
        f"| `confprov inventory`, nothing changed | {med(again):.2f} s | {peak(again)} MB | "
        f"{med(again) / floor:.1f}x | |"
    )
    print(f"| floor: write the same {len(files)} files, no work | {floor:.2f} s | | 1.0x | |")
    print(f"| Python start + `import confprov.cli` | {startup:.2f} s | | | |")


if __name__ == "__main__":
    main()
