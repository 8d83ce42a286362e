"""The watch engine driven by recorded collector reports and a test clock; the store on disk."""

from __future__ import annotations

import asyncio

import pytest

from confprov.config import parse_config
from confprov.watch.engine import Engine, SiteInfo
from confprov.watch.model import SiteState, Watch
from confprov.watch.store import Store

CONFIG = parse_config("conference: {server: 198.18.1.1, sip_domain: d}\nlang: en\n", "confprov.yml")
SITES = [
    SiteInfo(
        slug=f"s{i}",
        name=f"Site {i}",
        level="commune",
        district="d1",
        contact_name="An",
        contact_phone="0900",
        hosts=(f"s{i}",),
        router="",
    )
    for i in range(3)
]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def report(ages: dict[str, float], uptime: float = 100.0, **extra: object) -> dict:
    return {
        "collector": {"uptime_s": uptime},
        "sites": {
            host: {
                "age_s": age,
                "rtt_ms": 10.0,
                "jitter_ms": 1.0,
                "loss_ratio": 0.0,
                "client_running": True,
                "sip_ok": True,
                **extra.get(host, {}),
            }
            for host, age in ages.items()
        },
    }


@pytest.fixture
def engine(tmp_path):
    clock = Clock()
    store = Store(tmp_path / "watch.sqlite")
    yield Engine(CONFIG, SITES, store, clock=clock), clock, tmp_path
    store.close()


def run(engine: Engine, clock: Clock, seconds: float, ages: dict[str, float], **extra) -> None:
    """Ticks every 0.5 s; the sites in ``ages`` keep replying (age stays) unless frozen."""
    end = clock.t + seconds
    while clock.t < end:
        clock.t += 0.5
        engine.tick(report(ages, **extra), clock.t)


def states(engine: Engine) -> dict[str, str]:
    return {v.site: v.state.value for v in engine.snapshot()}


def test_engine_satisfies_the_watch_contract(engine) -> None:
    assert isinstance(engine[0], Watch)


def test_all_up_then_one_down_then_back_after_clean_window(engine) -> None:
    e, clock, _ = engine
    run(e, clock, 1, {"s0": 0.1, "s1": 0.1, "s2": 0.1})
    assert set(states(e).values()) == {"up"}
    cut = clock.t
    end = clock.t + 10
    age = 0.1
    while clock.t < end and states(e)["s1"] != "down":
        clock.t += 0.5
        age += 0.5
        e.tick(report({"s0": 0.1, "s1": age, "s2": 0.1}), clock.t)
    assert states(e) == {"s0": "up", "s1": "down", "s2": "up"}
    assert clock.t - cut <= CONFIG.watch.gap_s + CONFIG.watch.poll_s
    view = next(v for v in e.snapshot() if v.site == "s1")
    assert "no probe for" in view.reason and view.last_reply_age_s == pytest.approx(age)
    run(e, clock, 9.5, {"s0": 0.1, "s1": 0.1, "s2": 0.1})
    assert states(e)["s1"] == "down"  # still inside the clean window
    run(e, clock, 1, {"s0": 0.1, "s1": 0.1, "s2": 0.1})
    assert states(e)["s1"] == "up"
    [incident] = e.store.incidents()
    assert incident.site == "s1" and incident.state == "down" and incident.restored_at
    gap = CONFIG.watch.gap_s
    assert gap < incident.time_to_detect_s <= gap + 1.0
    kinds = [(ev.site, ev.from_state, ev.to_state) for ev in e.events() if ev.kind == "state"]
    assert ("s1", "up", "down") in kinds and ("s1", "down", "up") in kinds


def test_the_loop_reads_again_when_a_gap_runs_out_not_at_the_next_poll(engine) -> None:
    """A cut is judged when its gap runs out: the loop's wait ends then, not up to a poll later."""
    e, clock, _ = engine
    gap, poll = CONFIG.watch.gap_s, CONFIG.watch.poll_s
    e.tick(report({"s0": 0.1, "s1": 0.1, "s2": 0.1}), clock.t)
    assert e.next_wait(clock.t, 0.0) == pytest.approx(poll)  # all sending: the regular poll
    # s1 silent since a moment ago: its gap runs out 0.2 s from now, before the next poll.
    e.tick(report({"s0": 0.1, "s1": gap - 0.2, "s2": 0.1}), clock.t)
    assert e.next_silence(clock.t) == pytest.approx(clock.t + 0.2)
    wait = e.next_wait(clock.t, 0.0)
    assert 0.2 < wait < poll
    clock.t += wait
    e.tick(report({"s0": 0.1, "s1": gap - 0.2 + wait, "s2": 0.1}), clock.t)
    assert states(e)["s1"] == "down"
    assert e.next_wait(clock.t, 0.1) == pytest.approx(poll - 0.1)  # a down site: no extra read


def test_collector_gone_is_one_upstream_incident_not_one_per_site(engine) -> None:
    e, clock, _ = engine
    run(e, clock, 1, {"s0": 0.1, "s1": 0.1, "s2": 0.1})
    for _ in range(8):
        clock.t += 0.5
        e.tick(None, clock.t, "198.18.1.1:50002: connection refused")
    assert set(states(e).values()) == {"upstream"}
    assert e.stale
    assert "connection refused" in e.snapshot()[0].reason
    incidents = e.store.incidents()
    assert [(i.site, i.state) for i in incidents] == [("", "upstream")]
    site_events = [ev for ev in e.events() if ev.kind == "state" and ev.site]
    assert all(ev.to_state != "upstream" for ev in site_events)
    run(e, clock, 1, {"s0": 0.1, "s1": 0.1, "s2": 0.1})
    assert set(states(e).values()) == {"up"} and not e.stale
    assert e.store.incidents()[0].restored_at is not None


def test_every_site_silent_is_upstream(engine) -> None:
    e, clock, _ = engine
    run(e, clock, 1, {"s0": 0.1, "s1": 0.1, "s2": 0.1})
    run(e, clock, 5, {"s0": 5.0, "s1": 5.0, "s2": 5.0})
    assert set(states(e).values()) == {"upstream"}
    assert "uplink" in e.snapshot()[0].reason


def test_a_site_never_heard_from_goes_down_after_the_gap(engine) -> None:
    e, clock, _ = engine
    run(e, clock, 2, {"s0": 0.1, "s1": 0.1})
    assert states(e)["s2"] == "unknown"
    run(e, clock, 2, {"s0": 0.1, "s1": 0.1})
    assert states(e)["s2"] == "down"


def test_degraded_with_client_flag_and_measured_loss(engine) -> None:
    e, clock, _ = engine
    run(
        e,
        clock,
        1,
        {"s0": 0.1, "s1": 0.1, "s2": 0.1},
        s0={"loss_ratio": 0.052},
        s2={"client_running": False},
    )
    views = {v.site: v for v in e.snapshot()}
    assert views["s0"].state is SiteState.DEGRADED and "loss 5.2 %" in views["s0"].reason
    assert views["s2"].state is SiteState.DEGRADED and views["s2"].client_running is False
    assert "client not running" in views["s2"].reason


def test_ack_maint_note_and_action_are_logged_and_survive_a_restart(engine) -> None:
    e, clock, tmp = engine
    run(e, clock, 1, {"s0": 0.1, "s1": 0.1, "s2": 0.1})
    run(e, clock, 4, {"s0": 0.1, "s1": 9.0, "s2": 0.1})
    e.ack("s1", "an", "calling the site")
    e.set_maint("s2", True, "binh")
    e.record_action("s1", "reverify", "an", "ok")
    assert states(e) == {"s0": "up", "s1": "ack", "s2": "maint"}
    again = Engine(CONFIG, SITES, Store(tmp / "watch.sqlite"), clock=clock)
    assert {v.site: (v.ack_by, v.note) for v in again.snapshot()}["s1"] == (
        "an",
        "calling the site",
    )
    run(again, clock, 4, {"s0": 0.1, "s1": 9.0, "s2": 0.1})
    assert states(again) == {"s0": "up", "s1": "ack", "s2": "maint"}
    kinds = [ev.kind for ev in again.events()]
    assert {"ack", "note", "maint", "action"} <= set(kinds)
    [incident] = again.store.incidents()
    assert incident.acked_by == "an" and incident.restored_at is None


def test_history_keeps_five_minutes(engine) -> None:
    e, clock, _ = engine
    run(e, clock, 400, {"s0": 0.1, "s1": 0.1, "s2": 0.1})
    points = e.history("s0")
    assert points[-1][0] - points[0][0] <= 300
    assert len(points) >= 140 and points[-1][1] == 10.0


def test_wait_changed_wakes_on_a_tick(engine) -> None:
    e, clock, _ = engine

    async def scenario() -> int:
        version = e.version
        waiter = asyncio.ensure_future(e.wait_changed(version))
        await asyncio.sleep(0)
        assert not waiter.done()
        e.tick(report({"s0": 0.1}), clock.t)
        return await asyncio.wait_for(waiter, 5)

    assert asyncio.run(scenario()) > 0


def test_unknown_site_is_refused(engine) -> None:
    with pytest.raises(KeyError):
        engine[0].ack("nope", "an")


def test_poll_once_judges_at_once_without_waiting_for_the_gap(tmp_path) -> None:
    """`watch status`: one reading; the collector unreachable is upstream at once."""
    config = parse_config(
        "conference: {server: 198.18.1.1, sip_domain: d, management_address: 127.0.0.1}\n"
        "watch: {query_port: 9}\nlang: en\n",
        "confprov.yml",
    )
    store = Store(tmp_path / "watch.sqlite")
    engine = Engine(config, SITES, store)
    asyncio.run(engine.poll_once())
    assert set(states(engine).values()) == {"upstream"}
    assert "127.0.0.1:9" in engine.snapshot()[0].reason
    store.close()


def test_stale_data_after_a_failed_read_is_not_judged_silence(engine) -> None:
    """The collector gone: the sites' last replies age in the engine's memory, not on the wire.
    The conference side is out for the collector's reason (when the gap since its last answer
    runs out), never first as "no probe from any site" off data that is no longer read."""
    e, clock, _ = engine
    run(e, clock, 1, {"s0": 0.3, "s1": 0.3, "s2": 0.3})
    last_ok = clock.t
    while clock.t - last_ok <= CONFIG.watch.gap_s:
        clock.t += 0.1
        e.tick(None, clock.t, "198.18.1.1:50002: connection refused")
        if set(states(e).values()) == {"upstream"}:
            break
    assert set(states(e).values()) == {"upstream"}
    assert e.stale and "connection refused" in e.snapshot()[0].reason
