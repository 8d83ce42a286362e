"""`confprov demo`: the whole day rehearsed on a lab, on a fresh machine with no configuration.

lab up (a small province of every level) → check → inventory → reach every endpoint → (the later
steps as they exist: provision → routers push → verify → report). Each step prints one line; the
first failing step stops the demo with its exit code, and the lab is taken down unless --keep.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from confprov import runner
from confprov.exceptions import NotReady
from confprov.workspace import check_workspace, render_workspace_inventory

DEMO_LAB = "demo"


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[Path], str]  # returns the line to print; raises on failure


def _check(ws: Path) -> str:
    return check_workspace(ws).text().splitlines()[0]


def _inventory(ws: Path) -> str:
    return render_workspace_inventory(ws).text()


def _ping(ws: Path) -> str:
    result = runner.run_playbook(ws, "ping.yml", action="ping", forks=20)
    if not result.ok:
        raise NotReady(result.summary_text())
    return f"{len(result.hosts)} endpoints answer over SSH (host keys pinned)"


STEPS = (
    Step("check the registry", _check),
    Step("render the inventory", _inventory),
    Step("reach every endpoint", _ping),
)


def run_demo(sites: int, workspace: Path, *, keep: bool, out: Callable[[str], None]) -> int:
    from confprov.lab import lab
    from confprov.lab.plan import generated_sites
    from confprov.lab.state import LabState

    if LabState(DEMO_LAB).exists():
        out("an earlier demo lab is still there: taking it down first")
        lab.down(DEMO_LAB)
    started = time.monotonic()
    out(f"[lab] building a {sites}-site province (endpoints, FRR routers, Kamailio)…")
    up = lab.up(DEMO_LAB, generated_sites(sites), workspace, progress=lambda m: out(f"      {m}"))
    ws = up.workspace
    out(f"[lab] up in {up.timings['total']:.0f} s; workspace {ws}")
    try:
        for step in STEPS:
            t = time.monotonic()
            line = step.run(ws)
            out(f"[{step.title}] {line} ({time.monotonic() - t:.1f} s)")
    finally:
        if keep:
            out(f"lab kept: `confprov lab down --name {DEMO_LAB}` removes it")
        else:
            lab.down(DEMO_LAB)
            out("lab taken down")
    out(f"demo done in {time.monotonic() - started:.0f} s; workspace kept: {ws}")
    return 0


def default_out(line: str) -> None:
    print(line, flush=True, file=sys.stdout)
