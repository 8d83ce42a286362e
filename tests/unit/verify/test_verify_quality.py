"""How a call would feel: short windows of the probe, the E-model estimate, the room survey,
threshold profiles."""

from __future__ import annotations

import pytest

from confprov.config import Thresholds, parse_config
from confprov.exceptions import InputError
from confprov.verify.quality import estimate_mos, mos_verdict, r_to_mos, window_verdicts
from confprov.verify.room import room_verdict

MS = 1_000_000
CONF = "conference: {server: 198.18.32.10, sip_domain: conf.example}\n"


# ------------------------------------------------------------------ short windows (the module)


def test_a_burst_shows_in_the_200ms_window_not_in_the_average(check_module):
    # 20 s at 50 packets/s (20 ms apart); 10 packets in a row lost at second 7.
    sent = {i: i * 20 * MS for i in range(1000)}
    seen = set(sent) - set(range(350, 360))
    worst_200, used = check_module.worst_window_loss(sent, seen, 200 * MS)
    assert used == 0.2 and worst_200 == 100.0  # 10 of the 10 packets of one 200 ms window
    worst_15s, used = check_module.worst_window_loss(sent, seen, 15_000 * MS)
    assert used == 15.0 and worst_15s == round(100 * 10 / 750, 2)  # 15 s holds 750 packets
    stats = check_module.media_stats(
        1000, sent, [(s, sent[s] + 20 * MS, 0) for s in sorted(seen)], 1200, 20_000 * MS
    )
    assert stats["loss_pct"] == 1.0
    assert stats["burst_200ms_pct"] == 100.0 and stats["loss_15s_pct"] == worst_15s


def test_a_probe_shorter_than_the_window_is_one_window(check_module):
    sent = {i: i * 10 * MS for i in range(100)}  # 1 s
    worst, used = check_module.worst_window_loss(sent, set(range(90)), 15_000 * MS)
    assert (worst, used) == (10.0, 1.0)


def test_lost_packets_at_the_very_end_do_not_inflate_the_burst(check_module):
    sent = {i: i * 20 * MS for i in range(100)}  # 2 s; the last packet lost
    worst, _ = check_module.worst_window_loss(sent, set(range(99)), 200 * MS)
    assert worst == 10.0  # one of the ten packets of the last full window, not 1 of 1


def test_window_verdicts_follow_the_profile():
    values = {"loss_15s_pct": 0.5, "burst_200ms_pct": 20.0, "burst_200ms_window_s": 0.2}
    default = {v.check: v for v in window_verdicts("h", values, Thresholds())}
    assert default["loss_15s"].severity == "pass"
    assert default["burst_200ms"].severity == "warn"  # default: warning only, as before
    strict = Thresholds(profile="strict")
    got = {v.check: v for v in window_verdicts("h", values, strict)}
    assert got["burst_200ms"].severity == "fail"
    assert "worst loss over any 200 ms" in got["burst_200ms"].reason
    assert got["burst_200ms"].threshold == "≤ 10 %"


def test_windows_of_an_older_module_are_not_measured():
    got = window_verdicts("h", {}, Thresholds())
    assert {v.severity for v in got} == {"skip"}


# ------------------------------------------------------------------ E-model


@pytest.mark.parametrize(
    ("r", "mos"),
    # ITU-T G.107 (06/2015) Annex B, Figure B.1 / the usual table of R against MOS.
    [(93.2, 4.41), (90, 4.34), (80, 4.02), (70, 3.6), (60, 3.1), (50, 2.58)],
)
def test_r_to_mos_matches_g107(r, mos):
    assert round(r_to_mos(r), 2) == mos


def test_estimate_uses_half_the_round_trip_plus_jitter_buffer_and_loss():
    est = estimate_mos(rtt_ms=40.0, jitter_ms=5.0, loss_pct=0.0)
    assert est.one_way_ms == 40 / 2 + 2 * 5 + 20
    assert est.r == round(93.2 - 0.024 * 50, 1)
    lossy = estimate_mos(rtt_ms=40.0, jitter_ms=5.0, loss_pct=5.0)
    # G.113 Appendix I, G.711 with PLC: Bpl 25.1; Ie,eff = 95 * 5 / (5 + 25.1)
    assert lossy.r == round(93.2 - 0.024 * 50 - 95 * 5 / 30.1, 1)
    assert lossy.mos < est.mos
    long_delay = estimate_mos(rtt_ms=400.0, jitter_ms=0.0, loss_pct=0.0)
    assert long_delay.r < estimate_mos(rtt_ms=300.0, jitter_ms=0.0, loss_pct=0.0).r - 5


def test_mos_is_labelled_an_estimate_and_only_warns():
    values = {"rtt_median_ms": 40.0, "jitter_ms": 5.0, "loss_pct": 20.0}
    v = mos_verdict("h", values, Thresholds())
    assert v.severity == "pass" and v.threshold == "informative"
    assert v.reason.startswith("estimated MOS") and "round trip 40/2" in v.reason
    v = mos_verdict("h", values, Thresholds(mos_min=3.5))
    assert v.severity == "warn" and "below 3.5" in v.reason


# ------------------------------------------------------------------ the room survey

HAS_ALL = {
    "cameras": [{"device": "/dev/video0"}],
    "displays": [{"connected": True}],
    "audio": [{"capture": True, "playback": True}],
}


def test_a_room_without_microphone_fails_with_the_reason():
    survey = {**HAS_ALL, "audio": [{"capture": False, "playback": True}]}
    v = room_verdict(["a"], {"a": survey}, ["display", "microphone", "speaker", "camera"])
    assert v is not None and v.severity == "fail"
    assert v.reason.startswith("no microphone found")


def test_two_laptops_share_a_room():
    no_camera = {**HAS_ALL, "cameras": []}
    v = room_verdict(["a", "b"], {"a": no_camera, "b": HAS_ALL}, ["camera"])
    assert v is not None and v.severity == "pass"


def test_an_unsurveyed_room_is_a_warning_and_nothing_required_is_no_check():
    v = room_verdict(["a"], {}, ["camera"])
    assert v is not None and v.severity == "warn" and "not surveyed" in v.reason
    partial = {"cameras": [], "displays": [{"connected": True}]}  # no audio section
    v = room_verdict(["a"], {"a": partial}, ["microphone"])
    assert v is not None and v.severity == "warn" and "unknown" in v.reason
    assert room_verdict(["a"], {"a": HAS_ALL}, []) is None


def test_judge_fails_the_site_whose_survey_has_no_microphone(small_workspace):
    from confprov.verify.run import judge
    from confprov.workspace import load

    loaded = load(small_workspace)
    site = loaded.registry.sites[0]
    host = site.endpoint_hosts[0]
    survey = {**HAS_ALL, "audio": [{"capture": False, "playback": True}]}
    (result,) = judge(loaded.config, [site], None, {}, {}, surveys={host: survey})
    assert not result.ready
    assert "no microphone found" in result.reason()


# ------------------------------------------------------------------ confprov.yml


def test_equipment_defaults_to_everything_at_every_level():
    config = parse_config(CONF, "confprov.yml")
    from confprov.domain import LEVELS

    assert set(config.equipment) == set(LEVELS)
    assert all(
        sorted(v) == ["camera", "display", "microphone", "speaker"]
        for v in config.equipment.values()
    )


def test_equipment_per_level_and_profile_with_overrides():
    config = parse_config(
        CONF
        + "equipment:\n  commune: [display, microphone, speaker]\n"
        + "thresholds:\n  profile: strict\n  rtt_ms: 80\n",
        "confprov.yml",
    )
    assert config.equipment["commune"] == ["display", "microphone", "speaker"]
    assert config.equipment["province"] == ["camera", "display", "microphone", "speaker"]
    assert config.thresholds.profile == "strict" and config.thresholds.rtt_ms == 80.0
    assert config.thresholds.reorder_pct == 0.05 and config.thresholds.warn_only == ()


def test_unknown_profile_and_equipment_name_line_and_key():
    with pytest.raises(InputError) as caught:
        parse_config(
            CONF + "thresholds:\n  profile: teams\nequipment:\n  commune: [mic]\n",
            "confprov.yml",
        )
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "confprov.yml:3: thresholds.profile: unknown profile 'teams'" in text
    assert "confprov.yml:5: equipment.commune: unknown: mic" in text
