"""The watch probe's wire format and the collector's window statistics (RFC 3550 jitter, loss)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from confprov.watch import probe as p

KEY = bytes(range(32))


def test_probe_round_trips_with_flags_and_is_about_100_bytes() -> None:
    sent = p.Probe(
        site="xa-yen-tap",
        seq=70000,
        sent_ns=123,
        echo_ns=456,
        hold_ns=7,
        client_running=False,
        sip_ok=True,
        sip_age_s=12,
    )
    data = p.encode_probe(KEY, sent)
    assert len(data) == p.DEFAULT_SIZE
    assert p.decode_probe(KEY, data) == sent
    unknown = p.Probe(site="a", seq=1, sent_ns=1)
    assert p.decode_probe(KEY, p.encode_probe(KEY, unknown)) == unknown


def test_forged_or_foreign_packets_are_rejected() -> None:
    data = bytearray(p.encode_probe(KEY, p.Probe(site="a", seq=1, sent_ns=1)))
    assert p.decode_probe(bytes(32), bytes(data)) is None  # another province's key
    data[30] ^= 1
    assert p.decode_probe(KEY, bytes(data)) is None  # altered on the way
    assert p.decode_probe(KEY, b"\x80" * 120) is None  # not a probe at all
    reply = p.encode_reply(KEY, 5, 99)
    assert p.decode_reply(KEY, reply) == (5, 99)
    assert p.decode_reply(bytes(32), reply) is None
    assert len(reply) < p.DEFAULT_SIZE  # the collector amplifies nothing


def feed(stats: p.SiteStats, arrivals: list[tuple[int, int, int]], window_s: float = 30) -> None:
    """(seq, sent ms, arrival ms) in arrival order."""
    for seq, sent, arrival in arrivals:
        stats.add(
            p.Probe(site="a", seq=seq, sent_ns=sent * 1_000_000),
            arrival * 1_000_000,
            "198.18.0.2",
            int(window_s * 1e9),
            int(3e9),
        )


def test_rfc3550_jitter_from_transit_differences() -> None:
    stats = p.SiteStats()
    # Transit times 10, 30, 10 ms: |D| = 20, 20 → J = 20/16, then J += (20 - J)/16.
    feed(stats, [(0, 0, 10), (1, 200, 230), (2, 400, 410)])
    j1 = 20 / 16
    assert stats.jitter_ms == pytest.approx(j1 + (20 - j1) / 16)


def test_loss_over_the_window_from_sequence_gaps() -> None:
    stats = p.SiteStats()
    feed(stats, [(s, s * 200, s * 200 + 5) for s in range(100) if s % 20 != 7])  # 5 of 100 lost
    report = stats.report(99 * 200 * 1_000_000 + 5_000_000, int(30e9))
    assert report["window_expected"] == 100
    assert report["loss_ratio"] == pytest.approx(0.05)


def test_an_outage_longer_than_the_gap_restarts_the_window_not_counted_as_loss() -> None:
    stats = p.SiteStats()
    feed(stats, [(s, s * 200, s * 200) for s in range(10)])
    # 20 s of silence (the link was down), then probes again: "down" covered that, not loss.
    feed(stats, [(s, s * 200, s * 200) for s in range(110, 120)])
    report = stats.report(119 * 200 * 1_000_000, int(30e9))
    assert report["loss_ratio"] == 0.0


def test_old_samples_leave_the_window() -> None:
    stats = p.SiteStats()
    feed(stats, [(s, s * 200, s * 200) for s in range(50) if s not in (3, 4, 5)], window_s=5)
    # After 10 s the early losses are out of the 5-s window.
    assert stats.report(49 * 200 * 1_000_000, int(5e9))["loss_ratio"] == 0.0


def test_agent_and_collector_on_loopback_report_rtt_flags_and_sip(tmp_path) -> None:
    """A real agent loop and a real collector over UDP and HTTP on 127.0.0.1."""

    async def scenario() -> dict:
        ready = asyncio.Event()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            qport = s.getsockname()[1]
        with socket.socket(type=socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            uport = s.getsockname()[1]
        collector = asyncio.ensure_future(
            p.run_collector(
                {
                    "bind": "127.0.0.1",
                    "port": uport,
                    "query_bind": "127.0.0.1",
                    "query_port": qport,
                    "key": KEY.hex(),
                    "window_s": 10,
                    "reset_s": 3,
                },
                ready,
            )
        )
        await ready.wait()
        stop = asyncio.Event()
        agent = asyncio.ensure_future(
            p.run_agent(
                {
                    "site": "xa-a",
                    "collector": "127.0.0.1",
                    "port": uport,
                    "key": KEY.hex(),
                    "rate": 50,
                    "client_process": "no-such-client-process",
                },
                stop,
            )
        )
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            reader, writer = await asyncio.open_connection("127.0.0.1", qport)
            writer.write(b"GET /v1/sites HTTP/1.0\r\n\r\n")
            raw = await reader.read()
            writer.close()
            data = json.loads(raw.split(b"\r\n\r\n", 1)[1])
            site = data["sites"].get("xa-a")
            if site and site["rtt_ms"] is not None and site["received"] >= 20:
                break
            assert asyncio.get_running_loop().time() < deadline, data
            await asyncio.sleep(0.05)
        stop.set()
        await agent
        collector.cancel()
        return data

    data = asyncio.run(scenario())
    site = data["sites"]["xa-a"]
    assert 0 <= site["rtt_ms"] < 1000
    assert site["client_running"] is False
    assert site["sip_ok"] is None  # no SIP configured for this agent
    assert site["loss_ratio"] == 0.0


def test_process_running_finds_by_program_name(tmp_path) -> None:
    for pid, argv0 in (("10", b"/usr/bin/baresip\0-f\0"), ("11", b"sleep\x0010\0"), ("x", b"")):
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "cmdline").write_bytes(argv0)
    assert p.process_running("baresip", str(tmp_path))
    assert not p.process_running("linphone", str(tmp_path))


def test_a_probe_read_late_is_accounted_at_its_arrival_not_at_the_read() -> None:
    """The collector reads its socket in batches: a probe that waited in the queue keeps the
    kernel's arrival time (SO_TIMESTAMPNS), so its age, jitter and round trip do not grow by
    the wait; the reply carries the time it is sent."""
    collector = p.Collector(KEY, window_s=10, reset_s=3)
    with socket.socket(type=socket.SOCK_DGRAM) as rx, socket.socket(type=socket.SOCK_DGRAM) as tx:
        rx.setsockopt(socket.SOL_SOCKET, p.SO_TIMESTAMPNS, 1)
        rx.bind(("127.0.0.1", 0))
        rx.setblocking(False)
        sent = time.monotonic_ns()
        tx.sendto(p.encode_probe(KEY, p.Probe(site="xa-a", seq=1, sent_ns=sent)), rx.getsockname())
        time.sleep(0.3)  # the probe waits in the queue: the wait is what is measured here
        read_at = time.monotonic_ns()
        assert collector.drain(rx) == 1
        tx.settimeout(5)
        reply = p.decode_reply(KEY, tx.recv(128))
    stats = collector.sites["xa-a"]
    assert sent <= stats.last_ns < read_at - 200_000_000  # its arrival, not the read
    assert reply is not None and reply[1] >= read_at  # the reply's time: when it was sent
