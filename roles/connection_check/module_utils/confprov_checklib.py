# Copyright: confprov contributors. GNU General Public License v3.0+.
"""Shared pieces of confprov_check: check results, UDP with ICMP errors, and a small SIP client.

Standard library only. Ansible ships this file with the module (``ansible.module_utils``);
outside Ansible (unit tests, the raw-SSH floor of bench/verify.py) it loads as the plain module
``confprov_checklib``. It imports nothing from confprov_check.
"""

from __future__ import annotations

import hashlib
import secrets
import select
import socket
import ssl
import struct
import time
from typing import Any

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
