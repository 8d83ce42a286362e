"""A site whose endpoints all run Windows on the watch: ``unmeasured``, not ``down``.

The watch agent is Python and deployed on Linux endpoints only (playbooks/watch.yml:
``endpoints:!os_windows``), so no probe ever comes from such a site. i11's real engine is fed
synthetic collector reports (tests/watch_synthetic.py) in which, as on a real session, the
collector never hears the Windows site; the router check's result is set by hand, as
``check_routers`` would store it (no traffic to the registry's addresses: no lab here).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from watch_synthetic import EngineFeed

from confprov.verify.labels import LABELS
from confprov.watch.app import Board, sites_document
from confprov.watch.metrics import render
from confprov.watch.model import SiteState, SiteView
from confprov.watch.report import summarise
from confprov.watch.status import exit_code

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
WINDOWS_NAME = "Sở Khoa học và Công nghệ"  # endpoint_os windows in tests/unit/data/sites.csv


@pytest.fixture
def feed(small_workspace: Path) -> Iterator[EngineFeed]:
    feed = EngineFeed(small_workspace)  # the test registry has one Windows site
    feed.tick()
    yield feed
    feed.close()


def windows_slug(feed: EngineFeed) -> str:
    return next(s for s, info in feed.engine.sites.items() if not info.measurable)


def view(feed: EngineFeed, slug: str) -> SiteView:
    return next(v for v in feed.engine.snapshot() if v.site == slug)


def metric_states(feed: EngineFeed, slug: str) -> dict[str, float]:
    text = render(feed.engine).decode()
    return {
        s.labels["state"]: s.value
        for family in text_string_to_metric_families(text)
        if family.name == "confprov_watch_site_state"
        for s in family.samples
        if s.labels["site"] == slug
    }


def test_labels_are_verify_wording() -> None:
    assert SiteState.UNMEASURED.label("vi") == LABELS["vi"]["unmeasured"] == "chưa đo trên Windows"
    assert SiteState.UNMEASURED.label("en") == LABELS["en"]["unmeasured"]
    assert not SiteState.UNMEASURED.is_problem


def test_windows_site_is_unmeasured_not_down_and_status_exits_0(feed: EngineFeed) -> None:
    slug = windows_slug(feed)
    feed.tick(30.0)  # long past the outage gap: a Linux site silent this long would be down
    win = view(feed, slug)
    assert win.state is SiteState.UNMEASURED and "Windows" in win.reason
    doc = sites_document(feed.engine.snapshot(), feed.engine.stale)
    total = doc["total"]
    assert (doc["unmeasured"], doc["measurable"], doc["up"]) == (1, total - 1, total - 1)
    assert doc["counts"]["down"] == 0
    assert exit_code(doc) == 0
    assert feed.engine.store.incidents() == [], "an unmeasured site opens no incident"
    states = metric_states(feed, slug)
    assert states["unmeasured"] == 1 and states["down"] == 0 and states["up"] == 0


def test_a_linux_site_down_still_makes_status_exit_1(feed: EngineFeed) -> None:
    linux = next(s for s, info in feed.engine.sites.items() if info.measurable)
    feed.set(linux, age_s=30.0)
    feed.tick()
    assert exit_code(sites_document(feed.engine.snapshot(), feed.engine.stale)) == 1


def test_windows_site_with_router_unreachable_is_down_then_back(feed: EngineFeed) -> None:
    slug = windows_slug(feed)
    feed.engine.routers[slug] = False  # what check_routers stores when the TCP connect fails
    feed.tick()
    win = view(feed, slug)
    assert win.state is SiteState.DOWN and "router" in win.reason
    doc = sites_document(feed.engine.snapshot(), feed.engine.stale)
    assert doc["unmeasured"] == 0 and exit_code(doc) == 1
    assert metric_states(feed, slug)["down"] == 1
    assert [i.site for i in feed.engine.store.incidents()] == [slug]
    feed.engine.routers[slug] = True
    feed.tick()
    assert view(feed, slug).state is SiteState.DOWN  # the clean window applies as for Linux
    feed.tick(feed.engine.rules.clean_s + 1)
    feed.tick()
    assert view(feed, slug).state is SiteState.UNMEASURED
    assert all(i.restored_at is not None for i in feed.engine.store.incidents())


def test_windows_site_is_not_upstream_when_the_collector_is_out(feed: EngineFeed) -> None:
    slug = windows_slug(feed)
    feed.engine.tick(None, feed.clock.t + 30.0, "198.18.0.1:9101: refused")
    assert view(feed, slug).state is SiteState.UNMEASURED


def test_report_counts_unmeasured_time_neither_as_up_nor_as_outage(feed: EngineFeed) -> None:
    slug = windows_slug(feed)
    feed.tick(60.0)
    engine = feed.engine
    names = {s: i.name for s, i in engine.sites.items()}
    report = summarise(engine.events(), engine.store.incidents(), names, end=feed.clock.t)
    win = next(s for s in report.to_json()["sites"] if s["site"] == slug)
    assert win["uptime_ratio"] is None and win["incidents"] == 0 and win["unmeasured_s"] >= 60
    assert f"not measured on Windows (60 s): {WINDOWS_NAME} ({slug})" in report.text()
    assert report.incidents == []


@pytest.mark.parametrize(
    ("lang", "counter"),
    [("vi", "{n}/{n} đang kết nối · 1 chưa đo trên Windows"),
     ("en", "{n}/{n} connected · 1 not measured on Windows")],
)  # fmt: skip
def test_board_shows_the_state_and_counts_it_apart(
    feed: EngineFeed, lang: str, counter: str
) -> None:
    slug = windows_slug(feed)
    board = Board(feed.engine, province="Phú Thọ", clock=feed.clock)
    page = TestClient(board.app(None)).get(f"/?lang={lang}").text
    n = len(feed.engine.sites) - 1
    assert counter.format(n=n) in page
    assert f'class="site st-unmeasured" id="site-{slug}"' in page
    assert SiteState.UNMEASURED.label(lang) in page
    assert 'class="bad"' not in page.split('id="counter"')[0][-40:]


@pytest.mark.ansible
def test_deploy_play_puts_the_agent_on_exactly_the_measurable_sites(small_workspace: Path) -> None:
    """Ansible itself resolves the agent play's host pattern over the rendered inventory: the
    Windows site's endpoints are left out, and they are exactly the sites the engine calls
    unmeasured (one rule, two readers: the OS column)."""
    from confprov.watch.engine import open_engine
    from confprov.workspace import render_workspace_inventory

    plays = yaml.safe_load((REPO / "playbooks" / "watch.yml").read_text(encoding="utf-8"))
    pattern = next(p["hosts"] for p in plays if "watch_agent" in str(p["roles"]))
    render_workspace_inventory(small_workspace)
    out = subprocess.run(
        [str(BIN / "ansible"), pattern, "-i", str(small_workspace / "inventory"), "--list-hosts"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    listed = {line.strip() for line in out.splitlines()[1:] if line.strip()}
    engine = open_engine(small_workspace)
    try:
        agents = {h for i in engine.sites.values() if i.measurable for h in i.hosts}
        windows = {h for i in engine.sites.values() if not i.measurable for h in i.hosts}
    finally:
        engine.store.close()
    assert windows and listed == agents and not listed & windows


def test_notifications_none_for_unmeasured_one_pair_for_a_lost_router(feed: EngineFeed) -> None:
    """The messages `watch serve` would send (confprov.watch.notify.message over the engine's
    event log): nothing for a Windows site being unmeasured, "lost" and "back" for its router."""
    from confprov.watch.notify import message

    slug = windows_slug(feed)
    names = {s: i.name for s, i in feed.engine.sites.items()}
    out: set[str] = set()

    def sent() -> list[str]:
        found = (message(e, names, "en", out) for e in feed.engine.events() if e.site == slug)
        return [m[0] for m in found if m]

    feed.tick(30.0)
    assert sent() == []
    feed.engine.routers[slug] = False
    feed.tick()
    feed.engine.routers[slug] = True
    feed.tick()
    feed.tick(feed.engine.rules.clean_s + 1)
    feed.tick()
    out.clear()
    assert sent() == [
        f"confprov: {WINDOWS_NAME}: signal lost",
        f"confprov: {WINDOWS_NAME}: not measured on Windows",
    ]
