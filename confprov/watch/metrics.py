"""``GET /metrics``: the watch's snapshot in Prometheus' exposition format (``prometheus_client``).

A custom collector reads the engine's snapshot at scrape time, so a scrape costs one snapshot
and no metric object is kept per site. Names follow Prometheus conventions: base units
(``_seconds``, ``_ratio``), ``_timestamp_seconds`` for "last seen", one gauge per measure with a
``site`` label, the state as a labelled gauge (1 for the current state, 0 for the others) and
an ``_info`` metric with the site's name, district and level for alert texts. The alert rules
in ``confprov/watch/prometheus/alerts.yml`` are written against these names and tested with
``promtool test rules``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from confprov.watch.model import SiteState, Watch

PREFIX = "confprov_watch"
CONTENT_TYPE = CONTENT_TYPE_LATEST


class SnapshotCollector(Collector):
    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def collect(self) -> Iterator[GaugeMetricFamily]:
        views = self.watch.snapshot()
        site = ["site"]
        info = GaugeMetricFamily(
            f"{PREFIX}_site_info",
            "A watched site (always 1)",
            labels=["site", "name", "district", "level"],
        )
        state = GaugeMetricFamily(
            f"{PREFIX}_site_state",
            "1 for the site's current state, 0 for the others",
            labels=["site", "state"],
        )
        last = GaugeMetricFamily(
            f"{PREFIX}_site_last_reply_timestamp_seconds",
            "When the collector last received a probe from the site (Unix time)",
            labels=site,
        )
        rtt = GaugeMetricFamily(
            f"{PREFIX}_site_round_trip_seconds",
            "Mean probe round trip over the window",
            labels=site,
        )
        jitter = GaugeMetricFamily(
            f"{PREFIX}_site_jitter_seconds",
            "RFC 3550 interarrival jitter of the probes",
            labels=site,
        )
        loss = GaugeMetricFamily(
            f"{PREFIX}_site_loss_ratio", "Probe loss over the window (0-1)", labels=site
        )
        flags = {
            "client_running": GaugeMetricFamily(
                f"{PREFIX}_site_client_running",
                "1 when the conference client process runs",
                labels=site,
            ),
            "sip_ok": GaugeMetricFamily(
                f"{PREFIX}_site_sip_ok", "1 when the last SIP OPTIONS was answered", labels=site
            ),
            "router_reachable": GaugeMetricFamily(
                f"{PREFIX}_site_router_reachable",
                "1 when the site router answers on the management network",
                labels=site,
            ),
        }
        counts = dict.fromkeys(SiteState, 0)
        for view in views:
            counts[view.state] += 1
            info.add_metric([view.site, view.name, view.district, view.level], 1)
            for each in SiteState:
                state.add_metric([view.site, each.value], 1 if view.state is each else 0)
            if view.last_reply_at is not None:
                last.add_metric([view.site], view.last_reply_at)
            if view.rtt_ms is not None:
                rtt.add_metric([view.site], view.rtt_ms / 1000)
            if view.jitter_ms is not None:
                jitter.add_metric([view.site], view.jitter_ms / 1000)
            if view.loss_ratio is not None:
                loss.add_metric([view.site], view.loss_ratio)
            for name, family in flags.items():
                value = getattr(view, name)
                if value is not None:
                    family.add_metric([view.site], 1 if value else 0)
        sites = GaugeMetricFamily(f"{PREFIX}_sites", "Sites per state", labels=["state"])
        for each, count in counts.items():
            sites.add_metric([each.value], count)
        stale = GaugeMetricFamily(
            f"{PREFIX}_stale", "1 when no fresh collector data arrives (the board is blind)"
        )
        stale.add_metric([], 1 if self.watch.stale else 0)
        conference = GaugeMetricFamily(
            f"{PREFIX}_conference_side_down",
            "1 while the conference side is out (collector unreadable, or no probe from any site)",
        )
        lines = GaugeMetricFamily(
            f"{PREFIX}_shared_line_down",
            "1 while a district's (or group's) shared line is out: its sites went silent together",
            labels=["uplink"],
        )
        for uplink, why in sorted(self.watch.outages().items()):
            if uplink:
                lines.add_metric([uplink], 1 if why else 0)
            else:
                conference.add_metric([], 1 if why else 0)
        yield from (info, state, last, rtt, jitter, loss, *flags.values(), sites, stale)
        yield from (conference, lines)


def render(watch: Watch) -> bytes:
    """The exposition text of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(watch))
    return generate_latest(registry)
