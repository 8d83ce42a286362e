"""The board app (confprov.watch.app) through Starlette's TestClient, over a synthetic Watch.

Synthetic (tests/watch_synthetic.py) because these tests set exact states and need them at will;
the engine's detection is tested on the lab by its own tests.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path

import markupsafe
import pytest
from starlette.testclient import TestClient
from watch_synthetic import SyntheticWatch

from confprov.watch.app import Board, sites_document, spark
from confprov.watch.auth import TOKEN_ENV, is_loopback, read_token, require_token
from confprov.watch.model import SiteState
from confprov.watch.restore import Outcome, Restorer

TOKEN = "s3cret-token-of-the-board-1234"


@pytest.fixture
def watch(small_workspace: Path) -> SyntheticWatch:
    return SyntheticWatch(small_workspace)


def client(
    watch: SyntheticWatch, token: str | None = None, restorer: Restorer | None = None
) -> TestClient:
    return TestClient(Board(watch, province="Phú Thọ", restorer=restorer).app(token))


def test_api_sites_is_the_snapshot_serialised(watch: SyntheticWatch) -> None:
    site = watch.snapshot()[2].site
    watch.set(site, state=SiteState.DOWN, reason="no reply for 4 s")
    doc = client(watch).get("/api/sites").json()
    assert doc == json.loads(json.dumps(sites_document(watch.snapshot(), False)))
    assert doc["total"] == len(watch.snapshot()) and doc["up"] == doc["total"] - 1
    assert doc["counts"]["down"] == 1
    down = next(s for s in doc["sites"] if s["site"] == site)
    assert down["state"] == "down" and down["reason"] == "no reply for 4 s"
    assert {"site", "name", "level", "district", "state", "since", "rtt_ms", "jitter_ms",
            "loss_ratio", "last_reply_age_s"} <= set(down)  # fmt: skip


def test_page_shows_counter_states_and_contacts_escaped(watch: SyntheticWatch) -> None:
    first, second = watch.snapshot()[0].site, watch.snapshot()[2].site
    watch.set(second, state=SiteState.DOWN, reason="<script>alert(1)</script>")
    page = client(watch).get("/").text
    total = len(watch.snapshot())
    assert f"{total - 1}/{total} đang kết nối" in page
    assert f'class="site st-down" id="site-{second}"' in page
    assert f'class="site st-up" id="site-{first}"' in page
    assert "<script>alert(1)</script>" not in page  # escaped, in the tile and in the boot JSON
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="tel:0900000001"' in page and "Nguyễn Văn An" in page
    assert "mất tín hiệu" in page and "<svg" in page
    assert not re.search(r"<(script|link)[^>]+src=|https?://", page), "no external file or CDN"


def test_page_in_english(watch: SyntheticWatch) -> None:
    page = client(watch).get("/?lang=en").text
    assert f"{len(watch.snapshot())}/{len(watch.snapshot())} connected" in page
    assert 'lang="en"' in page and "Problems only" in page and "Tiếng Việt" in page


def test_ack_note_maint_reach_the_watch_and_need_a_name(watch: SyntheticWatch) -> None:
    c = client(watch)
    site = watch.snapshot()[1].site
    r = c.post(f"/api/sites/{site}/ack", json={"who": "Hà"})
    assert r.status_code == 200
    assert next(v for v in watch.snapshot() if v.site == site).ack_by == "Hà"
    assert (
        c.post(f"/api/sites/{site}/note", json={"who": "Hà", "text": "gọi anh Bình"}).status_code
        == 200
    )
    assert [e.kind for e in watch.events()] == ["ack", "note"]
    assert c.post(f"/api/sites/{site}/ack", json={}).status_code == 422  # who is empty
    assert c.post("/api/sites/nowhere/ack", json={"who": "Hà"}).status_code == 404
    # A form post (what another site's page could make a browser send) is refused.
    r = c.post(f"/api/sites/{site}/ack", data={"who": "x"})
    assert r.status_code == 415


def test_restore_one_at_a_time_audited(watch: SyntheticWatch, small_workspace: Path) -> None:
    release = threading.Event()
    calls: list[str] = []

    def slow_router(workspace: Path, site: str) -> Outcome:
        calls.append(site)
        release.wait(30)
        return Outcome(True, "push: 1 routers: 1 changed")

    done = threading.Event()
    restorer = Restorer(
        small_workspace,
        watch.record_action,
        runners={"verify": slow_router, "router": slow_router, "client": slow_router},
        on_done=lambda *_: done.set(),
    )
    c = client(watch, restorer=restorer)
    site = watch.snapshot()[1].site
    first = c.post(f"/api/sites/{site}/restore", json={"who": "Hà", "action": "router"})
    assert first.status_code == 202
    second = c.post(f"/api/sites/{site}/restore", json={"who": "Minh", "action": "verify"})
    assert second.status_code == 409
    assert "router is already running (started by Hà" in second.json()["error"]
    release.set()
    assert done.wait(30)
    assert calls == [site]
    texts = [(e.site, e.who, e.text) for e in watch.events() if e.kind == "action"]
    assert texts == [
        (site, "Hà", "router: started"),
        (site, "Hà", "router: ok: push: 1 routers: 1 changed"),
    ]
    unknown = c.post(f"/api/sites/{site}/restore", json={"who": "Hà", "action": "reboot"})
    assert unknown.status_code == 422


def test_token_refuses_every_route_without_it(watch: SyntheticWatch) -> None:
    c = client(watch, token=TOKEN)
    site = watch.snapshot()[0].site
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


def test_event_stream_sends_all_then_only_changes(watch: SyntheticWatch) -> None:
    board = Board(watch)

    class FakeRequest:
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
                    watch.set(watch.snapshot()[3].site, state=SiteState.DEGRADED, loss_ratio=0.05)
        await gen.aclose()
        return out

    import asyncio

    got = asyncio.run(frames(2))
    sites = [d for k, d in got if k == "sites"]
    assert len(sites[0]) == len(watch.snapshot())  # first frame: every site
    assert [s["state"] for s in sites[1]] == ["degraded"]  # then: only what changed
    assert all("last_reply_age_s" not in s for s in sites[0])  # the page ages it itself
    summaries = [d for k, d in got if k == "summary"]
    assert summaries[-1]["counts"]["degraded"] == 1


def test_spark_buckets_mark_silence() -> None:
    now = 1000.0
    points = [(now - 290, 10.0, 0.0), (now - 288, 20.0, 0.0), (now - 100, None, 1.0)]
    series = spark(points, now)
    assert series[2] == 15.0  # 5-s bucket averaging
    assert series[40] is None  # probes sent, no reply
    assert series[0] == ""  # no data at all


def test_escaping_of_every_value_in_page(watch: SyntheticWatch) -> None:
    site = watch.snapshot()[0].site
    evil = '"><img src=x onerror=alert(1)>'
    watch.set(site, note=evil, ack_by=evil, contact_name=evil)
    page = client(watch).get("/").text
    assert "<img src=x" not in page
    assert str(markupsafe.escape(evil)) in page
