#!/usr/bin/python3
# Copyright: confprov contributors. GNU General Public License v3.0+.
# ruff: noqa: E402 - Ansible modules put DOCUMENTATION, EXAMPLES and RETURN before the imports
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
    round trip), loss, reordering and the throughput that came back.
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
    values: {description: measured values (ms, %, kbit/s), type: dict}
host:
  description: Address facts used by the checks (gateway, source address).
  returned: always
  type: dict
"""

import contextlib
import math
import secrets
import select
import socket
import statistics
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

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
try:
    from ansible.module_utils.confprov_checklib import (
        check,
        sip_checks,
        udp_socket,
        wait_udp,
    )
except ImportError:  # outside Ansible (unit tests, the raw-SSH floor): a plain module
    from confprov_checklib import check, sip_checks, udp_socket, wait_udp  # type: ignore[no-redef]


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
            wake = drain_until if seq >= count else start + seq * interval_ns
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


def run_checks(params: dict[str, Any]) -> dict[str, Any]:
    conf, media = params["conference"], params["media"]
    timeout = float(params.get("timeout") or 2.0)
    server = str(conf["server"])
    reflector_port = int(conf.get("reflector_port") or 50000)
    network = str(conf.get("network") or server)
    only = set(params.get("only") or ()) or set(GROUPS)
    checks: list[dict[str, Any]] = []
    if "gateway" in only:
        checks.append(check_gateway(timeout))
    dns, address = check_dns(server)
    route = None
    if "route" in only:
        route = check_route(address, reflector_port, network, timeout) if address else None
        checks.append(route or check("route", None, "not run: the server's name does not resolve"))
        checks.append(dns)
    names = [n for group in ("sip", "media") if group in only for n in GROUPS[group]]
    if address is None or (route is not None and not route["ok"]):
        why = "not run: " + ("no route to the conference network" if address else "no address")
        checks.extend(check(name, None, why) for name in names)
    if address is not None and (route is None or route["ok"]) and "sip" in only:
        checks.extend(
            sip_checks(
                conf,
                address,
                str(params["sip_user"]),
                str(params.get("sip_password") or ""),
                timeout,
            )
        )
    if address is not None and (route is None or route["ok"]) and "media" in only:
        wall0, mono0 = time.time_ns(), time.monotonic_ns()
        stats, replies, sent_ns = media_probe(
            address,
            reflector_port,
            int(media["bitrate_kbps"]),
            int(media["packet_bytes"]),
            float(media["duration_s"]),
        )
        got = stats["received"]
        detail = (
            f"{got}/{stats['sent']} packets came back from the reflector"
            if got
            else f"no packet came back from the reflector {address}:{reflector_port}"
        )
        checks.append(check("media", got > 0, detail, **stats))
        offset = clock_offset(replies, {s & 0xFFFF: t for s, t in sent_ns.items()}, wall0, mono0)
        checks.append(
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


def main() -> None:
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(
        argument_spec={
            "conference": {"type": "dict", "required": True},
            "media": {"type": "dict", "required": True},
            "sip_user": {"type": "str", "required": True},
            "sip_password": {"type": "str", "default": "", "no_log": True},
            "client_package": {"type": "str", "default": "baresip"},
            "client_version": {"type": "str", "default": ""},
            "client_config": {"type": "path", "default": ""},
            "timeout": {"type": "float", "default": 2.0},
            "only": {"type": "list", "elements": "str", "default": [], "choices": list(GROUPS)},
        },
        supports_check_mode=True,
    )
    try:
        result = run_checks(module.params)
    except Exception as exc:  # noqa: BLE001 - reported per host, never a traceback
        module.fail_json(msg=f"the check module failed: {type(exc).__name__}: {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
