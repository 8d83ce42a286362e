"""The reflector's answer to one datagram (its service runs on the lab's conference host)."""

from __future__ import annotations

import struct

from confprov.verify.reflector import MAGIC, PROBE_MIN, reflect


def probe(size=200):
    return (
        struct.pack("!BBHII", 0x80, 96, 5, 800, 1)
        + MAGIC
        + struct.pack("!qq", 42, 0)
        + b"\0" * (size - PROBE_MIN)
    )


def test_reply_is_the_probe_with_the_reflector_clock():
    reply = reflect(probe(), 1_700_000_000_000_000_000)
    assert reply is not None
    assert len(reply) == 200  # same size: no amplification
    assert reply[:24] == probe()[:24]
    assert struct.unpack_from("!q", reply, 24)[0] == 1_700_000_000_000_000_000


def test_other_traffic_is_ignored():
    assert reflect(b"OPTIONS sip:x SIP/2.0\r\n\r\n" + b"\0" * 40, 1) is None
    assert reflect(probe()[: PROBE_MIN - 1], 1) is None
