"""A shared line out (every site of one district silent together) is one `upstream` incident for
the line, one message, not one page per site; a site cut on its own on that line is still `down`
on its own, and a line comes back, flaps, restarts and meets maintenance without false pages."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from confprov.watch import metrics, notify, report
from confprov.watch.engine import Engine, SiteInfo
from confprov.watch.store import Store

from .test_engine import CONFIG, Clock
from .test_engine import report as collector_report

GAP, CLEAN = CONFIG.watch.gap_s, CONFIG.watch.clean_s
LINE = ("a", "b", "c")  # the district site and communes of Cẩm Khê share its line


def site(slug: str, district: str, name: str, measurable: bool = True) -> SiteInfo:
    return SiteInfo(
        slug=slug,
        name=f"Site {slug}",
        level="commune",
        district=district,
        contact_name="An",
        contact_phone="0900",
        hosts=(slug,),
        router=f"198.18.9.{ord(slug)}",
        measurable=measurable,
        uplink=district,
        uplink_name=name,
    )


SITES = [
    *(site(s, "cam-khe", "Cẩm Khê") for s in LINE),
    site("d", "doan-hung", "Đoan Hùng"),  # alone on its line: never grouped
]
NAMES = {s.slug: s.name for s in SITES} | {"uplink:cam-khe": "Cẩm Khê"}


class World:
    """An engine fed 0.1-s readings: every site replies unless listed silent."""

    def __init__(self, path, config=CONFIG, sites=SITES) -> None:
        self.path, self.config, self.sites = path, config, sites
        self.clock = Clock()
        self.store = Store(path)
        self.engine = Engine(config, sites, self.store, clock=self.clock)
        self.ages = {s.slug: 0.1 for s in sites if s.measurable}

    def play(self, seconds: float, silent: set[str] = frozenset()) -> None:
        end = self.clock.t + seconds
        while self.clock.t < end - 1e-9:
            self.clock.t += 0.1
            for slug, age in self.ages.items():
                self.ages[slug] = age + 0.1 if slug in silent else 0.1
            self.engine.tick(collector_report(self.ages), self.clock.t)

    def restart(self) -> None:
        self.store.close()
        self.store = Store(self.path)
        self.engine = Engine(self.config, self.sites, self.store, clock=self.clock)

    def states(self) -> dict[str, str]:
        return {v.site: v.state.value for v in self.engine.snapshot()}

    def incidents(self) -> list[tuple[str, str, bool]]:
        return [(i.site, i.state, i.restored_at is None) for i in self.store.incidents()]

    def messages(self) -> list[str]:
        out: set[str] = set()
        sent = [notify.message(e, NAMES, "en", out) for e in self.engine.events()]
        return [title for title, _ in filter(None, sent)]


@pytest.fixture
def world(tmp_path):
    worlds: list[World] = []

    def make(**kwargs) -> World:
        w = World(tmp_path / f"watch-{len(worlds)}.sqlite", **kwargs)
        worlds.append(w)
        w.play(1)
        return w

    yield make
    for w in worlds:
        w.store.close()


def test_a_line_out_is_one_incident_one_message_and_no_site_paged(world) -> None:
    w = world()
    w.ages["b"] += 0.1  # cut together: within a probe of each other
    w.ages["c"] += 0.2
    w.play(GAP + 1, set(LINE))
    assert w.states() == {"a": "upstream", "b": "upstream", "c": "upstream", "d": "up"}
    reason = next(v for v in w.engine.snapshot() if v.site == "a").reason
    assert "Cẩm Khê's shared line is out" in reason and "all 3" in reason
    assert w.incidents() == [("uplink:cam-khe", "upstream", True)]
    assert w.messages() == ["confprov: Cẩm Khê: shared line: signal lost"]
    assert w.engine.outages() == {"": "", "cam-khe": reason}
    scrape = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(metrics.render(w.engine).decode())
        for s in f.samples
        if s.name.endswith(("_conference_side_down", "_shared_line_down"))
    }
    assert scrape == {
        ("confprov_watch_shared_line_down", (("uplink", "cam-khe"),)): 1,
        ("confprov_watch_conference_side_down", ()): 0,
    }
    # Back: the line's incident closes after a clean window, like a site's, with one message.
    w.play(CLEAN / 2)
    assert w.incidents() == [("uplink:cam-khe", "upstream", True)]
    w.play(CLEAN / 2 + 1)
    assert set(w.states().values()) == {"up"}
    assert w.incidents() == [("uplink:cam-khe", "upstream", False)]
    assert w.messages()[-1] == "confprov: Cẩm Khê: shared line: connected"
    # The report: no row per line, the sites' time behind the line not counted up.
    summary = report.summarise(w.engine.events(), w.store.incidents(), NAMES)
    rows = {s.site: s for s in summary.sites}
    assert set(rows) == {"a", "b", "c", "d"}
    assert rows["a"].uptime is not None and rows["a"].uptime < 1 and rows["d"].uptime == 1


def test_a_site_still_silent_after_its_line_came_back_is_paged_on_its_own(world) -> None:
    w = world()
    w.play(GAP + 1, set(LINE))
    w.play(GAP + 1, {"c"})  # a and b back; c not, one gap later
    assert w.states()["c"] == "down"
    w.play(CLEAN + 1, {"c"})
    assert w.incidents() == [("uplink:cam-khe", "upstream", False), ("c", "down", True)]
    assert "confprov: Site c: signal lost" in w.messages()
    summary = report.summarise(w.engine.events(), w.store.incidents(), NAMES)
    assert next(s for s in summary.sites if s.site == "c").uptime < 0.5


def test_one_site_down_then_another_briefly_quiet_is_no_line_and_keeps_the_ack(world) -> None:
    w = world()
    w.play(GAP + 1, {"a"})
    w.engine.ack("a", "Hà")
    w.play(20, {"a"})
    w.play(1.3, {"a", "b", "c"})  # b and c quiet for 1.3 s: not a line
    w.play(3, {"a"})
    assert w.states() == {"a": "ack", "b": "up", "c": "up", "d": "up"}
    assert [i[0] for i in w.incidents()] == ["a"]


def test_sites_cut_more_than_half_a_gap_apart_are_paged_one_by_one(world) -> None:
    w = world()
    w.play(GAP / 2 + 0.5, {"a"})
    w.play(GAP / 2 + 0.5, {"a", "b"})
    w.play(GAP + 1, set(LINE))
    assert sorted(i[0] for i in w.incidents()) == ["a", "b", "c"]


def test_two_sites_of_a_line_cut_together_while_a_third_still_talks_are_no_line(world) -> None:
    w = world()
    w.play(GAP + 1, {"b", "c"})
    assert w.states() == {"a": "up", "b": "down", "c": "down", "d": "up"}
    assert sorted(i[0] for i in w.incidents()) == ["b", "c"]


def test_a_flapping_line_is_one_incident(world) -> None:
    w = world()
    for _ in range(8):
        w.play(GAP + 1, set(LINE))
        w.play(1.5)
    assert w.incidents() == [("uplink:cam-khe", "upstream", True)]
    assert len(w.messages()) == 1


def test_a_restart_during_a_line_outage_carries_it_and_closes_it(world) -> None:
    w = world()
    w.play(GAP + 1, set(LINE))
    w.restart()
    w.play(CLEAN + 1)
    assert w.incidents() == [("uplink:cam-khe", "upstream", False)]
    w.play(GAP + 1, set(LINE))  # out again: a new incident, not the old one reopened
    assert w.incidents() == [
        ("uplink:cam-khe", "upstream", False),
        ("uplink:cam-khe", "upstream", True),
    ]


def test_the_conference_side_out_during_a_line_outage_leaves_the_line_open(world) -> None:
    w = world()
    w.play(GAP + 1, set(LINE))
    for _ in range(40):  # the collector unreadable for 4 s
        w.clock.t += 0.1
        w.engine.tick(None, w.clock.t, "198.18.1.1:50002: connection refused")
    w.play(1, set(LINE))
    opened = [i for i in w.incidents() if i[0] == "uplink:cam-khe"]
    assert opened == [("uplink:cam-khe", "upstream", True)]
    assert not any("shared line: connected" in m for m in w.messages())


def test_a_district_in_maintenance_is_no_line_outage(world) -> None:
    w = world()
    for s in LINE:
        w.engine.set_maint(s, True, "Hà")
    w.play(GAP + 1, set(LINE))
    assert {w.states()[s] for s in LINE} == {"maint"}
    assert w.incidents() == [] and w.engine.outages()["cam-khe"] == ""


def test_a_windows_site_on_a_line_that_is_out_is_behind_it_not_paged(world) -> None:
    sites = [*SITES, site("w", "cam-khe", "Cẩm Khê", measurable=False)]
    w = world(sites=sites)
    w.play(GAP + 1, set(LINE))
    w.engine.routers["w"] = False  # the next router check: its router lost with the line
    w.play(1, set(LINE))
    assert w.states()["w"] == "upstream"
    assert [i[0] for i in w.incidents()] == ["uplink:cam-khe"]


def test_a_district_never_heard_is_down_per_site_not_a_line_out(tmp_path) -> None:
    """No agent of the district ever reported (not deployed): each site says so."""
    fresh = World(tmp_path / "never.sqlite")
    for s in LINE:
        fresh.ages.pop(s)
    fresh.play(GAP + 1)
    assert fresh.states() == {"a": "down", "b": "down", "c": "down", "d": "up"}
    assert "not deployed" in next(v for v in fresh.engine.snapshot() if v.site == "a").reason
    assert not any(i[0].startswith("uplink:") for i in fresh.incidents())
    fresh.store.close()


def test_shared_uplink_off_pages_every_site(world) -> None:
    w = world(config=replace(CONFIG, watch=replace(CONFIG.watch, shared_uplink=False)))
    w.play(GAP + 1, set(LINE))
    assert w.states() == {"a": "down", "b": "down", "c": "down", "d": "up"}
    assert sorted(i[0] for i in w.incidents()) == ["a", "b", "c"]
    assert w.engine.outages() == {"": ""}
