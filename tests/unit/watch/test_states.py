"""The watch state machine, clocked by the test: up, degraded, down, upstream, ack, maint."""

from __future__ import annotations

import pytest

from confprov.config import Thresholds, parse_config
from confprov.watch.model import STATE_LABELS, SiteState, SiteView
from confprov.watch.states import Reading, Rules, Track, advance, assess, set_mark

RULES = Rules(gap_s=3.0, lang="en")  # gap 3 s, clean 10 s, verify's default thresholds
GOOD: dict = {
    "rtt_ms": 20.0,
    "jitter_ms": 2.0,
    "loss_ratio": 0.0,
    "client_running": True,
    "sip_ok": True,
}


def good(at: float) -> Reading:
    return Reading(last_reply_at=at, **GOOD)


def step(track: Track, reading: Reading, now: float, upstream: str = "", rules: Rules = RULES):
    raw, why = assess(reading, rules, now, upstream=upstream)
    return advance(track, raw, why, now, rules)


def test_rules_take_verify_thresholds_from_confprov_yml() -> None:
    config = parse_config(
        "conference: {server: a, sip_domain: b}\nthresholds: {loss_pct: 2, rtt_ms: 80}\n"
        "watch: {gap_s: 2, clean_s: 5}\nlang: en\n",
        "confprov.yml",
    )
    rules = Rules.from_config(config)
    assert (rules.loss_pct, rules.rtt_ms, rules.gap_s, rules.clean_s) == (2, 80, 2, 5)
    assert rules.jitter_ms == Thresholds().jitter_ms  # the default is verify's, not a copy


def test_first_data_is_up_at_once() -> None:
    track = Track()
    change = step(track, good(100.0), 100.0)
    assert change is not None and (change.before, change.after) == (SiteState.UNKNOWN, SiteState.UP)
    assert track.shown is SiteState.UP and track.since == 100.0


def test_no_reply_for_longer_than_the_gap_is_down_not_sooner() -> None:
    track = Track()
    step(track, good(100.0), 100.0)
    assert step(track, good(100.0), 103.0) is None  # exactly the gap: still up
    change = step(track, good(100.0), 103.1)
    assert change is not None and change.after is SiteState.DOWN
    assert "no probe for 3 s" in track.reason


def test_down_reason_says_whether_the_router_answers() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    step(track, Reading(last_reply_at=0.0, router_reachable=False), 10.0)
    assert "call the ISP" in track.reason
    step(track, Reading(last_reply_at=0.0, router_reachable=True), 11.0)
    assert "check the endpoint" in track.reason


def test_a_site_never_heard_from_is_down_after_the_gap() -> None:
    raw, why = assess(Reading(), RULES, 2.0, watching_since=0.0)
    assert raw is SiteState.UNKNOWN
    raw, why = assess(Reading(), RULES, 4.0, watching_since=0.0)
    assert raw is SiteState.DOWN and "not deployed" in why


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("loss_ratio", 0.05, "loss 5.0 % > 1 %"),
        ("jitter_ms", 31.0, "jitter 31 ms > 30 ms"),
        ("rtt_ms", 150.0, "round trip 150 ms > 100 ms"),
        ("client_running", False, "conference client not running"),
        ("sip_ok", False, "SIP OPTIONS"),
    ],
)
def test_degraded_beyond_verify_thresholds_or_flags(field: str, value: object, words: str) -> None:
    reading = Reading(last_reply_at=10.0, **{**GOOD, field: value})
    raw, why = assess(reading, RULES, 10.5)
    assert raw is SiteState.DEGRADED and words in why


def test_at_the_threshold_is_still_up() -> None:
    reading = Reading(last_reply_at=10.0, rtt_ms=100.0, jitter_ms=30.0, loss_ratio=0.01)
    assert assess(reading, RULES, 10.0)[0] is SiteState.UP


def test_back_to_up_only_after_a_clean_window() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    step(track, good(0.0), 5.0)  # down
    assert track.underlying is SiteState.DOWN
    for t in (6.0, 10.0, 15.9):  # replies again, clean for < 10 s
        assert step(track, good(t), t) is None
        assert track.shown is SiteState.DOWN
    assert "recovering" in track.reason
    change = step(track, good(16.0), 16.0)
    assert change is not None and change.after is SiteState.UP and track.since == 16.0


def test_a_blip_during_recovery_restarts_the_clean_window() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    step(track, Reading(last_reply_at=1.0, **{**GOOD, "loss_ratio": 0.2}), 1.0)  # degraded
    step(track, good(2.0), 2.0)
    step(track, Reading(last_reply_at=8.0, **{**GOOD, "loss_ratio": 0.2}), 8.0)  # bad again
    assert step(track, good(12.0), 12.0) is None  # 10 s after the first clean one: not enough
    assert step(track, good(21.9), 21.9) is None
    assert step(track, good(22.0), 22.0).after is SiteState.UP


def test_worse_news_goes_at_once() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    step(track, Reading(last_reply_at=1.0, **{**GOOD, "loss_ratio": 0.2}), 1.0)
    assert track.underlying is SiteState.DEGRADED
    assert step(track, Reading(last_reply_at=1.0), 4.5).after is SiteState.DOWN
    # data again but lossy: degraded at once (better than down, still a problem)
    assert step(track, Reading(last_reply_at=5.0, loss_ratio=0.2), 5.0).after is SiteState.DEGRADED


def test_upstream_overrides_and_ends_without_hysteresis() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    change = step(track, good(0.0), 1.0, upstream="collector gone")
    assert change.after is SiteState.UPSTREAM and track.reason == "collector gone"
    assert step(track, good(9.0), 9.0).after is SiteState.UP


def test_unknown_reading_changes_nothing() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    assert advance(track, SiteState.UNKNOWN, "", 1.0, RULES) is None
    assert track.shown is SiteState.UP


def test_ack_shows_over_the_problem_and_ends_with_it() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    step(track, good(0.0), 4.0)
    assert set_mark(track, 5.0, ack_by="an") is True
    assert track.shown is SiteState.ACK and track.since == 5.0
    step(track, good(6.0), 6.0)
    assert track.shown is SiteState.ACK  # still recovering
    step(track, good(16.0), 16.0)
    assert track.shown is SiteState.UP and track.ack_by == ""


def test_ack_on_a_healthy_site_shows_nothing() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    assert set_mark(track, 1.0, ack_by="an") is False
    assert track.shown is SiteState.UP


def test_maint_shows_over_everything_and_measurements_go_on() -> None:
    track = Track()
    step(track, good(0.0), 0.0)
    set_mark(track, 1.0, maint=True, who="binh")
    assert step(track, good(0.0), 5.0).after is SiteState.DOWN
    assert track.shown is SiteState.MAINT and track.since == 1.0
    set_mark(track, 6.0, maint=False)
    assert track.shown is SiteState.DOWN


def test_labels_exist_for_every_state_in_both_languages() -> None:
    assert set(STATE_LABELS) == set(SiteState)
    assert SiteState.DOWN.label("en") == "signal lost"
    assert SiteState.DOWN.label() == "mất tín hiệu"
    assert {len(set(pair)) for pair in STATE_LABELS.values()} == {2}


def test_site_view_json_is_plain() -> None:
    view = SiteView(
        site="a",
        name="A",
        level="commune",
        district="d",
        state=SiteState.ACK,
        since=1.0,
        underlying=SiteState.DOWN,
    )
    data = view.to_json()
    assert data["state"] == "ack" and data["underlying"] == "down" and data["rtt_ms"] is None
