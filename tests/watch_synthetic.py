"""i11's watch engine fed synthetic collector reports, for the board's tests and its bench.

Why synthetic reports: the board's tests check what the page, the API and the stream show for a
given state (colours, counters, diffs, a change pushed within a deadline, the stale banner),
which needs sites silent or lossy at will, also 298 of them on a 2-core machine shared with other
sessions. The engine makes the states from them by its own rules. The engine on real agents and
a real collector is tested on the lab (tests/lab/test_watch.py, tests/lab/test_watch_restore.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


class Clock:
    """A clock a test moves by hand (starting at the real time, so the page's times read well)."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


class EngineFeed:
    """i11's real engine (confprov.watch.engine) over a workspace's registry, fed collector
    reports made here as the collector sends them (per endpoint host: age of the last reply and
    the window's measures), on a clock the test moves. The state rules are the engine's own."""

    def __init__(self, workspace: Path) -> None:
        from confprov.watch.engine import open_engine

        self.clock = Clock()
        self.engine = open_engine(workspace, clock=self.clock)
        self.measures: dict[str, dict[str, Any]] = {
            slug: {
                "age_s": 0.1,
                "rtt_ms": 12.0,
                "jitter_ms": 1.0,
                "loss_ratio": 0.0,
                "client_running": True,
                "sip_ok": True,
            }
            for slug in self.engine.sites
        }

    def set(self, site: str, **measures: Any) -> None:
        self.measures[site].update(measures)

    def tick(self, seconds: float = 0.5) -> None:
        """One collector reading, ``seconds`` after the last."""
        self.clock.t += seconds
        sites = {
            host: dict(self.measures[slug])
            for slug, info in self.engine.sites.items()
            if info.measurable  # Windows endpoints have no agent: the collector never hears them
            for host in info.hosts
        }
        report = {"collector": {"uptime_s": 3600.0}, "sites": sites}
        self.engine.tick(report, self.clock.t)

    def close(self) -> None:
        self.engine.store.close()
