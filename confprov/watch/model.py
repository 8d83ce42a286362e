"""The contract between the watch engine (i11) and everything that shows it (board, API, CLI).

Why a separate module: the board (``confprov/watch/app.py``), ``/api/sites``, ``/metrics`` and
``confprov watch status`` all read the same objects, so they can never disagree about a site.

The contract:

- :class:`SiteState` is the one list of states, each with its Vietnamese and English label
  (``state.label(lang)``). ``unknown`` is the state before the first data arrives.
- :class:`SiteView` is one site as the board shows it: identity from the registry, the state
  and since when, the window metrics from the collector (``None`` when not measured), the flags
  the agent reported, ``reason`` (why this state, and what to do, in the board's language), the
  on-site contact, who acknowledged and the last note. ``to_json()`` is THE serialisation used
  by both ``GET /api/sites`` and ``confprov watch status --json``.
- :class:`Watch` is the surface the web app calls (the engine in ``confprov.watch.engine``
  implements it): ``snapshot()``, ``history(site)`` (5-minute sparkline points),
  ``await wait_changed(after_version)`` (returns the new version as soon as anything changed;
  the version is a monotonically increasing int, ``version`` gives the current one), ``ack``,
  ``set_maint``, ``add_note``, ``record_action`` (restore actions, audited), ``events(since)``
  (the event log, newest last) and ``stale`` (True when no fresh collector data arrived: the
  board shows "monitor stale").

Times are epoch seconds (float); metrics are in milliseconds and ratios (0..1), as named.
Backward-compatible changes only: new fields get defaults and are appended.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol, runtime_checkable

from confprov.verify.labels import LABELS


class SiteState(enum.Enum):
    """A site's state on the board. Order here is severity order for sorting (worst first)."""

    DOWN = "down"
    DEGRADED = "degraded"
    UPSTREAM = "upstream"
    ACK = "ack"
    MAINT = "maint"
    UNKNOWN = "unknown"
    UP = "up"
    # Appended (backward compatible): a site whose endpoints all run Windows. The watch agent
    # is Python and deployed on Linux endpoints only, so its media path is never measured;
    # neither up nor a problem. Its router is still checked: unreachable makes it ``down``.
    UNMEASURED = "unmeasured"

    def label(self, lang: str = "vi") -> str:
        """The state's name as a technician reads it (``vi`` or ``en``)."""
        return STATE_LABELS[self][1 if lang == "en" else 0]

    @property
    def is_problem(self) -> bool:
        """States the "problems only" view shows (ack and maint are handled, not hidden)."""
        return self not in {SiteState.UP, SiteState.MAINT, SiteState.UNMEASURED}

    @property
    def severity(self) -> int:
        return list(SiteState).index(self)


# The one place for the labels: (Vietnamese, English).
STATE_LABELS: dict[SiteState, tuple[str, str]] = {
    SiteState.UP: ("đang kết nối", "connected"),
    SiteState.DEGRADED: ("chất lượng kém", "degraded"),
    SiteState.DOWN: ("mất tín hiệu", "signal lost"),
    SiteState.UPSTREAM: ("sự cố phía trên", "upstream outage"),  # the reason says which
    SiteState.ACK: ("đã tiếp nhận", "acknowledged"),
    SiteState.MAINT: ("bảo trì", "maintenance"),
    SiteState.UNKNOWN: ("chưa có dữ liệu", "no data yet"),
    # verify's own wording for a check not measured on Windows: one place for the text.
    SiteState.UNMEASURED: (LABELS["vi"]["unmeasured"], LABELS["en"]["unmeasured"]),
}


@dataclass(frozen=True, kw_only=True)
class SiteView:
    """One site as shown on the board, the API and ``watch status``."""

    site: str  # slug
    name: str
    level: str
    district: str
    state: SiteState
    since: float  # epoch s: when the site entered ``state``
    last_reply_age_s: float | None = None
    rtt_ms: float | None = None
    jitter_ms: float | None = None
    loss_ratio: float | None = None
    client_running: bool | None = None
    sip_ok: bool | None = None
    router_reachable: bool | None = None
    reason: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    ack_by: str = ""
    note: str = ""
    # Appended after the first version (backward compatible):
    underlying: SiteState | None = None  # under ack/maint: what the measurements say
    last_reply_at: float | None = None  # epoch s of the last probe reply (Prometheus timestamp)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data: the one serialisation of a site (API and CLI)."""
        # Every field is a plain value: no deep copy needed (asdict's costs 5x at 298 sites).
        data = {name: getattr(self, name) for name in _VIEW_FIELDS}
        data["state"] = self.state.value
        data["underlying"] = self.underlying.value if self.underlying is not None else None
        return data


_VIEW_FIELDS = tuple(f.name for f in fields(SiteView))


@dataclass(frozen=True, kw_only=True)
class Event:
    """One entry of the event log: a state change, an ack, a note, a restore action."""

    id: int
    t: float
    site: str  # "" for a province-wide event (the conference side)
    kind: str  # "state", "ack", "maint", "note", "action", "incident"
    from_state: str = ""
    to_state: str = ""
    who: str = ""
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


HistoryPoint = tuple[float, float | None, float | None]  # (t, rtt_ms, loss_ratio)


@runtime_checkable
class Watch(Protocol):
    """What the board, the API and the CLI call on the engine."""

    @property
    def version(self) -> int: ...

    @property
    def stale(self) -> bool: ...

    def snapshot(self) -> list[SiteView]: ...

    def outages(self) -> dict[str, str]:
        """The conference side ("") and each shared line: why it is out, "" while fine."""
        ...

    def history(self, site: str) -> list[HistoryPoint]: ...

    async def wait_changed(self, after_version: int) -> int: ...

    def ack(self, site: str, who: str, note: str = "") -> None: ...

    def set_maint(self, site: str, on: bool, who: str) -> None: ...

    def add_note(self, site: str, who: str, text: str) -> None: ...

    def record_action(self, site: str, action: str, who: str, result: str) -> None: ...

    def events(self, since: float | None = None) -> list[Event]: ...
