"""The board: one Starlette app serving the page, its event stream, the API and /metrics.

Everything it shows comes from one :class:`~confprov.watch.model.Watch` (the engine, or a
synthetic one in tests), through :func:`sites_document`, the one serialisation that
``GET /api/sites`` and ``confprov watch status --json`` both print.

Why a plain ``StreamingResponse`` for Server-Sent Events rather than sse-starlette: the stream is
ours end to end (one frame per tick, each a diff against what this connection was last sent, a
summary frame every tick that doubles as the heartbeat the page's stale timer listens for), so
the format is five lines of code; the one thing sse-starlette adds that matters, ending streams
when the server stops, is uvicorn's ``timeout_graceful_shutdown`` (see ``serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from confprov import pages
from confprov.config import LANGS
from confprov.verify.labels import label
from confprov.watch.auth import TokenAuth
from confprov.watch.metrics import render
from confprov.watch.model import SiteState, SiteView, Watch
from confprov.watch.restore import ACTIONS, Busy, Restorer

TICK_S = 1.0  # the page gets a frame at least this often (its stale timer counts on it)
MIN_FRAME_S = 0.2  # and at most five a second, however busy the engine
SPARK_WINDOW_S = 300.0  # the sparkline's span: 5 minutes
SPARK_BUCKETS = 60  # one point per 5 s
SPARK_EVERY_S = 5.0
STALE_AFTER_S = 3.0  # the page's own timer: no frame for this long and it says "monitor stale"
NONE = "\u2013"  # what the page shows for a value not measured
MAX_TEXT = 500  # a note or a name longer than this is refused (422)

# The page's words: (Vietnamese, English). State names come from model.STATE_LABELS.
UI: dict[str, tuple[str, str]] = {
    "title": ("Giám sát điểm cầu", "Site monitor"),
    "stale": (
        "Mất cập nhật từ bộ giám sát: số liệu trên bảng có thể đã cũ",
        "Monitor stale: the figures on this board may be out of date",
    ),
    "filter": ("Lọc: tên, huyện, người liên hệ…", "Filter: name, district, contact…"),
    "problems": ("Chỉ điểm có sự cố", "Problems only"),
    "who": ("Tên của bạn", "Your name"),
    "who_needed": ("Nhập tên của bạn trước", "Type your name first"),
    "ack": ("Tiếp nhận", "Acknowledge"),
    "note": ("Ghi chú", "Note"),
    "save": ("Lưu", "Save"),
    "cancel": ("Hủy", "Cancel"),
    "verify": ("Kiểm tra lại", "Re-verify"),
    "router": ("Đẩy lại router", "Re-push router"),
    "client": ("Khởi động lại client", "Restart client"),
    "running": ("đang chạy", "running"),
    "age": ("phản hồi", "reply"),
    "rtt": ("trễ", "rtt"),
    "jitter": ("jitter", "jitter"),
    "loss": ("mất gói", "loss"),
    "client_down": ("client không chạy", "client not running"),
    "sip_bad": ("SIP lỗi", "SIP failing"),
    "router_bad": ("router không truy cập được", "router unreachable"),
    "province_group": ("Cấp tỉnh và sở, ngành", "Province and departments"),
    "events": ("Nhật ký", "Event log"),
    "lang_other": ("English", "Tiếng Việt"),
}


def ui(lang: str) -> dict[str, str]:
    words = {key: pair[1 if lang == "en" else 0] for key, pair in UI.items()}
    words["connected"] = SiteState.UP.label(lang)  # the counter says what `up` is called
    words["unmeasured"] = SiteState.UNMEASURED.label(lang)
    return words


def sites_document(views: Sequence[SiteView], stale: bool) -> dict[str, Any]:
    """THE machine-readable state: ``GET /api/sites`` and ``watch status --json`` print this.

    ``measurable``: the sites the watch can measure, every site but those ``unmeasured``
    (Windows endpoints only): the counter reads ``up/measurable`` and names the unmeasured
    apart, and "all up" means ``up == measurable``. A Windows site whose router is down is
    ``down``, so it counts among the measurable ones and against "all up".
    """
    counts = {state.value: 0 for state in SiteState}
    for view in views:
        counts[view.state.value] += 1
    unmeasured = counts[SiteState.UNMEASURED.value]
    return {
        "total": len(views),
        "measurable": len(views) - unmeasured,
        "unmeasured": unmeasured,
        "up": counts[SiteState.UP.value],
        "stale": stale,
        "counts": counts,
        "sites": [view.to_json() for view in views],
    }


def order(views: Sequence[SiteView]) -> list[SiteView]:
    """Province and departments first, then each district: its own site, then its communes."""
    rank = {"province": 0, "department": 1, "district": 2, "commune": 3}
    return sorted(
        views,
        key=lambda v: (
            v.level not in ("province", "department"),
            v.district,
            rank.get(v.level, 9),
            v.name,
        ),
    )


def groups(views: Sequence[SiteView], lang: str) -> list[tuple[str, list[SiteView]]]:
    """(heading, sites) per section of the page, in :func:`order`."""
    out: list[tuple[str, list[SiteView]]] = []
    names = {v.district: v.name for v in views if v.level == "district"}
    for view in order(views):
        top = view.level in ("province", "department")
        heading = ui(lang)["province_group"] if top else names.get(view.district, view.district)
        if not out or out[-1][0] != heading:
            out.append((heading, []))
        out[-1][1].append(view)
    return out


def spark(points: Sequence[tuple[float, float | None, float | None]], now: float) -> list[Any]:
    """The 5-minute round-trip series in :data:`SPARK_BUCKETS` buckets (None: no reply)."""
    width = SPARK_WINDOW_S / SPARK_BUCKETS
    start = now - SPARK_WINDOW_S
    sums: list[float] = [0.0] * SPARK_BUCKETS
    counts = [0] * SPARK_BUCKETS
    seen = [False] * SPARK_BUCKETS
    for t, rtt, _loss in points:
        index = int((t - start) // width)
        if 0 <= index < SPARK_BUCKETS:
            seen[index] = True
            if rtt is not None:
                sums[index] += rtt
                counts[index] += 1
    return [
        round(sums[i] / counts[i], 1) if counts[i] else (None if seen[i] else "")
        for i in range(SPARK_BUCKETS)
    ]


def spark_points(series: Sequence[Any], height: float = 20.0) -> str:
    """SVG polyline points for a series (the page's JS draws the same way: keep them alike)."""
    values = [v for v in series if isinstance(v, int | float)]
    top = max([*values, 1.0])
    return " ".join(
        f"{i},{height - (v / top) * (height - 2) - 1:.1f}"
        for i, v in enumerate(series)
        if isinstance(v, int | float)
    )


def gap_path(series: Sequence[Any]) -> str:
    """A red stroke in the sparkline for each bucket that had probes but no reply."""
    return "".join(f"M{i} 0v20" for i, v in enumerate(series) if v is None)


def flags(view: SiteView, words: dict[str, str]) -> str:
    """What the agent and the router check report beside the probe stream."""
    out = []
    if view.client_running is False:
        out.append(words["client_down"])
    if view.sip_ok is False:
        out.append(words["sip_bad"])
    if view.router_reachable is False:
        out.append(words["router_bad"])
    return " · ".join(out)


def ms_text(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def pct_text(ratio: float | None) -> str:
    if ratio is None:
        return NONE
    return f"{ratio * 100:.1f}%" if ratio < 0.1 else f"{ratio * 100:.0f}%"


def age_text(seconds: float | None) -> str:
    """Whole seconds: a healthy site reads "< 1 s" and is not re-sent every poll."""
    if seconds is None:
        return NONE
    return "< 1 s" if seconds < 1 else f"{int(seconds)} s"


def tile(view: SiteView, words: dict[str, str], labels: dict[str, str]) -> dict[str, Any]:
    """A site as its tile shows it. Every text is formatted here, once: the page only places
    it, and the stream sends a site again only when something a technician sees changed.
    A site lost (also when acknowledged) shows no round trip, jitter or loss: the last ones
    measured are not the line's state any more."""
    lost = (view.underlying or view.state) in (SiteState.DOWN, SiteState.UPSTREAM)
    return {
        "site": view.site,
        "name": view.name,
        "state": view.state.value,
        "label": labels[view.state.value],
        "problem": view.state.is_problem,
        "since": view.since,
        "age": age_text(view.last_reply_age_s),
        "rtt": NONE if lost else ms_text(view.rtt_ms),
        "jit": NONE if lost else ms_text(view.jitter_ms),
        "loss": NONE if lost else pct_text(view.loss_ratio),
        "flags": flags(view, words),
        "why": view.reason,
        "ack": f"\u2714 {view.ack_by}" if view.ack_by else "",
        "note": view.note,
    }


def _lang(request: Request, default: str) -> str:
    lang = request.query_params.get("lang", default)
    return lang if lang in LANGS else default


_ENV = pages.environment("confprov.watch")


def _who(request: Request, given: Any) -> str:
    who = str(given or "").strip() or str(getattr(request.state, "caller", "") or "")
    if not who:
        raise _Refused(422, "say who you are: 'who' is empty")
    if len(who) > 100:
        raise _Refused(422, "'who' is longer than 100 characters")
    return who


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Board:
    """The routes over one Watch; kept as an object because the spark cache is shared state."""

    def __init__(
        self,
        watch: Watch,
        *,
        lang: str = "vi",
        province: str = "",
        restorer: Restorer | None = None,
        metrics: Callable[[], tuple[bytes, str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.watch = watch
        self.lang = lang if lang in LANGS else "vi"
        self.province = province
        self.restorer = restorer
        self.metrics = metrics or (lambda: (render(watch), CONTENT_TYPE_LATEST))
        self.clock = clock
        self.closing = False  # set at server exit: every stream ends on its next tick
        self._spark_cache: tuple[int, dict[str, list[Any]]] = (-1, {})

    # -- data -------------------------------------------------------------------------------
    def sparks(self) -> dict[str, list[Any]]:
        """Every site's sparkline series, computed once per 5 s bucket for all connections."""
        now = self.clock()
        bucket = int(now // SPARK_EVERY_S)
        if self._spark_cache[0] != bucket:
            series = {v.site: spark(self.watch.history(v.site), now) for v in self.watch.snapshot()}
            self._spark_cache = (bucket, series)
        return self._spark_cache[1]

    def summary(self, views: Sequence[SiteView]) -> dict[str, Any]:
        doc = sites_document(views, self.watch.stale)
        del doc["sites"]
        doc["now"] = self.clock()
        doc["version"] = self.watch.version
        doc["actions"] = self.restorer.running() if self.restorer else {}
        doc["last_actions"] = self.restorer.finished() if self.restorer else {}
        return doc

    # -- routes -----------------------------------------------------------------------------
    async def page(self, request: Request) -> Response:
        lang = _lang(request, self.lang)
        views = self.watch.snapshot()
        sparks = self.sparks()
        words = ui(lang)
        summary = self.summary(views)
        labels = {s.value: s.label(lang) for s in SiteState}
        tiles = {v.site: tile(v, words, labels) for v in views}
        boot = {
            "ui": words,
            "lang": lang,
            "labels": labels,
            "line": "đường truyền chung" if lang == "vi" else "shared line",
            "summary": summary,
            "sparks": sparks,
            "stale_after_s": STALE_AFTER_S,
        }
        html = _ENV.get_template("board.html.j2").render(
            lang=lang,
            other_lang="en" if lang == "vi" else "vi",
            ui=words,
            province=self.province,
            groups=groups(views, lang),
            tiles=tiles,
            summary=summary,
            sparks=sparks,
            labels=labels,
            actions=list(ACTIONS),
            spark_buckets=SPARK_BUCKETS,
            boot=boot,
            spark_points=spark_points,
            gap_path=gap_path,
            level_label=lambda level: label(lang, level),
        )
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    async def api_sites(self, request: Request) -> Response:
        return JSONResponse(sites_document(self.watch.snapshot(), self.watch.stale))

    async def api_events(self, request: Request) -> Response:
        raw = request.query_params.get("since")
        try:
            since = float(raw) if raw else None
        except ValueError:
            return JSONResponse({"error": f"since: not a number: {raw!r}"}, status_code=422)
        return JSONResponse([e.to_json() for e in self.watch.events(since)])

    async def api_history(self, request: Request) -> Response:
        site = request.path_params["site"]
        if site not in {v.site for v in self.watch.snapshot()}:
            return JSONResponse({"error": f"no such site: {site}"}, status_code=404)
        return JSONResponse([list(p) for p in self.watch.history(site)])

    async def metrics_route(self, request: Request) -> Response:
        """The engine's metrics module (confprov.watch.metrics), prometheus_client's type."""
        body, content_type = self.metrics()
        return Response(body, media_type=content_type)

    def _known(self, site: str) -> None:
        if site not in {v.site for v in self.watch.snapshot()}:
            raise _Refused(404, f"no such site: {site}")

    async def _body(self, request: Request) -> dict[str, Any]:
        # JSON only: a cross-site form cannot send it without a CORS preflight we never answer,
        # so a page elsewhere cannot make a logged-in browser act on the board.
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise _Refused(415, "send JSON (content-type: application/json)")
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
            raise _Refused(403, f"cross-origin request from {origin} refused")
        try:
            data = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as exc:
            raise _Refused(400, f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise _Refused(400, "send a JSON object")
        for key, value in data.items():
            if isinstance(value, str) and len(value) > MAX_TEXT:
                raise _Refused(422, f"{key}: longer than {MAX_TEXT} characters")
        return data

    async def act(self, request: Request) -> Response:
        site = request.path_params["site"]
        what = request.path_params["what"]
        try:
            self._known(site)
            data = await self._body(request)
            who = _who(request, data.get("who"))
            return self._act(site, what, who, data)
        except _Refused as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)

    def _act(self, site: str, what: str, who: str, data: dict[str, Any]) -> Response:
        if what == "ack":
            self.watch.ack(site, who, str(data.get("note", "")))
        elif what == "note":
            text = str(data.get("text", "")).strip()
            if not text:
                raise _Refused(422, "the note is empty")
            self.watch.add_note(site, who, text)
        elif what == "maint":
            self.watch.set_maint(site, bool(data.get("on", True)), who)
        elif what == "restore":
            return self._restore(site, str(data.get("action", "")), who)
        else:
            raise _Refused(404, f"no such action: {what}")
        return JSONResponse({"ok": True, "site": site, "done": what, "who": who})

    def _restore(self, site: str, action: str, who: str) -> Response:
        if self.restorer is None:
            raise _Refused(503, "restore is not available on this board")
        if action not in ACTIONS:
            raise _Refused(422, f"action: one of {', '.join(ACTIONS)}")
        try:
            running = self.restorer.start(site, action, who)
        except Busy as exc:
            return JSONResponse({"error": str(exc), "running": exc.running}, status_code=409)
        return JSONResponse({"ok": True, "started": running}, status_code=202)

    async def events_stream(self, request: Request) -> Response:
        return StreamingResponse(
            self._frames(request),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    async def _frames(self, request: Request) -> AsyncIterator[str]:
        """Every tick: the tiles that changed since this connection's last frame, a summary, and
        every 5 s the sparklines that changed. The first frame holds every tile."""
        lang = _lang(request, self.lang)
        words = ui(lang)
        labels = {s.value: s.label(lang) for s in SiteState}
        sent: dict[str, dict[str, Any]] = {}
        sent_spark: dict[str, list[Any]] = {}
        version = -1
        last = 0.0
        yield f"retry: 1000\nevent: hello\ndata: {json.dumps({'tick_s': TICK_S})}\n\n"
        while not self.closing and not await request.is_disconnected():
            with contextlib.suppress(TimeoutError):
                version = await asyncio.wait_for(self.watch.wait_changed(version), TICK_S)
            pause = MIN_FRAME_S - (time.monotonic() - last)
            if pause > 0:
                await asyncio.sleep(pause)  # rate limit, not synchronisation
            last = time.monotonic()
            views = self.watch.snapshot()
            changed = []
            for view in views:
                data = tile(view, words, labels)
                if sent.get(view.site) != data:
                    sent[view.site] = data
                    changed.append(data)
            if changed:
                yield f"event: sites\ndata: {json.dumps(changed, ensure_ascii=False)}\n\n"
            sparks = self.sparks()
            fresh = {s: v for s, v in sparks.items() if sent_spark.get(s) != v}
            if fresh:
                sent_spark.update(fresh)
                yield f"event: spark\ndata: {json.dumps(fresh)}\n\n"
            yield f"event: summary\ndata: {json.dumps(self.summary(views))}\n\n"

    def app(
        self,
        token: str | None = None,
        background: Callable[[asyncio.Event], Awaitable[None]] | None = None,
    ) -> TokenAuth:
        """The ASGI app; ``background`` runs for the app's life (Starlette's lifespan)."""

        @contextlib.asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            if background is None:
                yield
                return
            stop = asyncio.Event()
            task = asyncio.ensure_future(background(stop))
            try:
                yield
            finally:
                stop.set()
                self.closing = True
                await task

        routes = [
            Route("/", self.page),
            Route("/events", self.events_stream),
            Route("/api/sites", self.api_sites),
            Route("/api/events", self.api_events),
            Route("/api/sites/{site}/history", self.api_history),
            Route("/api/sites/{site}/{what}", self.act, methods=["POST"]),
            Route("/metrics", self.metrics_route),
        ]
        return TokenAuth(Starlette(routes=routes, lifespan=lifespan), token)


def serve(
    board: Board,
    token: str | None,
    bind: str,
    port: int,
    background: Callable[[asyncio.Event], Awaitable[None]] | None = None,
) -> None:
    """Run the board under uvicorn until interrupted, with ``background`` (the engine's loop)
    beside it in the same event loop; open streams end within a tick at exit."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            board.closing = True
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        board.app(token, background),
        host=bind,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    Server(config).run()


def template_dir() -> Path:
    return Path(__file__).with_name("templates")
