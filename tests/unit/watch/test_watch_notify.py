"""Notifications (confprov.watch.notify) through real apprise to a local HTTP receiver on
127.0.0.1, from i11's engine fed synthetic collector reports (tests/watch_synthetic.py)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from watch_synthetic import EngineFeed

from confprov.watch.notify import Notifier


class Receiver:
    """A webhook endpoint on loopback keeping every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_a_lost_site_and_its_return_are_sent_once_each(small_workspace: Path, receiver) -> None:
    feed = EngineFeed(small_workspace)
    feed.tick()
    site = next(iter(feed.engine.sites))
    names = {slug: info.name for slug, info in feed.engine.sites.items()}
    notifier = Notifier([receiver.url], names, "vi")

    async def until(count: int) -> None:
        for _ in range(200):  # a deadline of 10 s, polled
            if len(receiver.bodies) >= count:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{len(receiver.bodies)} notification(s), wanted {count}")

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(notifier.run(feed.engine, stop))
        await asyncio.sleep(0)
        feed.set(site, age_s=30.0)
        feed.tick()
        await until(1)
        feed.set(site, loss_ratio=0.05)  # degraded: on the board only
        feed.set(site, age_s=0.1)
        for _ in range(30):  # back to up after the clean window, 0.5 s readings
            feed.tick()
        feed.set(site, loss_ratio=0.0)
        for _ in range(30):
            feed.tick()
        await until(2)
        stop.set()
        await task

    asyncio.run(scenario())
    feed.close()
    name = names[site]
    assert receiver.bodies[0]["title"] == f"confprov: {name}: mất tín hiệu"
    assert "ngưỡng" in receiver.bodies[0]["message"]  # the engine's reason
    assert receiver.bodies[1]["title"] == f"confprov: {name}: đang kết nối"
    assert len(receiver.bodies) == 2


def test_an_unknown_url_is_refused_without_showing_it(receiver) -> None:
    with pytest.raises(Exception, match=r"nosuchscheme://…") as err:
        Notifier(["nosuchscheme://secret-token@x"], {}, "vi")
    assert "secret-token" not in str(err.value)


def test_urls_come_from_the_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from confprov import vault
    from confprov.watch.notify import VAULT_KEY, load_urls

    monkeypatch.delenv(vault.PASSWORD_ENV, raising=False)
    assert load_urls(tmp_path) == ([], "")  # no vault: no notifications, nothing to say
    (tmp_path / "vault.yml").write_text(vault.encrypt({VAULT_KEY: ["json://127.0.0.1:9/x"]}, "pw"))
    urls, why = load_urls(tmp_path)
    assert urls == [] and "notifications off" in why and ".vault-pass" in why
    vault.write_password_file(tmp_path / ".vault-pass", "pw")
    assert load_urls(tmp_path) == (["json://127.0.0.1:9/x"], "")
