"""A shared line out (every site of one district silent together) is one `upstream` incident for
the line, not one page per site; a single site cut on that line is still `down` on its own."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from confprov.watch import metrics
from confprov.watch.engine import Engine, SiteInfo
from confprov.watch.store import Store

from .test_engine import CONFIG, Clock, report

GAP = CONFIG.watch.gap_s
LINE = ("a", "b", "c")  # the communes of district cam-khe share its line
SITES = [
    SiteInfo(
        slug=slug,
        name=f"Site {slug}",
        level="commune",
        district=district,
        contact_name="An",
        contact_phone="0900",
        hosts=(slug,),
        router="",
        uplink=district,
        uplink_name=district_name,
    )
    for slug, district, district_name in [
        *((s, "cam-khe", "Cẩm Khê") for s in LINE),
        ("d", "doan-hung", "Đoan Hùng"),  # alone on its line: never grouped
    ]
]


@pytest.fixture
def engine(tmp_path):
    def make(config=CONFIG) -> tuple[Engine, Clock]:
        clock = Clock()
        store = Store(tmp_path / f"watch-{len(stores)}.sqlite")
        stores.append(store)
        return Engine(config, SITES, store, clock=clock), clock

    stores: list[Store] = []
    yield make
    for store in stores:
        store.close()


def play(e: Engine, clock: Clock, seconds: float, silent: set[str], ages: dict[str, float]) -> None:
    """0.1 s steps: sites in ``silent`` age, the others keep replying."""
    end = clock.t + seconds
    while clock.t < end - 1e-9:
        clock.t += 0.1
        for slug, age in ages.items():
            ages[slug] = age + 0.1 if slug in silent else 0.1
        e.tick(report(ages), clock.t)


def states(e: Engine) -> dict[str, str]:
    return {v.site: v.state.value for v in e.snapshot()}


def test_a_line_out_is_one_upstream_incident_and_the_sites_are_not_paged(engine) -> None:
    e, clock = engine()
    ages = dict.fromkeys("abcd", 0.1)
    play(e, clock, 1, set(), ages)
    # The line cut: its three sites stop within one probe (0.2 s) of each other.
    ages["b"] += 0.1
    ages["c"] += 0.2
    play(e, clock, GAP + 1, set(LINE), ages)
    assert states(e) == {"a": "upstream", "b": "upstream", "c": "upstream", "d": "up"}
    view = next(v for v in e.snapshot() if v.site == "a")
    assert "Cẩm Khê's shared line is out" in view.reason and "all 3" in view.reason
    assert [(i.site, i.state) for i in e.store.incidents()] == [("uplink:cam-khe", "upstream")]
    site_events = [ev.to_state for ev in e.events() if ev.kind == "state" and ev.site in LINE]
    assert "down" not in site_events  # nobody paged one by one, not even the first
    assert e.outages() == {"": "", "cam-khe": view.reason}
    scrape = {
        tuple(sorted(s.labels.items())): s.value
        for f in text_string_to_metric_families(metrics.render(e).decode())
        if f.name == "confprov_watch_upstream_down"
        for s in f.samples
    }
    assert scrape == {(("uplink", "cam-khe"),): 1, (("uplink", "conference"),): 0}
    # The line back: the sites return after the clean window, the incident is closed.
    play(e, clock, CONFIG.watch.clean_s + 1, set(), ages)
    assert set(states(e).values()) == {"up"}
    [incident] = e.store.incidents()
    assert incident.restored_at is not None
    assert e.outages() == {"": "", "cam-khe": ""}


def test_one_site_cut_on_a_shared_line_is_down_on_its_own(engine) -> None:
    e, clock = engine()
    ages = dict.fromkeys("abcd", 0.1)
    play(e, clock, 1, set(), ages)
    play(e, clock, GAP + 1, {"b"}, ages)
    assert states(e) == {"a": "up", "b": "down", "c": "up", "d": "up"}
    assert [(i.site, i.state) for i in e.store.incidents()] == [("b", "down")]


def test_a_lone_site_on_its_line_is_down_not_upstream(engine) -> None:
    e, clock = engine()
    ages = dict.fromkeys("abcd", 0.1)
    play(e, clock, 1, set(), ages)
    play(e, clock, GAP + 1, {"d"}, ages)
    assert states(e)["d"] == "down"


def test_shared_uplink_off_pages_every_site(engine) -> None:
    config = replace(CONFIG, watch=replace(CONFIG.watch, shared_uplink=False))
    e, clock = engine(config)
    ages = dict.fromkeys("abcd", 0.1)
    play(e, clock, 1, set(), ages)
    play(e, clock, GAP + 1, set(LINE), ages)
    assert states(e) == {"a": "down", "b": "down", "c": "down", "d": "up"}
    assert sorted(i.site for i in e.store.incidents()) == ["a", "b", "c"]
    assert e.outages() == {"": ""}


def test_a_district_never_heard_is_down_per_site_not_a_line_out(engine) -> None:
    """No agent ever reported (not deployed): each site says so, no line is blamed."""
    e, clock = engine()
    ages = {"d": 0.1}
    play(e, clock, GAP + 1, set(), ages)
    assert states(e) == {"a": "down", "b": "down", "c": "down", "d": "up"}
    assert "not deployed" in next(v for v in e.snapshot() if v.site == "a").reason
    assert not any(i.site.startswith("uplink:") for i in e.store.incidents())


def test_a_line_coming_back_site_by_site_pages_nobody_and_closes_once(engine) -> None:
    """Sites of a line return a moment apart: none is paged in between; one still silent a gap
    after the first came back is down on its own."""
    e, clock = engine()
    ages = dict.fromkeys("abcd", 0.1)
    play(e, clock, 1, set(), ages)
    play(e, clock, GAP + 1, set(LINE), ages)
    assert {states(e)[s] for s in LINE} == {"upstream"}
    play(e, clock, 1.0, {"b", "c"}, ages)  # a back; b and c a second later
    assert states(e)["b"] == "upstream" and states(e)["c"] == "upstream"
    play(e, clock, CONFIG.watch.clean_s + 1, set(), ages)
    assert set(states(e).values()) == {"up"}
    assert [(i.site, i.restored_at is not None) for i in e.store.incidents()] == [
        ("uplink:cam-khe", True)
    ]
    # Out again; a and b come back, c does not: after one gap c is down, paged on its own.
    play(e, clock, GAP + 1, set(LINE), ages)
    play(e, clock, GAP + 1, {"c"}, ages)
    assert states(e)["c"] == "down"
    assert [(i.site, i.state) for i in e.store.incidents() if i.restored_at is None] == [
        ("c", "down")
    ]
