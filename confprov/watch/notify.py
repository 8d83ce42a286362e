"""Optional notifications while `watch serve` runs: a site lost, the conference side out, back.

Sent with apprise (one library for e-mail, Telegram, Slack, Matrix, plain JSON webhooks and
~100 more) to the URLs in the workspace's vault, ``vault_watch_notify`` (a list), not in
confprov.yml: such URLs usually hold a bot token or a password, and confprov.yml is rendered
into the inventory's group_vars, where no secret may land. Nothing is sent when the list is
absent or empty.

What is sent: a message when an outage opens (a site to ``down``, the conference side or a
shared line to ``upstream``: one message for the line, none per site behind it) and one when it
is over (that site or the conference side ``up`` again, a Windows
site ``unmeasured`` again once its router answers), taken from
the engine's event log: the conference side out is one message, not one per site. Degraded
sites are on the board only.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from pathlib import Path
from typing import Any

from confprov.exceptions import InputError, Problem
from confprov.watch.lines import UPLINK_PREFIX
from confprov.watch.model import Event, SiteState, Watch

VAULT_KEY = "vault_watch_notify"
OUTAGES = (SiteState.DOWN.value, SiteState.UPSTREAM.value)
BACK = (SiteState.UP.value, SiteState.UNMEASURED.value)  # a Windows site's router is back
log = logging.getLogger(__name__)


def load_urls(workspace: Path) -> tuple[list[str], str]:
    """The notification URLs from the workspace's vault (none without a vault or the key), and
    why there are none when the vault cannot be opened (the board runs without notifications)."""
    from confprov import vault

    path = workspace / "vault.yml"
    if not path.is_file():
        return [], ""
    try:
        password = vault.read_password(workspace)
    except InputError as exc:
        return [], f"notifications off: {exc}"
    urls = vault.decrypt(path, password).get(VAULT_KEY) or []
    if not isinstance(urls, list) or not all(isinstance(u, str) and u for u in urls):
        raise InputError([Problem(str(path), None, VAULT_KEY, "must be a list of apprise URLs")])
    return list(urls), ""


def message(
    event: Event, names: dict[str, str], lang: str, out: set[str]
) -> tuple[str, str] | None:
    """(title, body) for an event that opens or closes an outage; None for any other.

    ``out``: the sites whose outage was announced and not yet over (updated here), so a site
    that went down, then degraded, then up gets its "back" message when it is up."""
    if event.kind != "state":
        return None
    line = event.site.startswith(UPLINK_PREFIX)
    if event.site and not line and event.to_state == SiteState.UPSTREAM.value:
        return None  # a site behind its line or the conference side: that outage's message
    opens = event.to_state in OUTAGES and event.site not in out
    closes = event.site in out and event.to_state in BACK
    if opens:
        out.add(event.site)
    elif closes:
        out.discard(event.site)
    else:
        return None
    state = SiteState(event.to_state).label(lang)
    if not event.site:
        where = "Phía hội nghị" if lang == "vi" else "Conference side"
    elif line:
        name = names.get(event.site, event.site[len(UPLINK_PREFIX) :])
        where = f"{name}: đường truyền chung" if lang == "vi" else f"{name}: shared line"
        back = event.to_state in BACK
        state = (SiteState.UP if back else SiteState.DOWN).label(lang)
    else:
        where = names.get(event.site, event.site)
    body = f"{where}: {state}" + (f": {event.text}" if event.text else "")
    return f"confprov: {where}: {state}", body


class Notifier:
    """Sends the messages of new events, as the engine logs them, in the server's loop."""

    def __init__(self, urls: list[str], names: dict[str, str], lang: str = "vi") -> None:
        apprise: Any = importlib.import_module("apprise")  # no type hints shipped
        self.apprise = apprise.Apprise()
        for url in urls:
            if not self.apprise.add(url):
                # The URL itself may hold a token: name its scheme only.
                scheme = url.split("://", 1)[0]
                raise InputError(
                    [Problem(VAULT_KEY, None, f"{scheme}://…", "not a URL apprise understands")]
                )
        self.names, self.lang = names, lang
        self.out: set[str] = set()
        self.sent = 0

    async def send(self, event: Event) -> bool:
        text = message(event, self.names, self.lang, self.out)
        if text is None:
            return False
        title, body = text
        ok = bool(await asyncio.to_thread(self.apprise.notify, title=title, body=body))
        if ok:
            self.sent += 1
        else:
            log.warning("watch notify: a notification of %s was not delivered", event.site)
        return ok

    async def run(self, watch: Watch, stop: asyncio.Event) -> None:
        """From now on (not the past log), until ``stop``."""
        past = watch.events()
        seen = max((e.id for e in past), default=0)
        since = max((e.t for e in past), default=0.0)
        version = watch.version
        while not stop.is_set():
            waiter = asyncio.ensure_future(watch.wait_changed(version))
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not waiter.done():
                waiter.cancel()
                break
            version = waiter.result()
            for event in [e for e in watch.events(since) if e.id > seen]:
                seen, since = event.id, event.t
                await self.send(event)
