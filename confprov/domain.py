"""The domain's vocabulary and its text rules, defined once: site levels, router platforms, and
what a registry value may hold to reach a router's config.

Registry ``check`` (confprov/registry.py) and router ``render`` (confprov/routers/render.py) both
call the functions here, so whatever a later command would refuse about a registry row, ``check``
has refused first with the file, line and field. config.py, selection.py, the lab plan,
the router platforms table and the ``router_config`` module's choices derive from these tuples
(or a test holds them equal: tests/unit/test_domain.py).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from confprov.slugs import ascii_fold, nfc

# --------------------------------------------------------------------------- site levels

# Since 1 July 2025 Vietnam's local government has two tiers: the province and its commune-level
# units (xã, phường, đặc khu). Registries of the three-tier shape (with districts, huyện) stay
# valid: archives, rehearsals, other hierarchies. The order is the order host names are derived in
# (a district before its communes) and the order summaries list levels.
LEVELS = ("province", "district", "commune", "ward", "special_zone", "department")
COMMUNE_LEVELS = ("commune", "ward", "special_zone")  # commune-level units: district or province
LEVEL_NAMES_VI = {
    "province": "tỉnh",
    "district": "huyện",
    "commune": "xã",
    "ward": "phường",
    "special_zone": "đặc khu",
    "department": "sở",
}
# The levels a site's parent may have; the first is what an empty ``parent`` cannot stand for
# when the registry has districts (see registry.py: a mix of the two shapes is refused).
PARENT_LEVELS: dict[str, tuple[str, ...]] = {
    "province": (),
    "district": ("province",),
    "department": ("province",),
    **dict.fromkeys(COMMUNE_LEVELS, ("district", "province")),
}


def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for level, vi in LEVEL_NAMES_VI.items():
        for word in (vi, ascii_fold(vi), level.replace("_", " "), level.replace("_", "-")):
            for form in (word, word.replace(" ", "_"), word.replace(" ", "-")):
                out[form.casefold()] = level
    out.update({"special zone": "special_zone", "đặc_khu": "special_zone"})
    return out


LEVEL_ALIASES = _aliases()


def level_of(text: str) -> str:
    """The level ``text`` names (English or Vietnamese, any case), or "" when none."""
    word = " ".join(nfc(text).casefold().split())
    level = LEVEL_ALIASES.get(word, word)
    return level if level in LEVELS else ""


def level_help() -> str:
    return ", ".join(f"{level} ({LEVEL_NAMES_VI[level]})" for level in LEVELS)


# --------------------------------------------------------------------------- router platforms

# Characters a router description may hold everywhere: ASCII letters, digits, space and a few
# marks no platform's CLI treats specially. Quotes, '?', '!', '#', ';', '$', '{', '}', '[', ']',
# '|', '&', '<', '>' and '\' are out: each is a comment, help, separator, variable or block marker
# on some platform. Names are transliterated to ASCII first ("Cẩm Khê" → "Cam Khe").
DESCRIPTION_CHARSET = r"A-Za-z0-9 ._,()/:+-"
# Marks real unit names hold that no platform needs, made harmless instead of refused: the
# apostrophe of ethnic-minority place names ("Cư M'gar", "Đắk R'Lấp") is dropped, "&" ("Sở Tài
# nguyên & Môi trường") becomes "+". Separators and comment leaders stay refused.
_DESCRIPTION_MAP = str.maketrans({"'": None, "\u2019": None, "`": None, "&": "+"})
DESCRIPTION_PREFIX = "confprov "


@dataclass(frozen=True)
class PlatformRules:
    """What a registry row must hold for a router of one platform.

    Both WAN fields are optional on every platform: without a gateway the config has no static
    routes (the router's own routing reaches the conference network), without an interface no
    description and no marking policy bound to it (FRR's candidate may then be empty: nothing
    for confprov to change there).
    """

    description_max: int  # longer descriptions are cut (not refused): the name is for humans
    description_charset: str = DESCRIPTION_CHARSET


ROUTER_PLATFORMS: dict[str, PlatformRules] = {
    "frr": PlatformRules(200),
    "cisco_ios": PlatformRules(200),  # IOS allows 240
    "huawei_vrp": PlatformRules(200),  # VRP allows 242
    "mikrotik_routeros": PlatformRules(120),
    "juniper_junos": PlatformRules(200),
}
PLATFORMS = tuple(ROUTER_PLATFORMS)

# --------------------------------------------------------------------------- text rules

# Line breaks and other control characters end a CLI command (and start another) or a YAML/CSV
# line; zero-width and bidirectional controls make a name read differently than it is.
CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]"
)
TEMPLATE = re.compile(r"\{\{|\{%|\{#")
INTERFACE = re.compile(r"^[A-Za-z0-9/._:-]{1,64}$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
# A login name (an endpoint's user, an execution node's user): what useradd takes, '.' included.
LOGIN = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")


def template_error(value: str) -> str | None:
    """Why ``value`` would be code, not data, where Ansible templates it again, or None.

    Ansible templates every string variable it reads: a ``{{ lookup('pipe', …) }}`` in a
    registry cell or a ``confprov.yml`` value would run on the controller at the next play.
    """
    if TEMPLATE.search(value):
        return "holds '{{', '{%' or '{#' (template markers are not allowed)"
    return None


def text_error(value: str) -> str | None:
    """Why ``value`` cannot be data anywhere (a config, a template, a file), or None."""
    if CONTROL.search(value):
        return "holds a line break or control character (a tab too); remove it"
    return template_error(value)


def comment_text(value: str) -> str:
    """``value`` made safe for one comment line of a rendered file (a file name, a path).

    A line break in a file name would end the comment and start a line of YAML or config;
    every control character is shown as ``?`` and template markers are broken up.
    """
    return TEMPLATE.sub(lambda m: m.group(0)[0] + " " + m.group(0)[1], CONTROL.sub("?", value))


# --------------------------------------------------------------------------- SIP clients

# The site's name is the display name of its SIP account ("UBND xã Yên Tập" <sip:…>) in every
# client profile (confprov/provision/profiles/*.yml): baresip's accounts line and Linphone's
# reg_identity quote it. A quote ends the quoted string, '<' '>' start or end the address, ';'
# starts a parameter (baresip: ``;auth_pass=`` of the account, where it would take effect) and
# '\' escapes the next character. RFC 3261 lets a quoted string escape a quote, but the clients'
# parsers differ in whether they undo it, so such names are refused, not escaped.
SIP_DISPLAY_FORBIDDEN = '"<>;\\'


def sip_display_error(name: str) -> str | None:
    """Why ``name`` cannot be a SIP display name in the client configs, or None."""
    bad = sorted({c for c in name if c in SIP_DISPLAY_FORBIDDEN})
    if bad:
        return (
            f"holds {' '.join(bad)}, which would change the site's SIP account line in the "
            "client's config (quotes, < > ; and \\ are not allowed in a name)"
        )
    return None


# --------------------------------------------------------------------------- inventory names

# Names confprov or Ansible give to hosts and groups of every rendered inventory; a site's host
# name equal to one would merge two things in Ansible's host patterns ("conference" names the
# group, "localhost" the controller itself). Site host names are slugs (lower-case letters,
# digits, '-', '.'), so the prefixed group names (site_…, level_…, os_…) cannot collide.
CONFERENCE_HOST = "conference-server"
INVENTORY_GROUPS = ("endpoints", "routers", "conference")
RESERVED_HOSTS: dict[str, str] = {
    CONFERENCE_HOST: "confprov's host name for the conference side (conference.management_address)",
    "localhost": "Ansible's name for the controller itself",
    "all": "Ansible's group of every host",
    "ungrouped": "Ansible's group of hosts in no other group",
    **{g: f"the name of confprov's inventory group {g!r}" for g in INVENTORY_GROUPS},
}


def reserved_host_error(host: str) -> str | None:
    """Why ``host`` cannot be a site's inventory host name, or None."""
    if why := RESERVED_HOSTS.get(host):
        return f"host name {host!r} is reserved: {why}; give the site another id"
    return None


# --------------------------------------------------------------------------- addresses

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_LOOKS_NUMERIC = re.compile(r"^[0-9.]+$")


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def address_key(value: str) -> str:
    """``value`` as it compares with other addresses: an IP in its one canonical form
    (``2001:DB8:0::1`` and ``2001:db8::1`` are one address), a host name case-folded."""
    address = _ip(value)
    return address.compressed if address is not None else value.casefold().rstrip(".")


def _ip_use_error(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _ip_use_error(mapped)
    for what, hit in (
        ("a loopback address (the controller itself)", address.is_loopback),
        ("the unspecified address", address.is_unspecified),
        ("a multicast address", address.is_multicast),
        ("the broadcast address", address == ipaddress.IPv4Address("255.255.255.255")),
        (
            "a link-local address (not reachable from the controller's network)",
            address.is_link_local,
        ),
        ("a reserved address", address.is_reserved),
    ):
        if hit:
            return f"{what}: give the device's own management address"
    return None


def address_error(value: str) -> str | None:
    """None when ``value`` can be an endpoint's or router's address (an IP address or a host
    name that can be a device); else why not.

    Loopback, unspecified, multicast, broadcast, link-local and reserved addresses are refused
    (also as IPv4-mapped IPv6): a controller must never target itself or a whole network by a
    typo. A scope id (``fe80::1%eth0``) carries any text and is refused.
    """
    address = _ip(value)
    if address is not None:
        if getattr(address, "scope_id", None):
            return f"not a plain IP address {value!r} (a scope id '%…' is not taken)"
        if why := _ip_use_error(address):
            return f"{value!r} is {why}"
        return None
    return _host_name_error(value)


def _host_name_error(value: str) -> str | None:
    if _LOOKS_NUMERIC.match(value) or ":" in value:
        return f"invalid IP address {value!r}"
    if len(value) > 253 or not all(_HOST_LABEL.match(p) for p in value.rstrip(".").split(".")):
        return f"invalid host name {value!r} (letters, digits, '-' and '.' only)"
    name = value.casefold().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return f"{value!r} is the controller itself (localhost): give the device's address"
    return None


def rules(platform: str) -> PlatformRules:
    """The rules of a known platform (``KeyError`` for an unknown one: check that first)."""
    return ROUTER_PLATFORMS[platform]


def platform_error(platform: str) -> str | None:
    if not platform:
        return f"missing: the router's platform ({', '.join(PLATFORMS)})"
    if platform not in ROUTER_PLATFORMS:
        return f"unknown platform {platform!r} (use: {', '.join(PLATFORMS)})"
    return None


def interface_error(value: str) -> str | None:
    """None for an empty (omitted) or valid interface name; else why not."""
    if value and not INTERFACE.fullmatch(value):
        return f"not an interface name {value!r} (letters, digits, '/', '.', '_', ':', '-')"
    return None


def gateway_error(value: str) -> str | None:
    """None for an empty (omitted) or plain IP address; else why not.

    A scope id (``fe80::1%eth0``) is refused: Python's ``ipaddress`` takes any text after ``%``,
    and a next hop in a static route is an address.
    """
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return f"not an IP address {value!r}"
    if getattr(address, "scope_id", None):
        return f"not a plain IP address {value!r} (a scope id '%…' is not taken)"
    return None


@functools.cache
def _outside(charset: str) -> re.Pattern[str]:
    return re.compile(f"[^{charset}]")


def description(name: str, platform: str) -> str:
    """The router description for a site name on ``platform``; ``ValueError`` says why not."""
    if why := text_error(name):
        raise ValueError(why)
    plat = rules(platform)
    text = " ".join(ascii_fold(DESCRIPTION_PREFIX + name).translate(_DESCRIPTION_MAP).split())
    if _outside(plat.description_charset).search(text):
        bad = sorted(set(re.sub(f"[{plat.description_charset}]", "", text)))
        raise ValueError(
            f"holds {''.join(bad)!r}, not allowed in a {platform} config "
            "(letters, digits, space and . _ , ( ) / : + - only)"
        )
    return text[: plat.description_max].rstrip()


def gateway_family_error(gateway: str, network: str) -> str | None:
    """None unless ``gateway`` and the conference ``network`` are of different IP versions.

    The route to the conference network goes through the WAN gateway: an IPv4 route with an
    IPv6 next hop (or the reverse) is a config every platform refuses. An empty or invalid
    value is left to its own check.
    """
    try:
        hop = ipaddress.ip_address(gateway)
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        return None
    if hop.version == net.version:
        return None
    return (
        f"an IPv{hop.version} gateway {gateway!r} cannot carry the route to the IPv{net.version} "
        f"conference.network {network}: give an IPv{net.version} gateway (or leave it empty)"
    )


def router_row_errors(
    platform: str, site_name: str, wan_interface: str, wan_gateway: str, network: str = ""
) -> list[tuple[str, str]]:
    """Every ``(field, why)`` that would make ``render`` refuse this router: the one definition
    ``check`` and ``render`` share (``network``: confprov.yml's conference.network)."""
    errors: list[tuple[str, str]] = []
    if why := platform_error(platform):
        return [("router_platform", why)]
    if why := interface_error(wan_interface):
        errors.append(("router_wan_interface", why))
    if why := gateway_error(wan_gateway) or gateway_family_error(wan_gateway, network):
        errors.append(("router_wan_gateway", why))
    try:
        description(site_name, platform)
    except ValueError as exc:
        errors.append(("name", f"as the {platform} router's description: {exc}"))
    return errors
