"""Judging measured values: every verdict has the value, the threshold and a reason."""

from __future__ import annotations

from confprov.config import Thresholds
from confprov.verify.evaluate import SiteResult, endpoint_verdicts, host_failure

LIMITS = Thresholds()  # rtt 100 ms, jitter 30 ms, loss 1 %, bandwidth 1200 kbit/s, clock 500 ms


def media(**values):
    base = {
        "sent": 781,
        "received": 781,
        "loss_pct": 0.0,
        "reordered_pct": 0.0,
        "rtt_median_ms": 20.0,
        "rtt_p95_ms": 30.0,
        "jitter_ms": 2.0,
        "throughput_kbps": 1500.0,
        "bitrate_kbps": 1500,
        "loss_15s_pct": 0.0,
        "loss_15s_window_s": 5.0,
        "burst_200ms_pct": 0.0,
        "burst_200ms_window_s": 0.2,
    }
    base.update(values)
    return {"name": "media", "ok": base["received"] > 0, "detail": "", "values": base}


def verdicts(*items):
    return {v.check: v for v in endpoint_verdicts("h", {"checks": list(items)}, LIMITS)}


def test_healthy_media_passes_every_measure():
    got = verdicts(media())
    assert {name: v.severity for name, v in got.items()} == dict.fromkeys(
        ("rtt", "jitter", "loss", "bandwidth", "reorder", "loss_15s", "burst_200ms", "mos"),
        "pass",
    )
    assert got["rtt"].value == 20.0 and got["rtt"].threshold == "≤ 100 ms"


def test_loss_above_limit_fails_with_value_and_counts():
    got = verdicts(media(loss_pct=10.2, received=701))
    loss = got["loss"]
    assert loss.severity == "fail"
    assert loss.value == 10.2
    assert "10.2 %" in loss.reason and "≤ 1 %" in loss.reason and "701 of 781" in loss.reason


def test_rate_limited_link_fails_bandwidth():
    got = verdicts(media(throughput_kbps=250.0, loss_pct=83.0, received=133))
    assert got["bandwidth"].severity == "fail"
    assert "250 kbit/s" in got["bandwidth"].reason and "≥ 1200 kbit/s" in got["bandwidth"].reason


def test_close_to_a_limit_is_a_warning_not_a_failure():
    got = verdicts(media(jitter_ms=27.0))
    assert got["jitter"].severity == "warn"
    site = SiteResult(site="s", name="S", level="commune", district="d", checks=list(got.values()))
    assert site.ready and site.status == "warn"


def test_good_median_with_bad_p95_warns():
    got = verdicts(media(rtt_median_ms=40.0, rtt_p95_ms=180.0))
    assert got["rtt"].severity == "warn"
    assert "p95 180 ms" in got["rtt"].reason


def test_no_packet_back_fails_rtt_loss_and_bandwidth():
    item = media(received=0, loss_pct=100.0)
    item["detail"] = "no packet came back from the reflector 198.18.32.10:50000"
    got = verdicts(item)
    assert [got[n].severity for n in ("rtt", "loss", "bandwidth")] == ["fail"] * 3
    assert got["jitter"].severity == "skip"


def test_functional_checks_keep_the_modules_reason():
    route = {
        "name": "route",
        "ok": False,
        "detail": "no route to the conference network 198.18.32.0/24: "
        "198.18.16.1 answered 'network unreachable'",
        "values": {},
    }
    skipped = {"name": "sip_options", "ok": None, "detail": "not run: no route", "values": {}}
    got = verdicts(route, skipped)
    assert got["route"].severity == "fail"
    assert "no route to the conference network" in got["route"].reason
    assert got["sip_options"].severity == "skip"
    site = SiteResult(site="s", name="S", level="commune", district="d", checks=list(got.values()))
    assert not site.ready
    assert site.reason().startswith("route: no route to the conference network")


def test_clock_offset_judged_on_its_magnitude():
    late = {"name": "clock", "ok": True, "detail": "", "values": {"offset_ms": -800.0}}
    got = verdicts(late)["clock"]
    assert got.severity == "fail" and got.value == -800.0
    assert "NTP" in got.reason


def test_unreachable_endpoint_is_one_clear_failure():
    v = host_failure("xa-1", "unreachable", "ssh: connect to host 198.18.0.14 port 22: timed out")
    assert v.severity == "fail" and v.check == "ssh"
    assert "not reachable over SSH" in v.reason
