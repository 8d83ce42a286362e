"""The board app (confprov.watch.app) through Starlette's TestClient, over i11's real engine
fed with synthetic collector reports (tests/watch_synthetic.py, EngineFeed).

Why synthetic reports: these tests need given states at will (a site silent for 30 s, 5 % loss)
and no lab; the engine turns them into states by its own rules, as it does in `watch serve`.
The engine on real agents and a real collector is tested on the lab (tests/lab/test_watch*.py).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import markupsafe
import pytest
from starlette.testclient import TestClient
from watch_synthetic import EngineFeed

from confprov.watch.app import Board, sites_document, spark
from confprov.watch.auth import TOKEN_ENV, is_loopback, read_token, require_token
from confprov.watch.model import SiteState
from confprov.watch.restore import Outcome, Restorer

TOKEN = "s3cret-token-of-the-board-1234"


@pytest.fixture
def feed(small_workspace: Path) -> Iterator[EngineFeed]:
    feed = EngineFeed(small_workspace)
    feed.tick()  # every site replying: up
    yield feed
    feed.close()


def client(
    feed: EngineFeed, token: str | None = None, restorer: Restorer | None = None
) -> TestClient:
    board = Board(feed.engine, province="Phú Thọ", restorer=restorer, clock=feed.clock)
    return TestClient(board.app(token))


def sites(feed: EngineFeed) -> list[str]:
    return [v.site for v in feed.engine.snapshot()]


def measurable(feed: EngineFeed) -> int:
    """The sites the counter counts: all but the registry's Windows one (``unmeasured``)."""
    return sum(info.measurable for info in feed.engine.sites.values())


def test_api_sites_is_the_snapshot_serialised(feed: EngineFeed) -> None:
    site = sites(feed)[2]
    feed.set(site, age_s=30.0)  # silent for 30 s
    feed.tick()
    doc = client(feed).get("/api/sites").json()
    assert doc == json.loads(json.dumps(sites_document(feed.engine.snapshot(), False)))
    assert doc["total"] == len(sites(feed)) and doc["measurable"] == measurable(feed)
    assert doc["up"] == doc["measurable"] - 1
    assert doc["counts"]["down"] == 1
    down = next(s for s in doc["sites"] if s["site"] == site)
    assert down["state"] == "down" and "30 s" in down["reason"]
    assert {"site", "name", "level", "district", "state", "since", "rtt_ms", "jitter_ms",
            "loss_ratio", "last_reply_age_s"} <= set(down)  # fmt: skip


def test_page_shows_counter_states_and_contacts_escaped(feed: EngineFeed) -> None:
    first, second = sites(feed)[0], sites(feed)[2]
    feed.set(second, age_s=30.0)
    feed.tick()
    feed.engine.add_note(second, "Hà", "<script>alert(1)</script>")
    page = client(feed).get("/").text
    total = measurable(feed)
    assert f"{total - 1}/{total} đang kết nối · 1 chưa đo trên Windows" in page
    assert f'class="site st-down" id="site-{second}"' in page
    assert f'class="site st-up" id="site-{first}"' in page
    assert "<script>alert(1)</script>" not in page  # escaped, in the tile and in the boot JSON
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="tel:0900000001"' in page and "Nguyễn Văn An" in page
    assert "mất tín hiệu" in page and "<svg" in page
    assert not re.search(r"<(script|link)[^>]+src=|https?://", page), "no external file or CDN"


def test_page_in_english(feed: EngineFeed) -> None:
    page = client(feed).get("/?lang=en").text
    assert f"{measurable(feed)}/{measurable(feed)} connected" in page
    assert 'lang="en"' in page and "Problems only" in page and "Tiếng Việt" in page


def test_ack_note_maint_reach_the_watch_and_need_a_name(feed: EngineFeed) -> None:
    c = client(feed)
    site = sites(feed)[1]
    feed.set(site, loss_ratio=0.05)
    feed.tick()
    r = c.post(f"/api/sites/{site}/ack", json={"who": "Hà"})
    assert r.status_code == 200
    view = next(v for v in feed.engine.snapshot() if v.site == site)
    assert (view.state, view.ack_by) == (SiteState.ACK, "Hà")
    assert (
        c.post(f"/api/sites/{site}/note", json={"who": "Hà", "text": "gọi anh Bình"}).status_code
        == 200
    )
    assert [e.kind for e in feed.engine.events() if e.kind != "state"] == ["ack", "note"]
    assert c.post(f"/api/sites/{site}/ack", json={}).status_code == 422  # who is empty
    assert c.post("/api/sites/nowhere/ack", json={"who": "Hà"}).status_code == 404
    # A form post (what another site's page could make a browser send) is refused.
    r = c.post(f"/api/sites/{site}/ack", data={"who": "x"})
    assert r.status_code == 415


def test_restore_one_at_a_time_audited(feed: EngineFeed, small_workspace: Path) -> None:
    release = threading.Event()
    calls: list[str] = []

    def slow_router(workspace: Path, site: str) -> Outcome:
        calls.append(site)
        release.wait(30)
        return Outcome(True, "push: 1 routers: 1 changed")

    done = threading.Event()
    restorer = Restorer(
        small_workspace,
        feed.engine.record_action,
        runners={"verify": slow_router, "router": slow_router, "client": slow_router},
        on_done=lambda *_: done.set(),
    )
    c = client(feed, restorer=restorer)
    site = sites(feed)[1]
    first = c.post(f"/api/sites/{site}/restore", json={"who": "Hà", "action": "router"})
    assert first.status_code == 202
    second = c.post(f"/api/sites/{site}/restore", json={"who": "Minh", "action": "verify"})
    assert second.status_code == 409
    assert "router is already running (started by Hà" in second.json()["error"]
    release.set()
    assert done.wait(30)
    assert calls == [site]
    texts = [(e.site, e.who, e.text) for e in feed.engine.events() if e.kind == "action"]
    assert texts == [
        (site, "Hà", "router: started"),
        (site, "Hà", "router: ok: push: 1 routers: 1 changed"),
    ]
    unknown = c.post(f"/api/sites/{site}/restore", json={"who": "Hà", "action": "reboot"})
    assert unknown.status_code == 422


def test_token_refuses_every_route_without_it(feed: EngineFeed) -> None:
    c = client(feed, token=TOKEN)
    site = sites(feed)[0]
    for method, path in [("GET", "/"), ("GET", "/events"), ("GET", "/api/sites"),
                         ("GET", "/metrics"), ("GET", "/api/events"),
                         ("POST", f"/api/sites/{site}/ack")]:  # fmt: skip
        r = c.request(method, path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"].startswith("Basic")
        assert (
            c.request(
                method, path, headers={"authorization": "Bearer wrong-token-xxxxxxxx"}
            ).status_code
            == 401
        )
    assert c.get("/api/sites", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    basic = base64.b64encode(f"Hà:{TOKEN}".encode()).decode()
    r = c.post(f"/api/sites/{site}/ack", json={}, headers={"authorization": f"Basic {basic}"})
    assert r.status_code == 200 and r.json()["who"] == "Hà"  # the login name is the audit's who
    assert TOKEN not in c.get("/", headers={"authorization": f"Bearer {TOKEN}"}).text


def test_token_sources_and_bind_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert is_loopback("127.0.0.1") and is_loopback("127.0.0.2") and is_loopback("::1")
    assert not is_loopback("198.18.0.1") and not is_loopback("0.0.0.0")
    assert require_token(tmp_path, "127.0.0.1") is None
    with pytest.raises(Exception, match="needs a token"):
        require_token(tmp_path, "198.18.0.1")
    path = tmp_path / ".watch-token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        read_token(tmp_path)
    path.chmod(0o600)
    assert require_token(tmp_path, "198.18.0.1") == TOKEN
    monkeypatch.setenv(TOKEN_ENV, "short")
    with pytest.raises(Exception, match="shorter than 16"):
        read_token(tmp_path)


def test_event_stream_sends_all_then_only_changes(feed: EngineFeed) -> None:
    board = Board(feed.engine, clock=feed.clock)

    class FakeRequest:  # the one thing of a request the stream reads besides its language
        query_params: dict[str, str] = {}  # noqa: RUF012

        async def is_disconnected(self) -> bool:
            return False

    async def frames(count: int) -> list[tuple[str, object]]:
        out = []
        gen = board._frames(FakeRequest())  # type: ignore[arg-type]
        async for frame in gen:
            kind = re.search(r"event: (\w+)", frame).group(1)  # type: ignore[union-attr]
            data = json.loads(frame.split("data: ", 1)[1])
            out.append((kind, data))
            if kind == "summary":
                if count == 1:
                    break
                count -= 1
                if count == 1:
                    feed.set(sites(feed)[3], loss_ratio=0.05)
                    feed.tick()
        await gen.aclose()
        return out

    import asyncio

    got = asyncio.run(frames(2))
    frames = [d for k, d in got if k == "sites"]
    assert len(frames[0]) == len(sites(feed))  # first frame: every site
    assert [s["state"] for s in frames[1]] == ["degraded"]  # then: only what changed
    assert all("last_reply_age_s" not in s for s in frames[0])  # the page ages it itself
    summaries = [d for k, d in got if k == "summary"]
    assert summaries[-1]["counts"]["degraded"] == 1


def test_spark_buckets_mark_silence() -> None:
    now = 1000.0
    points = [(now - 290, 10.0, 0.0), (now - 288, 20.0, 0.0), (now - 100, None, 1.0)]
    series = spark(points, now)
    assert series[2] == 15.0  # 5-s bucket averaging
    assert series[40] is None  # probes sent, no reply
    assert series[0] == ""  # no data at all


def test_escaping_of_every_value_in_page(feed: EngineFeed) -> None:
    site = sites(feed)[0]
    evil = '"><img src=x onerror=alert(1)>'
    feed.set(site, age_s=30.0)
    feed.tick()
    feed.engine.ack(site, evil)
    feed.engine.add_note(site, evil, evil)
    page = client(feed).get("/").text
    assert "<img src=x" not in page
    assert str(markupsafe.escape(evil)) in page


def test_metrics_route_serves_the_engine_metrics_in_prometheus_format(feed: EngineFeed) -> None:
    from prometheus_client import CONTENT_TYPE_LATEST
    from prometheus_client.parser import text_string_to_metric_families

    feed.set(sites(feed)[0], age_s=30.0)
    feed.tick()
    r = client(feed, token=TOKEN).get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.headers["content-type"] == CONTENT_TYPE_LATEST
    families = {f.name: f for f in text_string_to_metric_families(r.text)}  # Prometheus' parser
    per_state = {s.labels["state"]: s.value for s in families["confprov_watch_sites"].samples}
    assert per_state["down"] == 1 and per_state["up"] == measurable(feed) - 1
    assert per_state["unmeasured"] == len(sites(feed)) - measurable(feed)
