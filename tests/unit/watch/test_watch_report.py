"""`confprov watch report`'s arithmetic (confprov.watch.report) over a hand-made session."""

from __future__ import annotations

import json
from dataclasses import dataclass

import markupsafe

from confprov.watch.model import Event
from confprov.watch.report import summarise


@dataclass(frozen=True)
class Incident:  # the fields the report reads of confprov.watch.store.Incident
    site: str
    state: str
    started_at: float
    detected_at: float
    cause: str
    acked_by: str = ""
    acked_at: float | None = None
    restored_at: float | None = None


def state(t: float, site: str, frm: str, to: str) -> Event:
    return Event(id=int(t), t=t, site=site, kind="state", from_state=frm, to_state=to)


def test_uptime_leaves_maintenance_out_and_incidents_time_detect_and_restore() -> None:
    events = [
        state(0, "a", "unknown", "up"),
        state(0, "b", "unknown", "up"),
        state(600, "a", "up", "down"),  # a: 10 min up, 1 min down, 9 min up
        state(660, "a", "down", "up"),
        state(300, "b", "up", "maint"),  # b: 5 min up, 10 min maintenance, 5 min up
        state(900, "b", "maint", "up"),
    ]
    incidents = [
        Incident("a", "down", 597.5, 600.0, "no probe for 3 s", "Hà", 610.0, 660.0),
        Incident("", "upstream", 1000.0, 1003.0, "conference side"),
    ]
    report = summarise(events, incidents, {"a": "UBND xã A", "b": "UBND xã <B>"}, end=1200.0)
    doc = report.to_json()
    by_site = {s["site"]: s for s in doc["sites"]}
    assert by_site["a"]["uptime_ratio"] == round(1140 / 1200, 5)
    assert by_site["b"]["uptime_ratio"] == 1.0 and by_site["b"]["observed_s"] == 600.0
    assert by_site["a"]["incidents"] == 1
    first = doc["incidents"][0]
    assert (first["time_to_detect_s"], first["time_to_ack_s"], first["time_to_restore_s"]) == (
        2.5,
        10.0,
        60.0,
    )
    assert doc["incidents"][1]["time_to_restore_s"] is None  # still open
    assert doc["median_time_to_detect_s"] == 2.75
    text = report.text()
    assert "95.00% up  1 incident(s)  UBND xã A (a)" in text
    assert "acknowledged by Hà" in text
    page = report.html()
    assert "UBND xã <B>" not in page and str(markupsafe.escape("UBND xã <B>")) in page
    json.dumps(doc)  # plain JSON
