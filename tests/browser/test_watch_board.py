"""The watch board in real headless Chromium, served by a real uvicorn on a loopback address.

Behind it, i11's real engine fed with synthetic collector reports (tests/watch_synthetic.py,
EngineFeed): these tests decide what each site's probes say (silent, 5 % loss), the engine turns
that into states by its own rules, and the tests check what a technician sees within a deadline
(the DOM polled, never a sleep). The board on the lab's real agents and collector is tested in
tests/lab/test_watch_restore.py.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from watch_synthetic import EngineFeed

from confprov.config import Watch
from confprov.watch.app import Board

VISIBLE = (
    "[...document.querySelectorAll('.site')]"  # the sites a technician can see
    ".filter(e => !e.hidden).map(e => e.dataset.site)"
)
TOKEN = "browser-test-token-0123456789"


@contextmanager
def served(board: Board, token: str | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        board.app(token),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)  # polling the server's own flag, with a deadline
    try:
        yield f"http://{host}:{port}/"
    finally:
        board.closing = True  # what `watch serve` does at exit: streams end on their next tick
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def feed(small_workspace: Path) -> Iterator[EngineFeed]:
    feed = EngineFeed(small_workspace)
    feed.tick()  # every site replying: up
    yield feed
    feed.close()


def board_of(feed: EngineFeed) -> Board:
    return Board(feed.engine, clock=feed.clock)


def open_with_header(browser, url: str, headers: dict[str, str]) -> None:
    """browser.open, with a header on every request of the page (its event stream too)."""
    target = browser.send("Target.createTarget", session=False, url="about:blank")["targetId"]
    browser.session = browser.send(
        "Target.attachToTarget", session=False, targetId=target, flatten=True
    )["sessionId"]
    browser.send("Network.enable")
    browser.send("Network.setExtraHTTPHeaders", headers=headers)
    browser.send("Page.enable")
    browser.send("Page.navigate", url=url)


def tile_class(browser, site: str) -> str:
    return browser.js(f"document.getElementById('site-{site}').className")


def test_board_counter_colours_and_a_pushed_change(browser, feed: EngineFeed) -> None:
    sites = [v.site for v in feed.engine.snapshot()]
    windows = [v.site for v in feed.engine.snapshot() if not feed.engine.sites[v.site].measurable]
    total = len(sites) - len(windows)  # the registry's Windows site is counted apart
    feed.set(sites[1], loss_ratio=0.05)
    feed.tick()
    with served(board_of(feed)) as url:
        browser.open(url)
        browser.wait_for("document.body.dataset.ready === '1'")
        assert browser.js("document.getElementById('counter').textContent") == (
            f"{total - 1}/{total} đang kết nối · 1 chưa đo trên Windows"
        )
        assert tile_class(browser, windows[0]) == "site st-unmeasured"
        assert tile_class(browser, sites[1]) == "site st-degraded"
        color = browser.js(
            f"getComputedStyle(document.getElementById('site-{sites[1]}')).borderLeftColor"
        )
        assert color == "rgb(201, 138, 0)"
        assert (
            browser.js(
                f"document.getElementById('site-{sites[1]}').querySelector('.loss').textContent"
            )
            == "5.0%"
        )
        # A site lost: the stream pushes it, the page shows it without a reload.
        feed.set(sites[2], age_s=4.0)  # no reply for 4 s: more than the gap
        feed.tick()
        browser.wait_for(f"document.getElementById('site-{sites[2]}').className === 'site st-down'")
        browser.wait_for(
            "document.getElementById('counter').textContent === "
            + json.dumps(f"{total - 2}/{total} đang kết nối · 1 chưa đo trên Windows")
        )
        assert (
            browser.js(
                f"document.getElementById('site-{sites[2]}').querySelector('.why').textContent"
            )
            == f"không nhận được gói đo trong 4 s (ngưỡng {Watch().gap_s:g} s)"
        )  # the engine's reason, escaped
        # Problems only: the two red/amber sites stay, every other tile is hidden.
        browser.js("document.getElementById('problems').click()")
        visible = VISIBLE
        assert sorted(browser.js(visible)) == sorted([sites[1], sites[2]])
        browser.js("document.getElementById('problems').click()")
        # The filter folds Vietnamese: "yen tap" finds "UBND xã Yên Tập".
        browser.type_text("#filter", "yen tap")
        browser.wait_for(f"{visible}.length === 1")
        assert "Yên Tập" in browser.js(
            "document.querySelector('.site:not([hidden]) .nm').textContent"
        )


def test_stale_banner_on_engine_stale_and_on_silence(browser, feed: EngineFeed) -> None:
    board = board_of(feed)
    with served(board) as url:
        browser.open(url)
        browser.wait_for("document.body.dataset.ready === '1'")
        assert browser.js("document.getElementById('stale').hidden") is True
        feed.clock.t += 10  # ten seconds without a collector reading: the engine is stale
        feed.engine.tick(None, feed.clock.t, "collector: connection refused")
        browser.wait_for("document.getElementById('stale').hidden === false")
        feed.tick()
        browser.wait_for("document.getElementById('stale').hidden === true")
    # The server is gone: no frame arrives any more, and the page's own timer says so.
    browser.wait_for("document.getElementById('stale').hidden === false", timeout=15)


def test_language_switch_and_acknowledge(browser, feed: EngineFeed) -> None:
    site = feed.engine.snapshot()[0].site
    feed.set(site, age_s=30.0)
    feed.tick()
    with served(board_of(feed)) as url:
        browser.open(url)
        browser.wait_for("document.body.dataset.ready === '1'")
        browser.js("document.getElementById('lang').click()")
        browser.wait_for(
            "!!document.body && document.documentElement.lang === 'en'"
            " && document.body.dataset.ready === '1'"
        )
        assert "connected" in browser.js("document.getElementById('counter').textContent")
        assert (
            browser.js(f"document.getElementById('site-{site}').querySelector('.st').textContent")
            == "signal lost"
        )
        browser.type_text("#who", "Hà")
        browser.js(
            f"document.getElementById('site-{site}').querySelector('button[data-act=ack]').click()"
        )
        browser.wait_for(f"document.getElementById('site-{site}').className === 'site st-ack'")
        assert (
            browser.js(
                f"document.getElementById('site-{site}').querySelector('.who-ack').textContent"
            )
            == "✔ Hà"
        )
    assert [(e.kind, e.who) for e in feed.engine.events()][-1] == ("ack", "Hà")


def test_token_refused_beyond_loopback_and_page_works_with_it(browser, feed: EngineFeed) -> None:
    # 127.0.0.2 stands for "an address other than 127.0.0.1" (the token rule is the same for a
    # lab address; a test must not listen outside loopback or the lab).
    with served(board_of(feed), TOKEN, host="127.0.0.2") as url:
        for path in ("", "events", "api/sites", "metrics"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(url + path, timeout=10)
            assert err.value.code == 401
        basic = base64.b64encode(f"ops:{TOKEN}".encode()).decode()
        open_with_header(browser, url, {"Authorization": f"Basic {basic}"})
        # The navigation may not have a body yet when the first poll runs.
        browser.wait_for("!!document.body && document.body.dataset.ready === '1'")
        total = sum(info.measurable for info in feed.engine.sites.values())
        feed.set(feed.engine.snapshot()[1].site, age_s=30.0)
        feed.tick()
        browser.wait_for(
            "document.getElementById('counter').textContent.startsWith("
            + json.dumps(f"{total - 1}/{total}")
            + ")"
        )
