"""`confprov watch status`: the engine's view of every site, read once, without a server.

The same engine as `watch serve` (confprov.watch.engine) judges one reading of the collector and
one round of router checks (its ``poll_once``); its snapshot is serialised by the board's own
:func:`confprov.watch.app.sites_document`: the state rules and the JSON are the ones /api/sites
uses. A one-shot reading has no past (no hysteresis: a site recovering in the server's clean
window is already ``up`` here; no gap to wait: a site never heard from is ``down`` at once), and
its event log is a throw-away one in memory: a status call must not write "unknown → up" for
every site into the session's log. The technicians' marks (ack, maintenance, note) are read from
the workspace's store.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from confprov.watch.app import sites_document


def exit_code(doc: dict[str, Any]) -> int:
    """0 when every measurable site is up and the data is fresh, else 1. Sites ``unmeasured``
    (Windows endpoints only, no probe there) are not measurable and do not count; a Windows
    site whose router is unreachable is ``down`` and does."""
    return 0 if doc["up"] == doc["measurable"] and not doc["stale"] else 1


def read_state(workspace: Path) -> tuple[dict[str, Any], str]:
    """The /api/sites document for the present moment, and the collector's error ("" if none)."""
    from confprov.watch.engine import Engine, sites_of
    from confprov.watch.store import Store
    from confprov.workspace import load

    loaded = load(workspace)
    kept = Store.open(workspace)
    try:
        marks = kept.marks()
    finally:
        kept.close()
    scratch = Store(Path(":memory:"))
    for site, mark in marks.items():
        scratch.set_mark(
            site, ack_by=mark.ack_by, maint=mark.maint, maint_by=mark.maint_by, note=mark.note
        )
    engine = Engine(loaded.config, sites_of(loaded.registry), scratch)

    try:
        asyncio.run(engine.poll_once())
        return sites_document(engine.snapshot(), engine.stale), engine.last_error
    finally:
        scratch.close()
