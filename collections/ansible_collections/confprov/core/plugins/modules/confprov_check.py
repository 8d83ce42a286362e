#!/usr/bin/python3
# Copyright: confprov developers. Apache License 2.0 (see LICENSE).
"""Every connection check of one endpoint in one task: standard library only (Python 3.11).

The module measures and reports; it judges nothing. Thresholds live on the controller
(``confprov.verify.evaluate``), so one place decides pass/warn/fail and a stored run can be
judged again. The same file runs outside Ansible: ``run_checks(params)`` is the whole probe
(the raw-SSH floor in ``bench/verify.py`` pipes this file to ``python3`` over SSH).
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: confprov_check
short_description: Check that an endpoint can join the conference (network, SIP, media, client)
description:
  - Runs every check of one video-conference endpoint in one task, with the Python standard
    library only, and returns the measured values. It changes nothing on the host.
  - Checks, in order, each skipped with a reason when an earlier one makes it meaningless
    C(gateway), C(route), C(dns), C(sip_port), C(sip_options), C(sip_register), C(media),
    C(clock), C(client_version), C(client_config).
  - The media test sends RTP-sized UDP packets at the profile's bitrate for the profile's
    duration to the media reflector (C(confprov reflector)) beside the conference server and
    measures round trip (median, p95), interarrival jitter (RFC 3550, section 6.4.1, on the
    round trip), loss, the worst loss over any 15 s and over any 200 ms of the probe (short
    windows, as Microsoft Teams states its network requirements), reordering and the
    throughput that came back.
  - Judging (pass/warn/fail against thresholds) is done by the controller, not here.
version_added: "0.1.0"
author: confprov contributors
options:
  conference:
    description: The conference side, as C(confprov_conference) in the inventory.
    type: dict
    required: true
  media:
    description: The media profile, as C(confprov_media) (bitrate_kbps, packet_bytes, duration_s).
    type: dict
    required: true
  sip_user:
    description: The site's SIP account (user part).
    type: str
    required: true
  sip_password:
    description: The account's password; digest authentication is answered only when set.
    type: str
    default: ""
  client_package:
    description: Debian package of the conference client.
    type: str
    default: baresip
  client_version:
    description: Pinned client version; empty accepts any installed version.
    type: str
    default: ""
  client_config:
    description: The client's account file that provisioning writes for this site.
    type: path
    default: ""
  timeout:
    description: Seconds to wait for one answer (gateway, route, SIP).
    type: float
    default: 2.0
  only:
    description:
      - Run only these groups of checks (default, empty, all). C(sip) and C(media) run without
        the route check then, as if the route were there.
    type: list
    elements: str
    choices: [gateway, route, sip, media, client]
    default: []
attributes:
  check_mode:
    support: full
    details: Only measures; runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Never changes the host. A test REGISTER is removed again (Expires 0) at once.
notes:
  - The SIP password is declared C(no_log), so Ansible masks it in results and logs.
"""

EXAMPLES = r"""
- name: Check the connection of this endpoint
  confprov_check:
    conference: "{{ confprov_conference }}"
    media: "{{ confprov_media }}"
    sip_user: "{{ confprov_sip_user }}"
    sip_password: "{{ confprov_sip_password }}"
    client_package: baresip
    client_version: "{{ confprov_client.version }}"
    client_config: /home/conf/.baresip/accounts
"""

RETURN = r"""
checks:
  description: One entry per check, in the order they ran.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: check name, type: str, sample: route}
    ok: {description: true passed, false failed, null not run, type: bool}
    detail: {description: what was seen, for a technician, type: str}
    values: {description: "measured values (ms, %, kbit/s)", type: dict}
host:
  description: Address facts used by the checks (gateway, source address).
  returned: always
  type: dict
"""

import contextlib
import hashlib
import json
import math
import os
import secrets
import select
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------ shared pieces
# Check results, UDP with ICMP errors, and a small SIP client (they were module_utils before the
# module became one self-contained file).

IP_RECVERR = 11  # <linux/in.h>; not exported by the socket module
ICMP_UNREACH = {
    0: "network unreachable",
    1: "host unreachable",
    3: "port unreachable",
    9: "network prohibited",
    10: "host prohibited",
    13: "administratively prohibited",
}


def check(name: str, ok: bool | None, detail: str, **values: Any) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail, "values": values}


# ------------------------------------------------------------------ UDP and ICMP errors


def parse_recverr(ancdata: list[tuple[int, int, bytes]]) -> tuple[str, str] | None:
    """(what, who) from an IP_RECVERR message: e.g. ('network unreachable', '198.18.16.1')."""
    for level, kind, data in ancdata:
        if level == socket.IPPROTO_IP and kind == IP_RECVERR and len(data) >= 16:
            _errno, origin, icmp_type, code, _pad, _info, _data = struct.unpack(
                "=IBBBBII", data[:16]
            )
            who = socket.inet_ntoa(data[20:24]) if len(data) >= 24 else "?"
            if origin == 2 and icmp_type == 3:
                return ICMP_UNREACH.get(code, f"unreachable (code {code})"), who
            return f"ICMP type {icmp_type} code {code}", who
    return None


def udp_socket(target: tuple[str, int]) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    sock.connect(target)
    sock.setblocking(False)
    return sock


def wait_udp(sock: socket.socket, timeout: float) -> tuple[str, Any]:
    """A datagram or an ICMP error: ('reply', data), ('icmp', (what, who)) or ('timeout', None)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        for _fd, event in poller.poll(left * 1000):
            if event & select.POLLERR:
                try:
                    _data, anc, _flags, _addr = sock.recvmsg(512, 1024, socket.MSG_ERRQUEUE)
                except OSError:
                    continue
                err = parse_recverr(anc)
                if err:
                    return "icmp", err
            if event & select.POLLIN:
                try:
                    return "reply", sock.recv(65535)
                except OSError:
                    continue
    return "timeout", None


# ------------------------------------------------------------------ SIP


class SipError(Exception):
    pass


def parse_response(text: str) -> tuple[int, str, dict[str, list[str]]]:
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("SIP/2.0"):
        raise SipError(f"not a SIP response: {head[0][:80]!r}")
    headers: dict[str, list[str]] = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def parse_challenge(value: str) -> dict[str, str]:
    scheme, _, rest = value.partition(" ")
    params: dict[str, str] = {"scheme": scheme}
    while rest:
        key, _, rest = rest.strip().partition("=")
        if rest.startswith('"'):
            val, _, rest = rest[1:].partition('"')
        else:
            val, _, rest = rest.partition(",")
        params[key.strip().lower()] = val
        rest = rest.lstrip().removeprefix(",")
    return params


def digest_authorization(  # noqa: PLR0917 - the fields of RFC 2617, in its order
    challenge: dict[str, str],
    method: str,
    uri: str,
    user: str,
    password: str,
    cnonce: str,
    nc: int = 1,
) -> str:
    """The Authorization value answering a digest challenge (RFC 2617, RFC 8760 for SHA-256)."""
    algorithm = challenge.get("algorithm", "MD5")
    name = {"MD5": "md5", "SHA-256": "sha256"}.get(algorithm.upper().replace("_", "-"))
    if name is None:
        raise SipError(f"digest algorithm {algorithm} is not supported (MD5, SHA-256)")

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    ha1 = h(f"{user}:{realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    fields = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in qops:
        count = f"{nc:08x}"
        response = h(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")
    fields += [f'response="{response}"', f"algorithm={algorithm}"]
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(fields)


class SipClient:
    """Just enough SIP to ask a server OPTIONS and REGISTER, over UDP, TCP or TLS."""

    def __init__(self, server: str, port: int, transport: str, domain: str, timeout: float) -> None:
        self.server, self.port, self.transport = server, port, transport.lower()
        self.domain, self.timeout = domain, timeout
        self.call_id = f"{secrets.token_hex(8)}@confprov"
        self.tag, self.cseq = secrets.token_hex(4), 0
        if self.transport == "udp":
            self.sock = udp_socket((server, port))
        else:
            raw = socket.create_connection((server, port), timeout=timeout)
            if self.transport == "tls":
                import ssl  # only for TLS: loading OpenSSL costs every other endpoint time

                raw = ssl.create_default_context().wrap_socket(raw, server_hostname=domain)
            self.sock = raw
            self.buffer = b""
        self.local = self.sock.getsockname()

    def close(self) -> None:
        self.sock.close()

    def message(self, method: str, uri: str, user: str, extra: list[str]) -> tuple[str, str]:
        self.cseq += 1
        branch = "z9hG4bK" + secrets.token_hex(8)
        host, port = self.local[0], self.local[1]
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/{self.transport.upper()} {host}:{port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{self.domain}>;tag={self.tag}",
            f"To: <sip:{user if method == 'REGISTER' else 'ping'}@{self.domain}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} {method}",
            "User-Agent: confprov-check",
            *extra,
            "Content-Length: 0",
        ]
        return "\r\n".join(lines) + "\r\n\r\n", branch

    def request(
        self, method: str, uri: str, user: str, extra: list[str]
    ) -> tuple[int, str, dict[str, list[str]], float]:
        text, branch = self.message(method, uri, user, extra)
        start = time.monotonic()
        if self.transport == "udp":
            response = self._udp(text.encode(), branch)
        else:
            response = self._stream(text.encode(), branch)
        code, reason, headers = response
        return code, reason, headers, round((time.monotonic() - start) * 1000, 2)

    def _udp(self, data: bytes, branch: str) -> tuple[int, str, dict[str, list[str]]]:
        interval, deadline = 0.5, time.monotonic() + self.timeout * 2  # RFC 3261 timer A
        while time.monotonic() < deadline:
            self.sock.send(data)
            wait_until = min(deadline, time.monotonic() + interval)
            while (left := wait_until - time.monotonic()) > 0:
                kind, payload = wait_udp(self.sock, left)
                if kind == "icmp":
                    what, who = payload
                    raise SipError(f"{who} answered '{what}' for UDP {self.port}")
                if kind == "reply":
                    code, reason, headers = parse_response(payload.decode("utf-8", "replace"))
                    if branch in " ".join(headers.get("via", headers.get("v", []))) and code >= 200:
                        return code, reason, headers
            interval = min(interval * 2, 4.0)
        raise SipError(f"no SIP answer within {self.timeout * 2:g} s")

    def _stream(self, data: bytes, branch: str) -> tuple[int, str, dict[str, list[str]]]:
        self.sock.sendall(data)
        self.sock.settimeout(self.timeout * 2)
        while True:
            while b"\r\n\r\n" not in self.buffer:
                chunk = self.sock.recv(65535)
                if not chunk:
                    raise SipError("the server closed the connection")
                self.buffer += chunk
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            code, reason, headers = parse_response(head.decode("utf-8", "replace") + "\r\n\r\n")
            length = int((headers.get("content-length") or headers.get("l") or ["0"])[0])
            while len(rest) < length:
                rest += self.sock.recv(65535)
            self.buffer = rest[length:]
            if code >= 200 and branch in " ".join(headers.get("via", headers.get("v", []))):
                return code, reason, headers


def sip_checks(
    conf: dict[str, Any], address: str, user: str, password: str, timeout: float
) -> list[dict[str, Any]]:
    server, port = address, int(conf.get("port") or 5060)
    transport = str(conf.get("transport") or "udp")
    domain = str(conf.get("sip_domain") or conf["server"])
    out: list[dict[str, Any]] = []
    try:
        client = SipClient(server, port, transport, domain, timeout)
    except OSError as exc:
        return [
            check(
                "sip_port",
                False,
                f"cannot open {transport.upper()} {server}:{port}: {exc.strerror or exc}",
            ),
            check("sip_options", None, "not run: signalling port closed"),
            check("sip_register", None, "not run: signalling port closed"),
        ]
    try:
        try:
            code, reason, _h, ms = client.request(
                "OPTIONS", f"sip:{domain}", user, ["Accept: application/sdp"]
            )
        except (SipError, OSError) as exc:
            client_text = str(exc)
            out.append(
                check("sip_port", False, f"{transport.upper()} {server}:{port}: {client_text}")
            )
            out.append(check("sip_options", False, f"OPTIONS: {client_text}"))
            out.append(check("sip_register", None, "not run: no SIP answer"))
            return out
        out.append(check("sip_port", True, f"{transport.upper()} {server}:{port} answers"))
        out.append(
            check(
                "sip_options",
                200 <= code < 300,
                f"OPTIONS answered {code} {reason}",
                code=code,
                rtt_ms=ms,
            )
        )
        out.append(register(client, domain, user, password))
    finally:
        client.close()
    return out


def register(client: SipClient, domain: str, user: str, password: str) -> dict[str, Any]:
    uri = f"sip:{domain}"
    host, port = client.local[0], client.local[1]
    contact = f"Contact: <sip:{user}@{host}:{port};transport={client.transport}>"
    extra = [contact, "Expires: 60"]
    try:
        code, reason, headers, ms = client.request("REGISTER", uri, user, extra)
        authed = False
        if code in (401, 407):
            name = "www-authenticate" if code == 401 else "proxy-authenticate"
            if not password:
                return check(
                    "sip_register",
                    False,
                    f"REGISTER as {user}: {code} {reason}: the "
                    "server asks for a password and the site has none",
                    code=code,
                )
            challenge = parse_challenge(headers.get(name, [""])[0])
            header = "Authorization" if code == 401 else "Proxy-Authorization"
            auth = digest_authorization(
                challenge, "REGISTER", uri, user, password, secrets.token_hex(8)
            )
            extra = [*extra, f"{header}: {auth}"]
            code, reason, headers, ms2 = client.request("REGISTER", uri, user, extra)
            ms, authed = round(ms + ms2, 2), True
        if 200 <= code < 300:
            # Remove the test binding at once: the site's own client registers by itself.
            client.request("REGISTER", uri, user, [contact, "Expires: 0", *extra[2:]])
            how = "with digest authentication" if authed else "without authentication"
            return check(
                "sip_register",
                True,
                f"REGISTER as {user} accepted ({code}, {how})",
                code=code,
                rtt_ms=ms,
                authenticated=authed,
            )
        why = " (wrong password?)" if code in (401, 403, 407) and authed else ""
        return check("sip_register", False, f"REGISTER as {user}: {code} {reason}{why}", code=code)
    except (SipError, OSError) as exc:
        return check("sip_register", False, f"REGISTER as {user}: {exc}")


# Checks by group, for ``only`` (a partial recheck, or one Ansible task per check in bench/).
GROUPS = {
    "gateway": ("gateway",),
    "route": ("route", "dns"),
    "sip": ("sip_port", "sip_options", "sip_register"),
    "media": ("media", "clock"),
    "client": ("client_version", "client_config"),
}
MAGIC = b"CPRF"
HEADER = struct.Struct("!BBHII")  # RTP: V/P/X/CC, M/PT, sequence, timestamp, SSRC
PROBE = struct.Struct("!4sqq")  # magic, client send time (ns), reflector wall time (ns)
PROBE_MIN = HEADER.size + PROBE.size


# ------------------------------------------------------------------ addresses


def default_gateway(route_file: str = "/proc/net/route") -> str | None:
    for line in Path(route_file).read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[1] == "00000000" and int(fields[3], 16) & 0x2:
            return socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
    return None


def arp_complete(address: str, arp_file: str = "/proc/net/arp") -> bool:
    for line in Path(arp_file).read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == address and int(fields[2], 16) & 0x2:
            return True
    return False


# ------------------------------------------------------------------ gateway and route


def check_gateway(timeout: float) -> dict[str, Any]:
    gateway = default_gateway()
    if gateway is None:
        return check("gateway", False, "no default route on this endpoint")
    sock = udp_socket((gateway, 9))
    try:
        start = time.monotonic()
        sock.send(b"confprov gateway check")
        kind, _ = wait_udp(sock, min(timeout, 1.0))
        rtt = round((time.monotonic() - start) * 1000, 2)
    finally:
        sock.close()
    if kind == "icmp" or arp_complete(gateway):
        return check(
            "gateway",
            True,
            f"gateway {gateway} answers",
            gateway=gateway,
            rtt_ms=rtt if kind == "icmp" else None,
        )
    return check(
        "gateway", False, f"gateway {gateway} does not answer (no ARP reply)", gateway=gateway
    )


def probe_packet(seq: int, ssrc: int, size: int, sent_ns: int) -> bytes:
    head = HEADER.pack(0x80, 96, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc)
    body = PROBE.pack(MAGIC, sent_ns, 0)
    return head + body + b"\0" * max(0, size - PROBE_MIN)


def check_route(server: str, port: int, network: str, timeout: float) -> dict[str, Any]:
    """A probe to the reflector: any answer from the conference side proves the route."""
    try:
        sock = udp_socket((server, port))
    except OSError as exc:
        return check(
            "route",
            False,
            f"no route to the conference network {network} on this endpoint: {exc.strerror}",
        )
    try:
        for attempt in range(3):
            sock.send(probe_packet(attempt, 1, 64, time.monotonic_ns()))
            kind, data = wait_udp(sock, timeout / 2)
            if kind == "reply":
                return check("route", True, f"{server} answers through the network {network}")
            if kind == "icmp":
                what, who = data
                if who == server:
                    return check(
                        "route",
                        True,
                        f"{server} reached ({what} from it: the reflector may not run)",
                    )
                return check(
                    "route",
                    False,
                    f"no route to the conference network {network}: {who} answered '{what}'",
                    answered_by=who,
                )
    finally:
        sock.close()
    return check(
        "route",
        False,
        f"no answer from the conference network {network} "
        f"({server}:{port}) within {timeout * 1.5:g} s",
    )


def check_dns(server: str) -> tuple[dict[str, Any], str | None]:
    try:
        socket.inet_aton(server)
    except OSError:
        pass
    else:
        if server.count(".") == 3:
            return check("dns", None, f"{server} is an address: no name to resolve"), server
    start = time.monotonic()
    try:
        infos = socket.getaddrinfo(server, None, socket.AF_INET, socket.SOCK_DGRAM)
    except OSError as exc:
        return check("dns", False, f"cannot resolve {server}: {exc}"), None
    address = str(infos[0][4][0])
    ms = round((time.monotonic() - start) * 1000, 1)
    return check("dns", True, f"{server} is {address}", address=address, ms=ms), address


# ------------------------------------------------------------------ media path and clock


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))  # nearest rank
    return ordered[rank]


# Short windows of the probe, as Microsoft Teams states its network requirements ("< 1 % loss
# during any 15 s interval", "< 10 % during any 200 ms interval"): an average hides bursts.
LONG_WINDOW_NS = 15_000_000_000
BURST_WINDOW_NS = 200_000_000


def worst_window_loss(
    sent_ns: dict[int, int], seen: set[int], window_ns: int
) -> tuple[float, float]:
    """Worst loss (%) over any ``window_ns`` of send time, and the window used (s).

    Windows start at each packet's send time and must fit inside the probe; a probe shorter
    than the window is one window (the whole probe), so no partial window at its end inflates
    the figure.
    """
    times = sorted((t, seq in seen) for seq, t in sent_ns.items())
    if not times:
        return 100.0, 0.0
    step = (times[-1][0] - times[0][0]) / max(1, len(times) - 1)
    end = times[-1][0] + step  # when the last packet's slot ends
    if end - times[0][0] <= window_ns:
        lost = sum(not got for _t, got in times)
        return round(100 * lost / len(times), 2), round((end - times[0][0]) / 1e9, 3)
    worst, j, lost = 0.0, 0, 0
    for i, (start, _got) in enumerate(times):
        if start + window_ns > end:
            break
        while j < len(times) and times[j][0] < start + window_ns:
            lost += not times[j][1]
            j += 1
        worst = max(worst, lost / (j - i))
        lost -= not times[i][1]
    return round(100 * worst, 2), window_ns / 1e9


def media_stats(
    sent: int,
    sent_ns: dict[int, int],
    replies: list[tuple[int, int, int]],
    packet_bytes: int,
    span_ns: int,
) -> dict[str, Any]:
    """Statistics of a probe: ``replies`` are (sequence, arrival ns, reflector wall ns) in
    arrival order; ``sent_ns`` the send time of every sequence number."""
    seen: set[int] = set()
    rtts: list[float] = []
    jitter, last_transit, reordered, highest = 0.0, None, 0, -1
    for seq, arrival, _wall in replies:
        if seq in seen or seq not in sent_ns:
            continue  # a duplicate, or not ours
        seen.add(seq)
        transit = (arrival - sent_ns[seq]) / 1e6
        rtts.append(transit)
        if last_transit is not None:  # RFC 3550 6.4.1: J += (|D| - J) / 16
            jitter += (abs(transit - last_transit) - jitter) / 16
        last_transit = transit
        if seq < highest:
            reordered += 1
        highest = max(highest, seq)
    received = len(seen)
    out: dict[str, Any] = {
        "sent": sent,
        "received": received,
        "loss_pct": round(100 * (sent - received) / sent, 2) if sent else 100.0,
        "reordered_pct": round(100 * reordered / received, 2) if received else 0.0,
    }
    for key, window in (("loss_15s", LONG_WINDOW_NS), ("burst_200ms", BURST_WINDOW_NS)):
        worst, used = worst_window_loss(sent_ns, seen, window)
        out[f"{key}_pct"], out[f"{key}_window_s"] = worst, used
    if rtts:
        out.update(
            rtt_median_ms=round(statistics.median(rtts), 2),
            rtt_p95_ms=round(percentile(rtts, 95), 2),
            jitter_ms=round(jitter, 2),
            throughput_kbps=round(received * packet_bytes * 8 / (span_ns / 1e6), 1),
        )
    return out


def media_probe(
    server: str, port: int, bitrate_kbps: int, packet_bytes: int, duration_s: float
) -> tuple[dict[str, Any], list[tuple[int, int, int]], dict[int, int]]:
    size = max(PROBE_MIN, packet_bytes)
    interval_ns = int(size * 8 * 1e9 / (bitrate_kbps * 1000))
    count = max(1, int(duration_s * 1e9 // interval_ns))
    ssrc = secrets.randbits(32)
    sock = udp_socket((server, port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    sent_ns: dict[int, int] = {}
    replies: list[tuple[int, int, int]] = []
    start = time.monotonic_ns()
    seq, last_arrival = 0, start
    drain_until = None
    seen: set[int] = set()
    try:
        while True:
            now = time.monotonic_ns()
            if seq < count and now >= start + seq * interval_ns:
                stamp = time.monotonic_ns()
                with contextlib.suppress(OSError):  # an earlier packet's ICMP error: a loss
                    sock.send(probe_packet(seq, ssrc, size, stamp))
                sent_ns[seq] = stamp
                seq += 1
                continue
            if seq >= count and drain_until is None:
                drain_until = now + max(1_000_000_000, 4 * interval_ns)
            if drain_until is not None and (now >= drain_until or len(seen) >= count):
                break  # every packet is back, or the stragglers had their second
            wake = drain_until if drain_until is not None else start + seq * interval_ns
            for _fd, _ev in poller.poll(max(0, (wake - now) / 1e6)):
                while True:
                    try:
                        data = sock.recv(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        continue  # an ICMP error: the packet is lost, keep reading
                    arrival = time.monotonic_ns()
                    if len(data) >= PROBE_MIN and data[12:16] == MAGIC:
                        _h, _pt, rseq, _ts, rssrc = HEADER.unpack_from(data)
                        _m, _sent, wall = PROBE.unpack_from(data, HEADER.size)
                        if rssrc == ssrc:
                            replies.append((rseq, arrival, wall))
                            seen.add(rseq)
                            last_arrival = arrival
    finally:
        sock.close()
    # Sequence numbers wrap at 65536: unwrap by the send order (a probe sends < 65536 packets
    # in all usual profiles; beyond that, the modulo keeps the statistics approximate).
    stats = media_stats(
        count,
        {s & 0xFFFF: t for s, t in sent_ns.items()},
        replies,
        size,
        max(1, last_arrival - start),
    )
    stats.update(bitrate_kbps=bitrate_kbps, packet_bytes=size, duration_s=duration_s)
    return stats, replies, sent_ns


def clock_offset(
    replies: list[tuple[int, int, int]], sent_ns: dict[int, int], wall0_ns: int, mono0_ns: int
) -> tuple[float, float] | None:
    """The reflector's clock minus ours (ms) and its uncertainty, from the fastest reply."""
    best = None
    for seq, arrival, wall in replies:
        if seq not in sent_ns or not wall:
            continue
        rtt = arrival - sent_ns[seq]
        if best is None or rtt < best[0]:
            mid = wall0_ns + (sent_ns[seq] + arrival) / 2 - mono0_ns
            best = (rtt, (wall - mid) / 1e6)
    if best is None:
        return None
    return round(best[1], 2), round(best[0] / 2e6, 2)


# ------------------------------------------------------------------ the conference client


def check_client(package: str, version: str, config: str, user: str) -> list[dict[str, Any]]:
    try:
        proc = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", package],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except FileNotFoundError:
        found = None
    else:
        state, _, found = proc.stdout.strip().partition(" ")
        if proc.returncode != 0 or state != "installed":
            found = None
    if found is None:
        version_check = check(
            "client_version",
            False,
            f"client missing: package {package} is not installed",
            package=package,
            expected=version or None,
        )
    elif version and found != version:
        version_check = check(
            "client_version",
            False,
            f"{package} {found} installed, {version} pinned",
            package=package,
            found=found,
            expected=version,
        )
    else:
        pinned = "pinned" if version else "no version pinned"
        version_check = check(
            "client_version",
            True,
            f"{package} {found} ({pinned})",
            package=package,
            found=found,
            expected=version or None,
        )
    if not config:
        return [version_check, check("client_config", None, "no client config path given")]
    path = Path(config).expanduser()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return [
            version_check,
            check("client_config", False, f"{config}: {exc.strerror}", path=config),
        ]
    if f"sip:{user}@" in text or f"<sip:{user}@" in text:
        return [
            version_check,
            check("client_config", True, f"{config} has the account {user}", path=config),
        ]
    return [
        version_check,
        check(
            "client_config",
            False,
            f"{config} does not hold this site's account sip:{user}@…",
            path=config,
        ),
    ]


# ------------------------------------------------------------------ all checks


def media_checks(address: str, port: int, media: dict[str, Any]) -> list[dict[str, Any]]:
    """The media probe against the reflector, then the clock offset its replies give."""
    wall0, mono0 = time.time_ns(), time.monotonic_ns()
    stats, replies, sent_ns = media_probe(
        address,
        port,
        int(media["bitrate_kbps"]),
        int(media["packet_bytes"]),
        float(media["duration_s"]),
    )
    got = stats["received"]
    detail = (
        f"{got}/{stats['sent']} packets came back from the reflector"
        if got
        else f"no packet came back from the reflector {address}:{port}"
    )
    offset = clock_offset(replies, {s & 0xFFFF: t for s, t in sent_ns.items()}, wall0, mono0)
    clock = (
        check("clock", None, "not measured: no reflector reply")
        if offset is None
        else check(
            "clock",
            True,
            f"clock {offset[0]:+.1f} ms from the conference side (± {offset[1]:.1f} ms)",
            offset_ms=offset[0],
            uncertainty_ms=offset[1],
        )
    )
    return [check("media", got > 0, detail, **stats), clock]


def refused(names: Sequence[str], what: str, exc: OSError) -> list[dict[str, Any]]:
    """The endpoint's own network stack refused to send (e.g. ENOBUFS: its buffers or neighbour
    queue are full): each of ``names`` fails with that reason instead of the whole module."""
    reason = f"{what}: this endpoint could not send ({exc.strerror or exc})"
    return [check(name, False, reason) for name in names]


def run_checks(params: dict[str, Any]) -> dict[str, Any]:
    conf, media = params["conference"], params["media"]
    timeout = float(params.get("timeout") or 2.0)
    server = str(conf["server"])
    reflector_port = int(conf.get("reflector_port") or 50000)
    network = str(conf.get("network") or server)
    only = set(params.get("only") or ()) or set(GROUPS)
    checks: list[dict[str, Any]] = []
    if "gateway" in only:
        try:
            checks.append(check_gateway(timeout))
        except OSError as exc:
            checks.extend(refused(["gateway"], "gateway check", exc))
    dns, address = check_dns(server)
    route = None
    if "route" in only:
        try:
            route = check_route(address, reflector_port, network, timeout) if address else None
        except OSError as exc:
            route = refused(["route"], "route check", exc)[0]
        checks.append(route or check("route", None, "not run: the server's name does not resolve"))
        checks.append(dns)
    names = [n for group in ("sip", "media") if group in only for n in GROUPS[group]]
    if address is None or (route is not None and not route["ok"]):
        why = "not run: " + ("no route to the conference network" if address else "no address")
        checks.extend(check(name, None, why) for name in names)
    if address is not None and (route is None or route["ok"]) and "sip" in only:
        try:
            sip = sip_checks(
                conf,
                address,
                str(params["sip_user"]),
                str(params.get("sip_password") or ""),
                timeout,
            )
        except OSError as exc:
            sip = refused(GROUPS["sip"], "SIP check", exc)
        checks.extend(sip)
    if address is not None and (route is None or route["ok"]) and "media" in only:
        try:
            checks.extend(media_checks(address, reflector_port, media))
        except OSError as exc:
            checks.extend(refused(["media"], "media probe", exc))
            checks.append(check("clock", None, "not measured: no reflector reply"))
    if "client" in only:
        checks.extend(
            check_client(
                str(params.get("client_package") or "baresip"),
                str(params.get("client_version") or ""),
                str(params.get("client_config") or ""),
                str(params["sip_user"]),
            )
        )
    gateway = next((c["values"].get("gateway") for c in checks if c["name"] == "gateway"), None)
    return {
        "checks": checks,
        "host": {"gateway": gateway, "server_address": address},
    }


OPTIONS: dict[str, tuple[bool, Any]] = {
    # name: (required, default)
    "conference": (True, None),
    "media": (True, None),
    "sip_user": (True, None),
    "sip_password": (False, ""),
    "client_package": (False, "baresip"),
    "client_version": (False, ""),
    "client_config": (False, ""),
    "timeout": (False, 2.0),
    "only": (False, []),
}


def parse_args(raw: dict[str, Any]) -> dict[str, Any]:
    """The module's options from Ansible's JSON arguments, checked as DOCUMENTATION says."""
    unknown = sorted(k for k in raw if not k.startswith("_ansible_") and k not in OPTIONS)
    if unknown:
        raise ValueError(f"unsupported parameter(s): {', '.join(unknown)}")
    params: dict[str, Any] = {}
    for name, (required, default) in OPTIONS.items():
        value = raw.get(name)
        if value is None:
            if required:
                raise ValueError(f"missing required argument: {name}")
            value = default
        params[name] = value
    for name in ("conference", "media"):
        if not isinstance(params[name], dict):
            raise TypeError(f"{name} must be a mapping")
    for name in ("sip_user", "sip_password", "client_package", "client_version", "client_config"):
        params[name] = str(params[name])
    config = params["client_config"]
    if config:  # as Ansible's "path" type: variables, then ~
        params["client_config"] = str(Path(os.path.expandvars(config)).expanduser())
    params["timeout"] = float(params["timeout"])
    only = params["only"]
    if isinstance(only, str):
        only = [x.strip() for x in only.split(",") if x.strip()]
    bad = [x for x in only if x not in GROUPS]
    if bad:
        raise ValueError(f"only: {', '.join(bad)} not one of {', '.join(GROUPS)}")
    params["only"] = list(only)
    return params


# A "JSONARGS" module (Ansible's module architecture guide): Ansible writes the task's arguments
# in place of the marker below and runs this file with the endpoint's Python, without AnsiballZ
# or ansible.module_utils (one file, standard library only). Per endpoint that saves the
# AnsiballZ payload and the import of ansible.module_utils.basic (docs/verify.md).
ARGS = r"""<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"""


def main() -> None:
    try:
        result: dict[str, Any] = {"changed": False, **run_checks(parse_args(json.loads(ARGS)))}
    except (TypeError, ValueError) as exc:
        result = {"failed": True, "msg": f"confprov_check: {exc}"}
    except Exception as exc:  # noqa: BLE001 - reported per host, never a traceback
        result = {"failed": True, "msg": f"the check module failed: {type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
