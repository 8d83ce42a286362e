"""`confprov demo`: the whole day rehearsed on a lab, on a fresh machine with no configuration.

lab up (a small province of every level) → check → inventory → provision → routers push →
deploy the media reflector → verify (HTML report). Every step is the very command an operator
would type, run in-process; each prints its own output. The first step that fails stops the demo
with its exit code (verify's "not ready" is reported, not a failure of the demo). The lab is taken
down at the end unless --keep; the workspace, with its run folders and report, stays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

DEMO_LAB = "demo"
REPORT = "report.html"


def steps(ws: Path) -> list[tuple[str, list[str]]]:
    w = ["-w", str(ws)]
    return [
        ("check the registry", ["check", *w]),
        ("render the inventory", ["inventory", *w]),
        ("provision every endpoint", ["provision", *w]),
        ("push the site routers", ["routers", "push", *w]),
        ("deploy the media reflector", ["reflector", "--deploy", *w]),
        ("verify every site", ["verify", *w, "--html", str(ws / REPORT)]),
    ]


def run_demo(sites: int, workspace: Path, *, keep: bool, out: Callable[[str], None]) -> int:
    from confprov.cli import main
    from confprov.lab import lab
    from confprov.lab.plan import generated_sites
    from confprov.lab.state import LabState

    if LabState(DEMO_LAB).exists():
        out("an earlier demo lab is still there: taking it down first")
        lab.down(DEMO_LAB)
    started = time.monotonic()
    out(f"== build a {sites}-site rehearsal province (endpoints, FRR routers, Kamailio)")
    up = lab.up(DEMO_LAB, generated_sites(sites), workspace, progress=out)
    ws = up.workspace
    out(f"lab up in {up.timings['total']:.0f} s; workspace {ws}")
    code = 0
    try:
        for title, argv in steps(ws):
            out(f"\n== {title}: confprov {' '.join(argv)}")
            t = time.monotonic()
            code = main(argv)
            out(f"({title}: exit {code}, {time.monotonic() - t:.0f} s)")
            if code != 0 and argv[0] != "verify":
                out(f"demo stopped: `{title}` failed (exit {code})")
                break
    finally:
        if keep:
            out(f"\nlab kept: `confprov lab down --name {DEMO_LAB}` removes it")
        else:
            lab.down(DEMO_LAB)
            out("\nlab taken down")
    out(f"demo done in {time.monotonic() - started:.0f} s")
    if (ws / REPORT).exists():
        out(f"readiness report: {ws / REPORT}")
    return code


def default_out(line: str) -> None:
    print(line, flush=True)
