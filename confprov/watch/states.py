"""The per-site state machine: pure, clocked from outside, so every rule is testable.

``assess`` turns one reading into the state the measurements alone say (with the reasons);
``advance`` applies hysteresis and the technician's marks (ack, maint) to a site's
:class:`Track` and returns the transition, if any. Nothing here reads a clock or does I/O.

The degraded thresholds are verify's own (``confprov.yml`` ``thresholds``: loss, jitter,
round trip): a site that would fail verification for its media path is degraded here.
"""

from __future__ import annotations

from dataclasses import dataclass

from confprov.config import Config, Thresholds, Watch
from confprov.watch.model import SiteState

PROBLEMS = frozenset({SiteState.DOWN, SiteState.DEGRADED})
# What a problem recovers to (after the clean window): up, or for a Windows site unmeasured.
GOOD = frozenset({SiteState.UP, SiteState.UNMEASURED})

# Reason texts, one place for both languages: key -> (vi, en). Formatted with named values.
TEXTS: dict[str, tuple[str, str]] = {
    "down": (
        "không nhận được gói đo trong {age:.0f} s (ngưỡng {gap:g} s)",
        "no probe for {age:.0f} s (gap {gap:g} s)",
    ),
    "never": (
        "chưa nhận được gói đo nào: agent chưa cài hoặc không chạy (confprov watch deploy)",
        "no probe received yet: agent not deployed or not running (confprov watch deploy)",
    ),
    "router_up": (
        "router vẫn trả lời qua mạng quản lý: kiểm tra máy đầu cuối và mạng LAN tại điểm",
        "the router answers on management: check the endpoint and the site's LAN",
    ),
    "router_down": (
        "router cũng không trả lời: mất đường truyền WAN hoặc mất điện tại điểm, gọi nhà mạng",
        "the router does not answer either: WAN or power lost at the site, call the ISP",
    ),
    "loss": ("mất gói {value:.1f} % > {limit:g} %", "loss {value:.1f} % > {limit:g} %"),
    "jitter": ("jitter {value:.0f} ms > {limit:g} ms", "jitter {value:.0f} ms > {limit:g} ms"),
    "rtt": ("trễ {value:.0f} ms > {limit:g} ms", "round trip {value:.0f} ms > {limit:g} ms"),
    "client": (
        "phần mềm hội nghị không chạy: khởi động lại (khôi phục)",
        "conference client not running: restart it (restore)",
    ),
    "sip": (
        "máy chủ SIP không trả lời OPTIONS từ điểm này: kiểm tra cổng SIP và tài khoản",
        "SIP OPTIONS from this site got no answer: check the SIP port and account",
    ),
    "recovering": (
        "đang hồi phục: ổn định {clean:.0f}/{need:g} s",
        "recovering: clean for {clean:.0f} of {need:g} s",
    ),
    "uplink": (
        "mất đường truyền chung của {name}: cả {count} điểm cầu cùng mất tín hiệu, "
        "gọi nhà mạng về đường truyền chung",
        "{name}'s shared line is out: all {count} of its sites went silent together, "
        "call the ISP about the shared line",
    ),
    "collector": (
        "không đọc được bộ thu phía hội nghị: kiểm tra máy chủ hội nghị ({detail})",
        "the conference side's collector cannot be read: check the conference server ({detail})",
    ),
    "unmeasured": (
        "máy đầu cuối chạy Windows: chưa đo đường truyền media (agent chỉ chạy trên Linux); "
        "router vẫn được kiểm tra",
        "Windows endpoints: media path not measured (the agent runs on Linux only); "
        "the router is still checked",
    ),
    "unmeasured_router": (
        "máy đầu cuối chạy Windows (chưa đo media) và router không trả lời qua mạng quản lý: "
        "mất đường truyền WAN hoặc mất điện tại điểm, gọi nhà mạng",
        "Windows endpoints (media not measured) and the router does not answer on management: "
        "WAN or power lost at the site, call the ISP",
    ),
    "silent": (
        "không điểm nào gửi được gói đo: đường truyền phía hội nghị bị mất",
        "no probe arrives from any site: the conference side's uplink is down",
    ),
}


def text(key: str, lang: str, **values: float | str) -> str:
    return TEXTS[key][1 if lang == "en" else 0].format(**values)


@dataclass(frozen=True)
class Rules:
    """The limits the machine applies: verify's thresholds and the watch settings."""

    # The defaults are confprov.yml's own (one place: confprov/config.py).
    gap_s: float = Watch.gap_s
    clean_s: float = Watch.clean_s
    rtt_ms: float = Thresholds.rtt_ms
    jitter_ms: float = Thresholds.jitter_ms
    loss_pct: float = Thresholds.loss_pct
    lang: str = Config.lang

    @classmethod
    def from_config(cls, config: Config) -> Rules:
        t = config.thresholds
        return cls(
            gap_s=config.watch.gap_s,
            clean_s=config.watch.clean_s,
            rtt_ms=t.rtt_ms,
            jitter_ms=t.jitter_ms,
            loss_pct=t.loss_pct,
            lang=config.lang,
        )


@dataclass(frozen=True)
class Reading:
    """One site at one moment, as the controller knows it (controller clock, epoch s)."""

    last_reply_at: float | None = None
    rtt_ms: float | None = None
    jitter_ms: float | None = None
    loss_ratio: float | None = None
    client_running: bool | None = None
    sip_ok: bool | None = None
    router_reachable: bool | None = None


def assess(
    reading: Reading, rules: Rules, now: float, *, upstream: str = "", watching_since: float = 0.0
) -> tuple[SiteState, str]:
    """The state the measurements alone say, and why (``upstream``: why the conference side
    is out, empty when it is fine). UNKNOWN when there is not yet enough to say anything."""
    lang = rules.lang
    if upstream:
        return SiteState.UPSTREAM, upstream
    if reading.last_reply_at is None:
        if now - watching_since <= rules.gap_s:
            return SiteState.UNKNOWN, ""
        return SiteState.DOWN, _with_router(text("never", lang), reading, lang)
    age = now - reading.last_reply_at
    if age > rules.gap_s:
        why = text("down", lang, age=age, gap=rules.gap_s)
        return SiteState.DOWN, _with_router(why, reading, lang)
    why_list: list[str] = []
    if reading.loss_ratio is not None and reading.loss_ratio * 100 > rules.loss_pct:
        why_list.append(text("loss", lang, value=reading.loss_ratio * 100, limit=rules.loss_pct))
    if reading.jitter_ms is not None and reading.jitter_ms > rules.jitter_ms:
        why_list.append(text("jitter", lang, value=reading.jitter_ms, limit=rules.jitter_ms))
    if reading.rtt_ms is not None and reading.rtt_ms > rules.rtt_ms:
        why_list.append(text("rtt", lang, value=reading.rtt_ms, limit=rules.rtt_ms))
    if reading.client_running is False:
        why_list.append(text("client", lang))
    if reading.sip_ok is False:
        why_list.append(text("sip", lang))
    if why_list:
        return SiteState.DEGRADED, "; ".join(why_list)
    return SiteState.UP, ""


def assess_unmeasured(reading: Reading, rules: Rules) -> tuple[SiteState, str]:
    """:func:`assess` for a site whose endpoints all run Windows (no agent, so no probe):
    UNMEASURED, not a problem and independent of the collector, unless the router check says
    the router does not answer: then DOWN, a site cut off whatever its endpoints run."""
    if reading.router_reachable is False:
        return SiteState.DOWN, text("unmeasured_router", rules.lang)
    return SiteState.UNMEASURED, text("unmeasured", rules.lang)


def _with_router(why: str, reading: Reading, lang: str) -> str:
    if reading.router_reachable is None:
        return why
    return f"{why}; {text('router_up' if reading.router_reachable else 'router_down', lang)}"


@dataclass
class Track:
    """One site's memory between readings."""

    underlying: SiteState = SiteState.UNKNOWN  # what the measurements say, after hysteresis
    since: float = 0.0  # when ``shown`` last changed
    underlying_since: float = 0.0
    reason: str = ""
    clean_since: float | None = None  # first reading of the current clean run
    ack_by: str = ""
    maint: bool = False
    maint_by: str = ""

    @property
    def shown(self) -> SiteState:
        """What the board shows: maint over everything, ack over a problem, else measured."""
        if self.maint:
            return SiteState.MAINT
        if self.ack_by and self.underlying in PROBLEMS:
            return SiteState.ACK
        return self.underlying


@dataclass(frozen=True)
class Transition:
    at: float
    before: SiteState  # underlying state before
    after: SiteState  # underlying state after
    why: str


def advance(track: Track, raw: SiteState, why: str, now: float, rules: Rules) -> Transition | None:
    """Apply one assessed reading to ``track``; return the underlying transition, if any.

    Hysteresis: from down or degraded, back to up (or unmeasured) only after ``clean_s`` of
    clean readings
    (degraded → down and down → degraded go at once: the worse news, or data again). An
    unknown reading (not enough data yet) changes nothing. When the problem ends, the ack ends.
    """
    before_shown = track.shown
    if raw in GOOD:
        if track.clean_since is None:
            track.clean_since = now
    else:
        track.clean_since = None
    target = track.underlying
    if raw in GOOD and track.underlying in PROBLEMS:
        clean = now - (track.clean_since or now)
        if clean >= rules.clean_s:
            target, track.reason = raw, why
        else:
            track.reason = text("recovering", rules.lang, clean=clean, need=rules.clean_s)
    elif raw is not SiteState.UNKNOWN:
        target, track.reason = raw, why
    transition = None
    if target is not track.underlying:
        transition = Transition(now, track.underlying, target, why or track.reason)
        track.underlying, track.underlying_since = target, now
        if target not in PROBLEMS:
            track.ack_by = ""
    if track.shown is not before_shown:
        track.since = now
    return transition


def set_mark(
    track: Track, now: float, *, ack_by: str | None = None, maint: bool | None = None, who: str = ""
) -> bool:
    """Apply a technician's mark; return whether the shown state changed."""
    before = track.shown
    if ack_by is not None:
        track.ack_by = ack_by
    if maint is not None:
        track.maint, track.maint_by = maint, who if maint else ""
    if track.shown is not before:
        track.since = now
        return True
    return False
