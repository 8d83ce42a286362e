"""The check module's own logic, without a network: parsing, digest, statistics.

Its network behaviour (ICMP errors, SIP, the media probe) is tested on the lab's real hosts in
tests/lab/test_verify.py; these tests pin the parts that must be exactly right.
"""

from __future__ import annotations

import socket
import struct

import pytest


def test_default_gateway_from_proc_route(check_module, tmp_path):
    route = tmp_path / "route"
    route.write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
        "mgmt\t008012C6\t00000000\t0001\t0\t0\t0\t00F8FFFF\n"
        "lan\t00000000\t019012C6\t0003\t0\t0\t0\t00000000\n"
    )
    assert check_module.default_gateway(str(route)) == "198.18.144.1"


def test_no_default_route(check_module, tmp_path):
    route = tmp_path / "route"
    route.write_text("Iface\tDestination\tGateway \tFlags\nlan\t008012C6\t00000000\t0001\n")
    assert check_module.default_gateway(str(route)) is None


def test_arp_complete_only_for_resolved_entries(check_module, tmp_path):
    arp = tmp_path / "arp"
    arp.write_text(
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "198.18.144.1     0x1         0x2         3a:aa:ff:4e:06:90     *        lan\n"
        "198.18.144.5     0x1         0x0         00:00:00:00:00:00     *        lan\n"
    )
    assert check_module.arp_complete("198.18.144.1", str(arp))
    assert not check_module.arp_complete("198.18.144.5", str(arp))


def test_icmp_error_names_the_router_that_answered(checklib):
    # struct sock_extended_err (errno, origin ICMP=2, type 3, code 0) + offender sockaddr_in.
    err = struct.pack("=IBBBBII", 101, 2, 3, 0, 0, 0, 0)
    offender = struct.pack("=HH4s8x", socket.AF_INET, 0, socket.inet_aton("198.18.144.1"))
    what = checklib.parse_recverr([(socket.IPPROTO_IP, 11, err + offender)])
    assert what == ("network unreachable", "198.18.144.1")


def test_sip_response_and_challenge_parsing(checklib):
    text = (
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bKx\r\n"
        'WWW-Authenticate: Digest realm="hoinghi", nonce="abc,def", qop="auth,auth-int", '
        "algorithm=MD5\r\nContent-Length: 0\r\n\r\n"
    )
    code, reason, headers = checklib.parse_response(text)
    assert (code, reason) == (401, "Unauthorized")
    challenge = checklib.parse_challenge(headers["www-authenticate"][0])
    assert challenge["realm"] == "hoinghi"
    assert challenge["nonce"] == "abc,def"
    assert challenge["qop"] == "auth,auth-int"
    assert challenge["algorithm"] == "MD5"


def test_digest_matches_rfc_2617_example(checklib):
    """RFC 2617 section 3.5: the published request and its published response value."""
    challenge = {
        "realm": "testrealm@host.com",
        "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "qop": "auth,auth-int",
        "opaque": "5ccc069c403ebaf9f0171e9517f40e41",
    }
    value = checklib.digest_authorization(
        challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b"
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "nc=00000001" in value
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value


def test_digest_rejects_unknown_algorithm(checklib):
    with pytest.raises(checklib.SipError, match="not supported"):
        checklib.digest_authorization(
            {"algorithm": "SHA-512-256"}, "REGISTER", "sip:x", "u", "p", "c"
        )


def test_media_stats_loss_reorder_and_rfc3550_jitter(check_module):
    ms = 1_000_000
    sent = {i: i * 10 * ms for i in range(10)}
    # Transit 20 ms for all but seq 3 (30 ms); seq 5 lost; seq 7 arrives before seq 6.
    replies = []
    for seq in (0, 1, 2, 3, 4, 7, 6, 8, 9):
        transit = 30 if seq == 3 else 20
        replies.append((seq, sent[seq] + transit * ms, 0))
    stats = check_module.media_stats(10, sent, replies, 1200, 100 * ms)
    assert stats["received"] == 9
    assert stats["loss_pct"] == 10.0
    assert stats["reordered_pct"] == round(100 / 9, 2)
    assert stats["rtt_median_ms"] == 20.0
    # Two transit changes of 10 ms (up at seq 3, down at seq 4): J = 10/16, then J += (10-J)/16.
    j = 10 / 16
    j += (10 - j) / 16
    for _ in range(4):  # four more packets with no change
        j += (0 - j) / 16
    assert stats["jitter_ms"] == round(j, 2)
    assert stats["throughput_kbps"] == round(9 * 1200 * 8 / 100, 1)


def test_duplicates_and_foreign_packets_do_not_count(check_module):
    sent = {0: 0, 1: 1_000_000}
    replies = [(0, 5_000_000, 0), (0, 6_000_000, 0), (42, 7_000_000, 0)]
    stats = check_module.media_stats(2, sent, replies, 100, 10_000_000)
    assert stats["received"] == 1
    assert stats["loss_pct"] == 50.0


def test_no_reply_is_total_loss_without_rtt(check_module):
    stats = check_module.media_stats(5, dict.fromkeys(range(5), 0), [], 1200, 1)
    assert stats["loss_pct"] == 100.0
    assert "rtt_median_ms" not in stats


def test_percentile_is_nearest_rank(check_module):
    values = [float(v) for v in range(1, 101)]
    assert check_module.percentile(values, 95) == 95.0
    assert check_module.percentile([7.0], 95) == 7.0


def test_clock_offset_uses_the_fastest_reply(check_module):
    ms = 1_000_000
    wall0, mono0 = 1_000_000 * ms, 0
    sent = {0: 0, 1: 100 * ms}
    # seq 0: 40 ms round trip, reflector 50 ms ahead; seq 1: 4 ms round trip, 50 ms ahead.
    replies = [(0, 40 * ms, wall0 + 20 * ms + 50 * ms), (1, 104 * ms, wall0 + 102 * ms + 50 * ms)]
    offset, uncertainty = check_module.clock_offset(replies, sent, wall0, mono0)
    assert offset == 50.0
    assert uncertainty == 2.0


def test_probe_packet_is_rtp_and_reflectable(check_module):
    from confprov.verify.reflector import reflect

    packet = check_module.probe_packet(7, 0xABCDEF, 1200, 123)
    assert len(packet) == 1200
    assert packet[0] == 0x80  # RTP version 2
    reply = reflect(packet, 999)
    assert reply is not None and len(reply) == 1200
    _magic, sent, wall = check_module.PROBE.unpack_from(reply, check_module.HEADER.size)
    assert (sent, wall) == (123, 999)


def test_arguments_are_checked_as_documented(check_module, monkeypatch):
    monkeypatch.setenv("HOME", "/home/conf")
    base = {"conference": {"server": "x"}, "media": {}, "sip_user": "u"}
    base["_ansible_check_mode"] = True  # Ansible's own keys are accepted
    params = check_module.parse_args({**base, "client_config": "~/.baresip/accounts"})
    assert params["client_config"] == "/home/conf/.baresip/accounts"
    assert params["timeout"] == 2.0 and params["only"] == [] and params["sip_password"] == ""
    with pytest.raises(ValueError, match="missing required argument: sip_user"):
        check_module.parse_args({"conference": {}, "media": {}})
    with pytest.raises(ValueError, match="only: sound not one of gateway"):
        check_module.parse_args({**base, "only": ["sound"]})
    with pytest.raises(ValueError, match=r"unsupported parameter\(s\): colour"):
        check_module.parse_args({**base, "colour": "red"})


def test_a_refused_send_fails_that_check_not_the_module(check_module, monkeypatch):
    """ENOBUFS from the endpoint's own stack (seen on the 298-site lab under load) is a failed
    check with its reason, and the other checks still run."""
    import errno

    def full(*_args):
        raise OSError(errno.ENOBUFS, "No buffer space available")

    monkeypatch.setattr(check_module, "check_gateway", full)
    monkeypatch.setattr(check_module, "media_probe", full)
    monkeypatch.setattr(
        check_module, "check_dns", lambda server: (check_module.check("dns", True, ""), server)
    )
    monkeypatch.setattr(
        check_module, "check_route", lambda *a: check_module.check("route", True, "ok")
    )
    params = check_module.parse_args(
        {
            "conference": {"server": "198.18.32.10"},
            "media": {"bitrate_kbps": 64, "packet_bytes": 200, "duration_s": 0.1},
            "sip_user": "u",
            "only": ["gateway", "route", "media"],
        }
    )
    checks = {c["name"]: c for c in check_module.run_checks(params)["checks"]}
    assert checks["gateway"]["ok"] is False
    assert "could not send (No buffer space available)" in checks["gateway"]["detail"]
    assert checks["media"]["ok"] is False and checks["clock"]["ok"] is None
    assert checks["route"]["ok"] is True
