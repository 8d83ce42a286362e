"""The watch engine: reads the collector, runs every site's state machine, keeps the event log.

It implements :class:`confprov.watch.model.Watch` for the board, the API and the CLI. The loop
(``run``) reads the collector's JSON every ``watch.poll_s`` over the management network and
checks every site router's management reachability every ``watch.router_interval_s`` (a TCP
connect, bounded concurrency). ``tick`` is the whole decision for one reading and takes the
time as an argument, so tests drive it with recorded collector reports and their own clock.

The conference side out (collector unreachable for longer than the gap, or no probe from any
site) puts every site in ``upstream`` and opens ONE province-wide incident: children are not
paged one by one, and their own state changes into and out of ``upstream`` are not logged.
A district's shared line out does the same for its sites (confprov/watch/lines.py), with one
incident for the line. Besides every ``poll_s``, the loop reads the collector the moment a
site's gap runs out, so a cut is judged then and not up to a poll later.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from confprov.config import Config
from confprov.registry import Registry, Site
from confprov.watch import states
from confprov.watch.lines import UPLINK_PREFIX, Lines
from confprov.watch.model import Event, HistoryPoint, SiteState, SiteView
from confprov.watch.states import PROBLEMS, Reading, Rules, Track
from confprov.watch.store import PROVINCE, Store

HISTORY_S = 300.0  # the sparkline: 5 minutes
HISTORY_STEP_S = 2.0  # one point per 2 s: 150 points per site
SILENCE_SLACK_S = 0.02  # read just after a gap runs out, so the silence is past it
QUERY_PATH = "/v1/sites"


@dataclass(frozen=True)
class SiteInfo:
    """What the engine knows of a site from the registry."""

    slug: str
    name: str
    level: str
    district: str
    contact_name: str
    contact_phone: str
    hosts: tuple[str, ...]  # endpoint inventory host names: the agents' ids
    router: str  # management address, "" when the site has no router
    # False when every endpoint runs Windows: no watch agent there (playbooks/watch.yml deploys
    # it to ``endpoints:!os_windows``), so no probe: the site is ``unmeasured``, not ``down``.
    measurable: bool = True
    # The district (or two-tier group) whose line the site shares, and its display name.
    uplink: str = ""
    uplink_name: str = ""

    @classmethod
    def of(cls, site: Site, grouping_names: dict[str, str] | None = None) -> SiteInfo:
        return cls(
            slug=site.slug,
            name=site.name,
            level=site.level,
            district=site.district,
            contact_name=site.contact_name,
            contact_phone=site.contact_phone,
            hosts=site.endpoint_hosts,
            router=site.router,
            measurable=site.endpoint_os != "windows",
            uplink=site.grouping,
            uplink_name=(grouping_names or {}).get(site.grouping, site.grouping),
        )


def event_names(registry: Registry) -> dict[str, str]:
    """Display names of the event log's sites: every site, and every shared line (its
    district's or group's name) under its ``uplink:`` key."""
    names = {s.slug: s.name for s in registry.sites}
    names.update((UPLINK_PREFIX + k, v) for k, v in registry.grouping_names().items())
    return names


def sites_of(registry: Registry) -> list[SiteInfo]:
    """The watched sites of a registry (those with an endpoint)."""
    names = registry.grouping_names()
    return [SiteInfo.of(s, names) for s in registry.sites if s.endpoints]


def collector_address(config: Config) -> tuple[str, int]:
    """Where the controller reads the collector: the conference host's management address."""
    host = config.conference.management_address or config.conference.server
    return host, config.watch.query_port


async def fetch_report(address: tuple[str, int], timeout: float = 2.0) -> dict[str, Any]:
    """``GET /v1/sites`` from the collector; raises OSError or ValueError when it fails."""

    async def get() -> bytes:
        reader, writer = await asyncio.open_connection(*address)
        try:
            writer.write(f"GET {QUERY_PATH} HTTP/1.0\r\nHost: {address[0]}\r\n\r\n".encode())
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()

    try:
        raw = await asyncio.wait_for(get(), timeout)
    except TimeoutError:
        raise OSError(f"no answer within {timeout:g} s") from None
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise ValueError(f"answered {head[:40]!r}")
    data = json.loads(body)
    if not isinstance(data, dict) or "sites" not in data:
        raise ValueError("not a collector report")
    return data


async def tcp_reachable(address: str, port: int, timeout: float) -> bool:
    try:
        _r, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class Engine:
    """The live state of every site; see the module docstring."""

    def __init__(
        self,
        config: Config,
        sites: Iterable[SiteInfo],
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.rules, self.store, self.clock = (
            config,
            Rules.from_config(config),
            store,
            clock,
        )
        self.sites = {s.slug: s for s in sites}
        self.by_host = {h: s.slug for s in self.sites.values() for h in s.hosts}
        now = clock()
        self.started = now
        self.tracks = {slug: Track(since=now, underlying_since=now) for slug in self.sites}
        self.readings = {slug: Reading() for slug in self.sites}
        self.routers: dict[str, bool] = {}
        self._history: dict[str, collections.deque[HistoryPoint]] = {
            slug: collections.deque() for slug in self.sites
        }
        self._history_at: dict[str, float] = {}
        self.upstream = ""  # why the conference side is out; "" when fine
        members: dict[str, list[str]] = {}
        if config.watch.shared_uplink:
            for info in self.sites.values():
                if info.uplink and info.measurable:
                    members.setdefault(info.uplink, []).append(info.slug)
        names = {i.uplink: i.uplink_name for i in self.sites.values()}
        self.lines = Lines.of(self.rules, members, names)
        self._by_line: set[str] = set()  # sites shown upstream because their line is out
        self.upstream_since = 0.0
        self.last_ok = 0.0  # when the collector last answered
        self.last_error = ""
        self.watching_since = now
        self._collector_started: float | None = None
        self._version = 0
        self._snapshot: tuple[int, list[SiteView]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._changed: asyncio.Event | None = None
        self._lock = threading.RLock()
        for slug, mark in store.marks().items():
            if slug in self.tracks:
                track = self.tracks[slug]
                track.ack_by, track.maint, track.maint_by = mark.ack_by, mark.maint, mark.maint_by
        self.notes = {slug: m.note for slug, m in store.marks().items()}
        self._resume(store)

    # -- the Watch surface --------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self._version

    @property
    def stale(self) -> bool:
        """No fresh collector data for longer than the outage gap (or never any)."""
        return self.clock() - self.last_ok > max(self.rules.gap_s, 2 * self.config.watch.poll_s)

    def snapshot(self) -> list[SiteView]:
        """Every site as of the last change (ages as of then: at most one poll old).

        Built once per version: the board's clients, /api/sites and /metrics share it.
        """
        with self._lock:
            if self._snapshot is None or self._snapshot[0] != self._version:
                now = self.clock()
                views = [self._view(info, now) for info in self.sites.values()]
                self._snapshot = (self._version, views)
            return list(self._snapshot[1])

    def _view(self, info: SiteInfo, now: float) -> SiteView:
        track, reading = self.tracks[info.slug], self.readings[info.slug]
        last = reading.last_reply_at
        return SiteView(
            site=info.slug,
            name=info.name,
            level=info.level,
            district=info.district,
            state=track.shown,
            since=track.since,
            last_reply_age_s=None if last is None else round(max(0.0, now - last), 3),
            rtt_ms=reading.rtt_ms,
            jitter_ms=reading.jitter_ms,
            loss_ratio=reading.loss_ratio,
            client_running=reading.client_running,
            sip_ok=reading.sip_ok,
            router_reachable=reading.router_reachable,
            reason=track.reason,
            contact_name=info.contact_name,
            contact_phone=info.contact_phone,
            ack_by=track.ack_by,
            note=self.notes.get(info.slug, ""),
            underlying=track.underlying,
            last_reply_at=last,
        )

    def history(self, site: str) -> list[HistoryPoint]:
        with self._lock:
            return list(self._history.get(site, ()))

    async def wait_changed(self, after_version: int) -> int:
        while self._version <= after_version:
            if self._changed is None:
                self._changed = asyncio.Event()
            await self._changed.wait()
        return self._version

    def _bump(self) -> None:
        self._version += 1
        event, self._changed = self._changed, None
        if event is None:
            return
        loop = self._loop
        if loop is not None and threading.get_ident() != self._loop_thread:
            loop.call_soon_threadsafe(event.set)  # a restore thread's record_action
        else:
            event.set()

    def _require(self, site: str) -> Track:
        if site not in self.tracks:
            raise KeyError(f"unknown site {site!r}")
        return self.tracks[site]

    def ack(self, site: str, who: str, note: str = "") -> None:
        now = self.clock()
        with self._lock:
            track = self._require(site)
            states.set_mark(track, now, ack_by=who)
            self.store.set_mark(site, ack_by=who)
            self.store.add_event(now, site, "ack", to_state=track.shown.value, who=who, text=note)
            self.store.ack_incident(site, who, now)
            if note:
                self._note(site, who, note, now)
        self._bump()

    def set_maint(self, site: str, on: bool, who: str) -> None:
        now = self.clock()
        with self._lock:
            track = self._require(site)
            states.set_mark(track, now, maint=on, who=who)
            self.store.set_mark(site, maint=on, maint_by=who if on else "")
            self.store.add_event(now, site, "maint", to_state="on" if on else "off", who=who)
        self._bump()

    def add_note(self, site: str, who: str, text: str) -> None:
        with self._lock:
            self._require(site)
            self._note(site, who, text, self.clock())
        self._bump()

    def _note(self, site: str, who: str, text: str, now: float) -> None:
        self.notes[site] = text
        self.store.set_mark(site, note=text)
        self.store.add_event(now, site, "note", who=who, text=text)

    def record_action(self, site: str, action: str, who: str, result: str) -> None:
        with self._lock:
            self._require(site)
            self.store.add_event(self.clock(), site, "action", who=who, text=f"{action}: {result}")
        self._bump()

    def events(self, since: float | None = None) -> list[Event]:
        return self.store.events(since)

    # -- one reading --------------------------------------------------------------------------
    def tick(self, report: dict[str, Any] | None, now: float, error: str = "") -> None:
        """Apply one collector report (None: the read failed with ``error``) at time ``now``."""
        with self._lock, self.store.batch():
            if report is not None:
                self.last_ok, self.last_error = now, ""
                self._take(report, now)
            else:
                self.last_error = error
            upstream = self._upstream(now)
            self._set_upstream(upstream, now)
            if report is not None and not upstream:  # on fresh reports only; frozen meanwhile
                self._judge_lines(now)
            if report is not None or upstream:
                for slug in self.sites:
                    self._assess(slug, now)
        self._bump()

    def _take(self, report: dict[str, Any], now: float) -> None:
        collector = report.get("collector") or {}
        started = now - float(collector.get("uptime_s", 0.0))
        if self._collector_started is None or abs(started - self._collector_started) > 2.0:
            self._collector_started = started  # a restarted collector: give it a gap to hear all
            self.watching_since = max(self.started, started)
        best: dict[str, dict[str, Any]] = {}
        for host, data in (report.get("sites") or {}).items():
            slug = self.by_host.get(host)
            if slug is None or not isinstance(data, dict):
                continue
            if slug not in best or data.get("age_s", 1e9) < best[slug].get("age_s", 1e9):
                best[slug] = data  # several endpoints: the freshest speaks for the site
        for slug, data in best.items():
            reading = Reading(
                last_reply_at=now - float(data["age_s"]),
                rtt_ms=data.get("rtt_ms"),
                jitter_ms=data.get("jitter_ms"),
                loss_ratio=data.get("loss_ratio"),
                client_running=data.get("client_running"),
                sip_ok=data.get("sip_ok"),
                router_reachable=self.routers.get(slug),
            )
            self.readings[slug] = reading
            self._remember(slug, reading, now)

    def _remember(self, slug: str, reading: Reading, now: float) -> None:
        if now - self._history_at.get(slug, -1e9) < HISTORY_STEP_S:
            return
        self._history_at[slug] = now
        points = self._history[slug]
        fresh = (
            reading.last_reply_at is not None and now - reading.last_reply_at <= self.rules.gap_s
        )
        points.append(
            (now, reading.rtt_ms if fresh else None, reading.loss_ratio if fresh else 1.0)
        )
        while points and points[0][0] < now - HISTORY_S:
            points.popleft()

    def _upstream(self, now: float) -> str:
        lang = self.rules.lang
        if now - max(self.last_ok, self.started) > self.rules.gap_s:
            detail = self.last_error or "no answer"
            return states.text("collector", lang, detail=detail)
        if self.last_error:  # the last read failed: nothing new is known until the rule above
            return self.upstream
        heard = [r.last_reply_at for r in self.readings.values() if r.last_reply_at is not None]
        if len(heard) >= 2 and all(now - t > self.rules.gap_s for t in heard):
            return states.text("silent", lang)
        return ""

    def _set_upstream(self, why: str, now: float) -> None:
        if bool(why) == bool(self.upstream):
            self.upstream = why or self.upstream
            return
        if why:
            self.upstream_since = now
            started = max((r.last_reply_at or 0.0 for r in self.readings.values()), default=now)
            self.store.add_event(
                now, PROVINCE, "state", from_state="up", to_state="upstream", text=why
            )
            self.store.open_incident(PROVINCE, "upstream", min(started or now, now), now, why)
        else:
            self.store.add_event(now, PROVINCE, "state", from_state="upstream", to_state="up")
            self.store.close_incident(PROVINCE, now)
        self.upstream = why

    def _resume(self, store: Store) -> None:
        """Outages above the sites still open in the store (the engine restarted during one):
        carried on, so the first fresh reading closes them or keeps them, never leaves them."""
        for key, incident in store.open_incidents().items():
            if key == PROVINCE:
                self.upstream, self.upstream_since = incident.cause, incident.detected_at
            elif key.startswith(UPLINK_PREFIX) and key[len(UPLINK_PREFIX) :] in self.lines.lines:
                line = self.lines.lines[key[len(UPLINK_PREFIX) :]]
                line.why, line.started = incident.cause, incident.started_at

    def _silence(self, slug: str, now: float) -> float:
        """How long the site has sent nothing (since watching began when never heard)."""
        return now - (self.readings[slug].last_reply_at or self.watching_since)

    def _line_candidate(self, slug: str) -> bool:
        """Whether the site's line may speak for it: measured, not in maintenance, not already
        down on its own (its own incident and acknowledgement stay its own)."""
        track = self.tracks[slug]
        return (
            self.sites[slug].measurable
            and not track.maint
            and track.underlying is not SiteState.DOWN
        )

    def _judge_lines(self, now: float) -> None:
        """One event and one incident per shared line that goes out or is over (lines.py)."""
        opened, closed = self.lines.judge(
            now,
            silence=lambda m: self._silence(m, now),
            heard=lambda m: self.readings[m].last_reply_at is not None,
            candidate=self._line_candidate,
        )
        for line in opened:
            self.store.add_event(
                now, line.key, "state", from_state="up", to_state="upstream", text=line.why
            )
            self.store.open_incident(line.key, "upstream", min(line.started, now), now, line.why)
        for line in closed:
            self.store.add_event(now, line.key, "state", from_state="upstream", to_state="up")
            self.store.close_incident(line.key, now)

    def outages(self) -> dict[str, str]:
        """What could fail above the sites, and why it is out ("" while fine): the conference
        side (key ``""``) and every shared line (its district's or group's slug)."""
        with self._lock:
            return {"": self.upstream, **self.lines.out()}

    def _assess(self, slug: str, now: float) -> None:
        reading = self.readings[slug]
        if slug in self.routers and reading.router_reachable != self.routers[slug]:
            reading = self.readings[slug] = replace(reading, router_reachable=self.routers[slug])
        info = self.sites[slug]
        line = ""  # the reason of its shared line, when that is what it shows
        if info.measurable:
            if not self.upstream and self._line_candidate(slug):
                line = self.lines.covers(info.uplink, self._silence(slug, now), now)
            raw, why = states.assess(
                reading,
                self.rules,
                now,
                upstream=self.upstream or line,
                watching_since=self.watching_since,
            )
        else:
            raw, why = states.assess_unmeasured(reading, self.rules)
            if raw is SiteState.DOWN and not self.upstream:  # router lost: its line's?
                line = self.lines.covers(info.uplink, float("inf"), now)
                raw, why = (SiteState.UPSTREAM, line) if line else (raw, why)
        track = self.tracks[slug]
        acked = track.ack_by
        change = states.advance(track, raw, why, now, self.rules)
        if change is None:
            return
        before, after = change.before, change.after
        # The conference side out is one event for the province, not one per site; a line out
        # is one for the line and one per site (a handful), so its sites' uptime counts it.
        by_line = slug in self._by_line
        if after is SiteState.UPSTREAM and line:
            self._by_line.add(slug)
        elif before is SiteState.UPSTREAM:
            self._by_line.discard(slug)
        if (
            SiteState.UPSTREAM not in (before, after)
            or after in PROBLEMS
            or (after is SiteState.UPSTREAM and line)
            or (before is SiteState.UPSTREAM and by_line)
        ):
            self.store.add_event(
                now, slug, "state", from_state=before.value, to_state=after.value, text=change.why
            )
        if after in PROBLEMS and not track.maint:
            started = reading.last_reply_at if after is SiteState.DOWN else None
            self.store.open_incident(slug, after.value, started or now, now, change.why)
        elif after in states.GOOD:
            self.store.close_incident(slug, now)
        if acked and not track.ack_by:  # the problem is over, and with it the ack
            self.store.set_mark(slug, ack_by="")

    # -- the loop -----------------------------------------------------------------------------
    async def check_routers(self) -> None:
        """Every router's management port, at most ``router_parallel`` at once."""
        watch = self.config.watch
        limit = asyncio.Semaphore(watch.router_parallel)
        timeout = min(2.0, watch.router_interval_s)

        async def one(info: SiteInfo) -> tuple[str, bool]:
            async with limit:
                return info.slug, await tcp_reachable(info.router, watch.router_port, timeout)

        results = await asyncio.gather(*(one(i) for i in self.sites.values() if i.router))
        with self._lock:
            self.routers.update(results)

    async def poll_once(self) -> None:
        """One reading of the collector and the routers, judged at once (``watch status``).

        Without history there is no hysteresis and no gap to wait: a site never heard from is
        down now, marks (ack, maintenance) come from the store as for a running engine.
        """
        self.watching_since = self.started - self.rules.gap_s - 1
        address = collector_address(self.config)
        await self.check_routers()
        try:
            report: dict[str, Any] | None = await fetch_report(address)
            error = ""
        except (OSError, ValueError) as exc:
            report, error = None, f"{address[0]}:{address[1]}: {exc}"
            self.started = self.clock() - self.rules.gap_s - 1  # no second chance: upstream
        self.tick(report, self.clock(), error)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Poll the collector and the routers until ``stop``."""
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        stop = stop or asyncio.Event()
        address = collector_address(self.config)
        routers = asyncio.ensure_future(self._router_loop(stop))
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    report: dict[str, Any] | None = await fetch_report(address)
                    error = ""
                except (OSError, ValueError) as exc:
                    report, error = None, f"{address[0]}:{address[1]}: {exc}"
                now = self.clock()
                self.tick(report, now, error)
                wait = self.next_wait(now, time.monotonic() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
        finally:
            routers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await routers

    def next_wait(self, now: float, elapsed: float) -> float:
        """Seconds until the next reading: the regular poll, or sooner where a gap runs out."""
        wait = self.config.watch.poll_s - elapsed
        deadline = self.next_silence(now)
        if deadline is not None:
            wait = min(wait, deadline - now + SILENCE_SLACK_S)
        return max(0.0, wait)

    def next_silence(self, now: float) -> float | None:
        """The soonest moment a site heard within the gap will have been silent for the gap.

        The loop reads the collector then instead of at its next regular poll: a cut is judged
        ``down`` when the gap runs out, not up to ``poll_s`` later. A site that keeps sending
        moves its moment on at every reading, so only a silent one costs an extra read.
        """
        gap = self.rules.gap_s
        with self._lock:
            ends = [
                r.last_reply_at + gap
                for r in self.readings.values()
                if r.last_reply_at is not None and r.last_reply_at + gap > now
            ]
        return min(ends, default=None)

    async def _router_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.check_routers()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.watch.router_interval_s)


def open_engine(workspace: Path, *, clock: Callable[[], float] = time.time) -> Engine:
    """The engine of a workspace: its confprov.yml, registry and ``watch.sqlite``."""
    from confprov.workspace import load

    loaded = load(workspace)
    return Engine(loaded.config, sites_of(loaded.registry), Store.open(workspace), clock=clock)
