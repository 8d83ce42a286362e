"""A router's candidate config: validated inputs in, the platform's template out.

Registry values reach a router's CLI here, so each is checked for the platform it goes to by the
rules of confprov/domain.py, the same functions registry ``check`` applies to every row: a
newline or control character is refused (it would end the command and start another), names are
transliterated to ASCII, then held to the platform's safe characters and length. Checked again
here even though the registry checks too: the module can be called by any playbook. An empty WAN
interface or gateway is omitted from the config (the domain says when a platform needs one).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

import jinja2

from confprov import domain
from confprov.exceptions import InputError
from confprov.routers.platforms import Platform, platform
from confprov.routers.settings import DEFAULTS

# Media ports the conference's clients use, split so audio and video can be marked apart
# (DSCP EF and AF41). Overridable per run (router_config_audio_ports / _video_ports).
AUDIO_PORTS = DEFAULTS.audio_ports
VIDEO_PORTS = DEFAULTS.video_ports
DESCRIPTION_PREFIX = domain.DESCRIPTION_PREFIX


@dataclass(frozen=True)
class RouterTarget:
    """One router as the inventory knows it, plus its credentials (never printed)."""

    host: str  # inventory name, e.g. cam-khe-rt
    address: str  # management address (ansible_host)
    platform: str
    site_name: str  # the site's name (any script: transliterated here)
    wan_interface: str
    wan_gateway: str
    username: str = ""
    password: str = field(default="", repr=False)
    port: int = 22
    # The operator's own lines for this router, in its platform's syntax (not registry data:
    # taken as written, like any config the operator types).
    extra_config: str = ""


@dataclass(frozen=True)
class Conference:
    network: str = ""
    server: str = ""
    port: int = 5060
    transport: str = "udp"
    ntp_server: str = ""
    reflector_port: int = 50000
    audio_ports: tuple[int, int] = AUDIO_PORTS
    video_ports: tuple[int, int] = VIDEO_PORTS

    @classmethod
    def from_vars(cls, data: dict[str, Any], **overrides: Any) -> Conference:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**{**known, **overrides})


def refuse(host: str, what: str, value: str, why: str) -> InputError:
    return InputError(f"router {host}: {what} {value!r}: {why}")


def safe_text(value: str, plat: Platform, *, host: str, what: str) -> str:
    """The description ``value`` gives (domain.description), or an error naming the router."""
    try:
        return domain.description(value, plat.name)
    except ValueError as exc:
        raise refuse(host, what, value, str(exc)) from None


def _network(value: str, host: str, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise refuse(host, what, value, "not a network in CIDR form") from None


def _gateway(value: str, host: str) -> str:
    if why := domain.gateway_error(value):
        raise refuse(host, "router_wan_gateway", value, why)
    return str(ipaddress.ip_address(value)) if value else ""


def _route(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> dict[str, Any]:
    return {
        "cidr": str(net),
        "address": str(net.network_address),
        "prefixlen": net.prefixlen,
        "netmask": str(net.netmask),
        "wildcard": str(net.hostmask),
        "host": net.prefixlen == net.max_prefixlen,
    }


def intent(target: RouterTarget, conference: Conference) -> dict[str, Any]:
    """Everything a template may use, each value already checked for ``target``'s platform."""
    plat = platform(target.platform)
    host = target.host
    for column, why in domain.router_row_errors(
        target.platform,
        target.site_name,
        target.wan_interface,
        target.wan_gateway,
        conference.network,
    ):
        what = "site name" if column == "name" else column
        value = target.site_name if column == "name" else getattr(target, column[len("router_") :])
        raise refuse(host, what, value, why)
    gateway = _gateway(target.wan_gateway, host)
    routes = []
    if conference.network:
        routes.append(_network(conference.network, host, "conference.network"))
    server = ""
    try:
        server = str(ipaddress.ip_address(conference.server))
    except ValueError:
        if conference.server and not domain.HOSTNAME.fullmatch(conference.server):
            raise refuse(host, "conference.server", conference.server, "not an address") from None
    if server and not any(ipaddress.ip_address(server) in net for net in routes):
        routes.append(_network(server, host, "conference.server"))
    ntp = conference.ntp_server
    if ntp and not domain.HOSTNAME.fullmatch(ntp):
        raise refuse(host, "conference.ntp_server", ntp, "not an address or host name")
    if not routes:
        raise refuse(
            host, "conference", conference.network, "no network and no server address to route to"
        )
    for name, (low, high) in (("audio", conference.audio_ports), ("video", conference.video_ports)):
        if not 0 < low <= high < 65536:
            raise refuse(host, f"{name} ports", f"{low}-{high}", "not a port range")
    description = safe_text(target.site_name, plat, host=host, what="site name")
    media = (
        min(conference.audio_ports[0], conference.video_ports[0]),
        max(conference.audio_ports[1], conference.video_ports[1]),
    )
    return {
        "platform": plat,
        "host": host,
        "description": description,
        "interface": target.wan_interface,
        "gateway": gateway,
        "routes": [_route(net) for net in routes],
        "destination": _route(routes[0]),  # where conference traffic goes, for ACLs
        "sip_port": conference.port,
        "sip_protocols": ["udp"] if conference.transport == "udp" else ["udp", "tcp"],
        "reflector_port": conference.reflector_port,
        "audio_ports": conference.audio_ports,
        "video_ports": conference.video_ports,
        "media_ports": media,
        "ntp_server": ntp,
    }


def _junos_quote(value: str) -> str:
    """Junos' `display set` quotes a value only when it holds a space."""
    return f'"{value}"' if " " in value else value


def _ros_quote(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9._/:-]+", value) else f'"{value}"'


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("confprov", "routers/templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # noqa: S701 - router CLI text, not HTML; values are checked in intent()
)
_ENV.filters["junos_quote"] = _junos_quote
_ENV.filters["ros_quote"] = _ros_quote


def render(target: RouterTarget, conference: Conference) -> str:
    """The candidate config text of ``target`` (in its platform's running-config form)."""
    data = intent(target, conference)
    text = _ENV.get_template(f"{target.platform}.j2").render(**data)
    if target.extra_config.strip():
        text += target.extra_config.rstrip("\n") + "\n"
    return text
