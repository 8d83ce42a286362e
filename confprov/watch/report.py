"""`confprov watch report`: a session summarised from the watch's event store.

Per site: the share of the session it was up (time in ``maint`` and ``unmeasured``, a site with
Windows endpoints only, counts neither way; the latter is listed apart), its
incidents with time to detect (fault to ``down`` on the board), to acknowledge and to restore.
State time comes from the ``state`` events (each says from and to); incidents from the store's
own incident rows, which the engine opens at detection and closes at the clean window's end.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import jinja2

from confprov.watch.lines import UPLINK_PREFIX
from confprov.watch.model import Event


class IncidentLike(Protocol):
    """What the report reads of an incident (confprov.watch.store.Incident)."""

    @property
    def site(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def started_at(self) -> float: ...
    @property
    def detected_at(self) -> float: ...
    @property
    def cause(self) -> str: ...
    @property
    def acked_by(self) -> str: ...
    @property
    def acked_at(self) -> float | None: ...
    @property
    def restored_at(self) -> float | None: ...


@dataclass
class SiteSummary:
    site: str
    name: str
    up_s: float = 0.0
    counted_s: float = 0.0  # observed time, maintenance left out
    incidents: int = 0
    unmeasured_s: float = 0.0  # not measured on Windows: neither up nor an outage

    @property
    def uptime(self) -> float | None:
        return self.up_s / self.counted_s if self.counted_s > 0 else None


@dataclass
class SessionReport:
    start: float
    end: float
    sites: list[SiteSummary]
    incidents: list[dict[str, Any]] = field(default_factory=list)

    def _median(self, key: str) -> float | None:
        values = [i[key] for i in self.incidents if i[key] is not None]
        return round(statistics.median(values), 2) if values else None

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "duration_s": round(self.end - self.start, 1),
            "sites": [
                {
                    "site": s.site,
                    "name": s.name,
                    "uptime_ratio": None if s.uptime is None else round(s.uptime, 5),
                    "observed_s": round(s.counted_s, 1),
                    "unmeasured_s": round(s.unmeasured_s, 1),
                    "incidents": s.incidents,
                }
                for s in self.sites
            ],
            "incidents": self.incidents,
            "median_time_to_detect_s": self._median("time_to_detect_s"),
            "median_time_to_restore_s": self._median("time_to_restore_s"),
        }

    def text(self) -> str:
        hhmm = "%Y-%m-%d %H:%M:%S"
        lines = [
            f"session {time.strftime(hhmm, time.localtime(self.start))} → "
            f"{time.strftime(hhmm, time.localtime(self.end))}: {len(self.sites)} sites, "
            f"{len(self.incidents)} incident(s)"
        ]
        doc = self.to_json()
        if self.incidents:
            lines.append(
                f"median time to detect {doc['median_time_to_detect_s']} s, "
                f"to restore {doc['median_time_to_restore_s']} s"
            )
        worst = sorted((s for s in self.sites if s.uptime is not None), key=lambda s: s.uptime or 0)
        lines.extend(
            f"  {s.uptime * 100:6.2f}% up  {s.incidents} incident(s)  {s.name} ({s.site})"
            for s in worst
            if s.uptime is not None and s.uptime < 1
        )
        lines.extend(
            f"  not measured on Windows ({s.unmeasured_s:.0f} s): {s.name} ({s.site})"
            for s in self.sites
            if s.unmeasured_s > 0
        )
        for i in self.incidents:
            restored = "open" if i["time_to_restore_s"] is None else f"{i['time_to_restore_s']} s"
            lines.append(
                f"  incident {i['site'] or '(conference side)'}: {i['state']}, detected "
                f"{i['time_to_detect_s']} s after the fault, restored {restored}"
                + (f", acknowledged by {i['acked_by']}" if i["acked_by"] else "")
                + f": {i['cause']}"
            )
        return "\n".join(lines)

    def html(self) -> str:
        return _HTML.render(doc=self.to_json(), text=self.text())


def summarise(
    events: Sequence[Event],
    incidents: Sequence[IncidentLike],
    names: dict[str, str],
    *,
    end: float | None = None,
) -> SessionReport:
    """Uptime per site from the state events; incidents as the store keeps them."""
    # Per site; the conference side's ("") and shared lines' events are incidents only.
    states = [
        e for e in events if e.kind == "state" and e.site and not e.site.startswith(UPLINK_PREFIX)
    ]
    start = min([e.t for e in events] + [i.detected_at for i in incidents], default=time.time())
    end = end if end is not None else time.time()
    per: dict[str, SiteSummary] = {
        s: SiteSummary(s, n) for s, n in names.items() if not s.startswith(UPLINK_PREFIX)
    }
    current: dict[str, tuple[str, float]] = {}
    for e in sorted(states, key=lambda e: e.t):
        summary = per.setdefault(e.site, SiteSummary(e.site, e.site))
        if e.site in current:
            _add(summary, *current[e.site], e.t)
        current[e.site] = (e.to_state, e.t)
    for site, (state, since) in current.items():
        _add(per[site], state, since, end)
    rows = []
    for i in sorted(incidents, key=lambda i: i.detected_at):
        if i.site in per:
            per[i.site].incidents += 1
        rows.append(
            {
                "site": i.site,
                "name": names.get(i.site, i.site),
                "state": i.state,
                "cause": i.cause,
                "started_at": i.started_at,
                "detected_at": i.detected_at,
                "time_to_detect_s": round(i.detected_at - i.started_at, 1),
                "acked_by": i.acked_by,
                "time_to_ack_s": None
                if i.acked_at is None
                else round(i.acked_at - i.detected_at, 1),
                "time_to_restore_s": None
                if i.restored_at is None
                else round(i.restored_at - i.detected_at, 1),
            }
        )
    return SessionReport(start, end, list(per.values()), rows)


def _add(summary: SiteSummary, state: str, since: float, until: float) -> None:
    span = max(0.0, until - since)
    if state == "unmeasured":  # Windows endpoints: no probe, so neither up nor an outage
        summary.unmeasured_s += span
        return
    if state in ("maint", "unknown"):
        return
    summary.counted_s += span
    if state == "up":
        summary.up_s += span


_HTML = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html><html><head><meta charset="utf-8"><title>confprov watch report</title>
<style>body{font:14px system-ui,sans-serif;margin:16px}td,th{padding:2px 8px;text-align:left}
tr.bad td{color:#c62828}</style></head><body>
<h1>Phiên hội nghị / Session</h1><pre>{{ text }}</pre>
<h2>Sự cố / Incidents</h2><table><tr><th>site</th><th>state</th><th>detect s</th>
<th>ack</th><th>restore s</th><th>cause</th></tr>
{% for i in doc.incidents %}<tr><td>{{ i.name }}</td><td>{{ i.state }}</td>
<td>{{ i.time_to_detect_s }}</td><td>{{ i.acked_by }}</td><td>{{ i.time_to_restore_s }}</td>
<td>{{ i.cause }}</td></tr>{% endfor %}</table>
<h2>Thời gian kết nối / Uptime</h2><table><tr><th>site</th><th>uptime</th><th>incidents</th></tr>
{% for s in doc.sites %}
<tr class="{{ 'bad' if s.uptime_ratio is not none and s.uptime_ratio < 1 }}">
<td>{{ s.name }}</td><td>{{ '%.2f%%' % (s.uptime_ratio * 100) if s.uptime_ratio is not none }}</td>
<td>{{ s.incidents }}</td></tr>{% endfor %}</table>
<script type="application/json" id="report">{{ doc|tojson }}</script></body></html>
"""
)


def json_text(report: SessionReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)
