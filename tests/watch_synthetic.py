"""A Watch (confprov.watch.model.Watch) over synthetic data, for tests and the board bench.

Why synthetic: the board's tests check what the page, the API and the stream do with a given
state (colours, counters, diffs, a change pushed within a deadline, the stale banner), which
needs states set exactly and at will, also for 298 sites on a 2-core machine shared with other
sessions. The engine's own detection is tested on the lab by its own tests; the board on the lab
(restore, restart) in tests/lab/test_watch_board.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
import time
from pathlib import Path
from typing import Any

from confprov.watch.model import Event, HistoryPoint, SiteState, SiteView


class SyntheticWatch:
    def __init__(self, workspace: Path, seed: int = 7) -> None:
        from confprov.workspace import load

        loaded = load(workspace)
        now = time.time()
        rng = random.Random(seed)
        self._lock = threading.Lock()
        self._version = 1
        self.stale_flag = False
        self._events: list[Event] = []
        self._views: dict[str, SiteView] = {}
        self._history: dict[str, list[HistoryPoint]] = {}
        for s in loaded.registry.sites:
            base = rng.uniform(5, 40)
            self._views[s.slug] = SiteView(
                site=s.slug,
                name=s.name,
                level=s.level,
                district=s.district or "",
                state=SiteState.UP,
                since=now - rng.uniform(60, 3600),
                last_reply_age_s=0.2,
                last_reply_at=now - 0.2,
                rtt_ms=round(base, 1),
                jitter_ms=round(rng.uniform(0.5, 3), 2),
                loss_ratio=0.0,
                client_running=True,
                sip_ok=True,
                router_reachable=True,
                contact_name=s.contact_name,
                contact_phone=s.contact_phone,
            )
            self._history[s.slug] = [
                (now - 300 + i, round(base + rng.uniform(-2, 2), 1), 0.0) for i in range(300)
            ]

    # -- driving it (the test's side) --------------------------------------------------------
    def set(self, site: str, **changes: Any) -> None:
        """Change a site as the engine would (a state change records an event)."""
        with self._lock:
            old = self._views[site]
            if "state" in changes and changes["state"] != old.state:
                changes.setdefault("since", time.time())
                self._event(site, "state", old.state.value, changes["state"].value, "", "")
            self._views[site] = dataclasses.replace(old, **changes)
            self._version += 1

    def set_stale(self, stale: bool) -> None:
        with self._lock:
            self.stale_flag = stale
            self._version += 1

    def _event(self, site: str, kind: str, frm: str, to: str, who: str, text: str) -> None:
        self._events.append(
            Event(
                id=len(self._events) + 1,
                t=time.time(),
                site=site,
                kind=kind,
                from_state=frm,
                to_state=to,
                who=who,
                text=text,
            )
        )

    # -- the Watch protocol -----------------------------------------------------------------
    @property
    def version(self) -> int:
        return self._version

    @property
    def stale(self) -> bool:
        return self.stale_flag

    def snapshot(self) -> list[SiteView]:
        with self._lock:
            return list(self._views.values())

    def history(self, site: str) -> list[HistoryPoint]:
        return list(self._history.get(site, []))

    async def wait_changed(self, after_version: int) -> int:
        while self._version == after_version:  # the test thread changes it: poll, cheaply
            await asyncio.sleep(0.05)
        return self._version

    def ack(self, site: str, who: str, note: str = "") -> None:
        with self._lock:
            old = self._views[site]
            self._views[site] = dataclasses.replace(
                old, state=SiteState.ACK, underlying=old.state, ack_by=who, since=time.time()
            )
            self._event(site, "ack", old.state.value, "ack", who, note)
            self._version += 1

    def set_maint(self, site: str, on: bool, who: str) -> None:
        with self._lock:
            old = self._views[site]
            state = SiteState.MAINT if on else (old.underlying or SiteState.UNKNOWN)
            self._views[site] = dataclasses.replace(old, state=state, since=time.time())
            self._event(site, "maint", old.state.value, state.value, who, "")
            self._version += 1

    def add_note(self, site: str, who: str, text: str) -> None:
        with self._lock:
            self._views[site] = dataclasses.replace(self._views[site], note=text)
            self._event(site, "note", "", "", who, text)
            self._version += 1

    def record_action(self, site: str, action: str, who: str, result: str) -> None:
        with self._lock:
            self._event(site, "action", "", "", who, f"{action}: {result}")
            self._version += 1

    def events(self, since: float | None = None) -> list[Event]:
        with self._lock:
            return [e for e in self._events if since is None or e.t >= since]
