"""The workspace's ``confprov.yml``: conference side, media, thresholds, client, package source.

Read strictly: an unknown key is an error (a typo would otherwise silently keep a default), and
every problem names the file, line and key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from confprov import domain, safefile
from confprov.domain import LEVELS
from confprov.exceptions import InputError, Problem
from confprov.watch.probe import MIN_SIZE as PROBE_MIN
from confprov.yamlutil import invalid, load_with_lines

CONFIG_NAME = "confprov.yml"
TRANSPORTS = ("udp", "tcp", "tls")
# How Ansible reaches a Windows endpoint: OpenSSH (PowerShell shell), PSRP or WinRM.
WINDOWS_CONNECTIONS = ("ssh", "psrp", "winrm")
# Authentication of PSRP (ansible_psrp_auth) and WinRM (ansible_winrm_transport), Ansible's names.
WINDOWS_AUTH = ("negotiate", "ntlm", "kerberos", "basic", "certificate", "credssp")
LANGS = ("vi", "en")


@dataclass(frozen=True)
class Conference:
    server: str
    sip_domain: str
    transport: str = "udp"
    port: int = 5060
    network: str = ""  # the conference side's network (CIDR); routers get a route to it
    ntp_server: str = ""
    reflector_port: int = 50000
    uplink_kbps: int = 1_000_000
    management_address: str = ""  # where the controller reaches the conference host by SSH
    management_user: str = "root"
    room: str = ""  # the conference room (SIP user part) sites dial; shown on operator sheets


@dataclass(frozen=True)
class Media:
    bitrate_kbps: int = 1500
    packet_bytes: int = 1200
    duration_s: int = 5


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Limits of the verdict; ``profile`` names the set they start from (PROFILES)."""

    profile: str = "default"
    rtt_ms: float = 100.0
    jitter_ms: float = 30.0
    loss_pct: float = 1.0
    bandwidth_kbps: int = 1200
    clock_offset_ms: float = 500.0
    # Short windows of the media probe (docs/verify.md cites Microsoft Teams' figures).
    loss_15s_pct: float = 1.0  # worst loss over any 15 s of the probe
    burst_200ms_pct: float = 10.0  # worst loss over any 200 ms
    reorder_pct: float = 1.0
    # The estimated MOS (E-model) is informative; > 0 makes a lower estimate a warning.
    mos_min: float = 0.0

    @property
    def warn_only(self) -> tuple[str, ...]:
        """Checks that only warn (never fail) under this profile."""
        return PROFILES[self.profile][1]


# Named threshold profiles: values over the Thresholds defaults, and the checks that only warn.
# `default` is the verdict confprov always gave (short windows and reordering only warn);
# `strict` follows Microsoft Teams' network requirements, client to Microsoft edge
# (learn.microsoft.com/microsoftteams/prepare-network): < 100 ms round trip, < 30 ms jitter,
# < 1 % loss over any 15 s, < 10 % loss over any 200 ms, < 0.05 % reordering; all of them fail.
PROFILES: dict[str, tuple[dict[str, float], tuple[str, ...]]] = {
    "default": ({}, ("loss_15s", "burst_200ms", "reorder")),
    "strict": ({"reorder_pct": 0.05}, ()),
}


@dataclass(frozen=True)
class Client:
    profile: str = "baresip"
    version: str = ""


@dataclass(frozen=True)
class PackageSource:
    url: str = ""
    kind: str = "apt"


@dataclass(frozen=True)
class Support:
    """The technician operators call on the day (printed on every operator sheet)."""

    name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Windows:
    """Windows endpoints: their client profile and how Ansible reaches them (docs/windows.md)."""

    profile: str = "webex"  # confprov/provision/profiles/windows/<profile>.yml
    version: str = ""  # pinned ProductVersion of the MSI; empty: the profile's default_version
    packages: str = "packages/windows"  # the workspace's folder of Windows packages (MSI)
    web_url: str = ""  # the conference's web address (browser profile: shortcut, camera/mic)
    connection: str = "ssh"  # ssh (PowerShell shell), psrp or winrm
    port: int = 0  # 0: 22 for ssh, 5986 for psrp/winrm over https, 5985 over http
    scheme: str = "https"  # psrp/winrm: https or http
    auth: str = "ntlm"  # psrp/winrm: one of WINDOWS_AUTH
    cert_validation: str = "validate"  # psrp/winrm: validate (pinned CA) or ignore
    ca_cert: str = ""  # psrp/winrm: CA bundle of the endpoints' certificates, in the workspace


@dataclass(frozen=True)
class Verify:
    # Probes at once; 0: as many as the conference uplink carries at the media bitrate.
    max_parallel_probes: int = 0


def default_equipment() -> dict[str, list[str]]:
    """Every level needs everything the survey looks for: display, microphone, speaker, camera."""
    from confprov.provision.survey import NEEDS

    return {level: list(NEEDS) for level in LEVELS}


@dataclass(frozen=True)
class Watch:
    """``confprov watch``: probes, collector and the state machine (docs/watch.md)."""

    # No probe for longer than this: the site is down. 2.5 s, not 3: detection is the gap, less
    # the time since the last probe, plus one reading, and should stay within 3 s (docs/watch.md).
    gap_s: float = 2.5
    clean_s: float = 10.0  # back to up only after this long without a problem
    window_s: float = 30.0  # loss, jitter and round trip are judged over this window
    poll_s: float = 0.5  # how often the controller reads the collector
    probe_rate: float = 5.0  # probe packets per second per endpoint
    probe_bytes: int = 100  # size of one probe packet (UDP payload)
    collector_port: int = 50001  # UDP port of the collector beside the conference server
    query_port: int = 50002  # TCP port of the collector's JSON query (management address)
    sip_interval_s: float = 15.0  # SIP OPTIONS from each endpoint, this often
    router_interval_s: float = 30.0  # management reachability of every site router, this often
    router_port: int = 22  # TCP port tried on each router's management address
    router_parallel: int = 32  # router checks at once
    # Sites of one district (or two-tier group) share a line: all silent at once is one
    # `upstream` incident for that line, not one page per site.
    shared_uplink: bool = True


@dataclass(frozen=True, kw_only=True)
class Config:
    conference: Conference
    province: str = ""
    registry: str = ""
    registry_sheet: str = ""  # the worksheet of an .xlsx registry; empty: the first
    endpoint_user: str = "conf"
    ssh_private_key: str = ""  # relative to the workspace; empty: the SSH agent's or ssh's default
    execution_nodes: str = ""  # a nodes file, relative to the workspace (docs/nodes.md)
    media: Media = field(default_factory=Media)
    thresholds: Thresholds = field(default_factory=Thresholds)
    client: Client = field(default_factory=Client)
    package_source: PackageSource = field(default_factory=PackageSource)
    verify: Verify = field(default_factory=Verify)
    support: Support = field(default_factory=Support)
    windows: Windows = field(default_factory=Windows)
    # Per site (slug) or endpoint host: another windows.connection than the global one.
    windows_connections: dict[str, str] = field(default_factory=dict)
    watch: Watch = field(default_factory=Watch)
    expected: dict[str, int] = field(default_factory=dict)
    lang: str = "vi"
    # Room equipment required per level (the survey's NEEDS); a level left out needs them all.
    equipment: dict[str, list[str]] = field(default_factory=default_equipment)

    def as_vars(self) -> dict[str, Any]:
        """Plain data for group_vars: everything a role or check needs of the conference side."""
        return asdict(self)


_SECTIONS: dict[str, type] = {
    "conference": Conference,
    "media": Media,
    "thresholds": Thresholds,
    "client": Client,
    "package_source": PackageSource,
    "verify": Verify,
    "support": Support,
    "windows": Windows,
    "watch": Watch,
}
_SCALARS = {
    "province": str,
    "registry": str,
    "registry_sheet": str,
    "endpoint_user": str,
    "ssh_private_key": str,
    "execution_nodes": str,
    "lang": str,
}


def _coerce(
    value: Any, want: type, *, path: str, line: int | None, key: str, problems: list[Problem]
) -> Any:
    if want is bool:
        if isinstance(value, bool):
            return value
        problems.append(Problem(path, line, key, f"must be true or false, got {value!r}"))
        return None
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if want is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, want) or isinstance(value, bool):
        problems.append(Problem(path, line, key, f"must be {want.__name__}, got {value!r}"))
        return None
    return value


def _section(
    cls: Any, data: Any, *, lines: dict[str, int], path: str, name: str, problems: list[Problem]
) -> Any:
    if not isinstance(data, dict):
        problems.append(Problem(path, lines.get(name), name, "must be a mapping"))
        return None
    fields = {f.name: f for f in cls.__dataclass_fields__.values()}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{name}.{key}"
        if key not in fields:
            known = ", ".join(fields)
            problems.append(Problem(path, lines.get(full), full, f"unknown key (known: {known})"))
            continue
        want = {"str": str, "int": int, "float": float, "bool": bool}[str(fields[key].type)]
        coerced = _coerce(value, want, path=path, line=lines.get(full), key=full, problems=problems)
        if coerced is not None:
            kwargs[key] = coerced
    try:
        return cls(**kwargs)
    except TypeError as exc:
        problems.append(Problem(path, lines.get(name), name, f"missing key: {exc}"))
        return None


def parse_config(text: str, path: str) -> Config:
    """Parse ``confprov.yml`` text; raise InputError listing every problem."""
    problems: list[Problem] = []
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        raise InputError([invalid(exc, path)]) from None
    if not isinstance(data, dict):
        raise InputError([Problem(path, None, None, "must be a YAML mapping")])
    _refuse_templates(data, "", lines, path, problems)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SECTIONS:
            given = value
            if key == "thresholds" and isinstance(value, dict):
                given = _with_profile(value, lines, path, problems)
            kwargs[key] = _section(
                _SECTIONS[key], given, lines=lines, path=path, name=key, problems=problems
            )
        elif key in _SCALARS:
            kwargs[key] = _coerce(
                value, _SCALARS[key], path=path, line=lines.get(key), key=key, problems=problems
            )
        elif key in _MAPPINGS:
            kwargs[key] = _MAPPINGS[key](value, lines, path, problems)
        else:
            known = ", ".join([*_SECTIONS, *_SCALARS, *_MAPPINGS])
            problems.append(Problem(path, lines.get(key), key, f"unknown key (known: {known})"))
    if "conference" not in data:
        problems.append(
            Problem(path, None, "conference", "missing: the conference side (server, sip_domain)")
        )
    config = None
    if "conference" in data and all(v is not None for v in kwargs.values()):
        # Unknown keys were skipped: the values still get checked, so all is reported at once.
        config = Config(**kwargs)
        problems.extend(_check_values(config, lines, path))
    if problems or config is None:
        raise InputError(problems)
    return config


def _refuse_templates(
    value: Any, key: str, lines: dict[str, int], path: str, problems: list[Problem]
) -> None:
    """Template markers in any value are refused, as in registry cells (domain.template_error):
    the values reach Ansible's variables, which Ansible templates again at every play."""
    if isinstance(value, dict):
        for name, item in value.items():
            full = f"{key}.{name}" if key else str(name)
            if why := domain.template_error(str(name)):
                problems.append(Problem(path, lines.get(full), full, f"key {why}"))
            _refuse_templates(item, full, lines, path, problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_templates(item, f"{key}[{index}]", lines, path, problems)
    elif isinstance(value, str) and (why := domain.template_error(value)):
        problems.append(Problem(path, lines.get(key), key or None, why))


def _expected(
    value: Any, lines: dict[str, int], path: str, problems: list[Problem]
) -> dict[str, int]:
    if not isinstance(value, dict):
        problems.append(Problem(path, lines.get("expected"), "expected", "must be a mapping"))
        return {}
    out: dict[str, int] = {}
    for level, count in value.items():
        key = f"expected.{level}"
        if level not in (*LEVELS, "total"):
            problems.append(
                Problem(
                    path, lines.get(key), key, f"unknown level (known: {', '.join(LEVELS)}, total)"
                )
            )
        elif not isinstance(count, int) or isinstance(count, bool) or count < 0:
            problems.append(Problem(path, lines.get(key), key, "must be a whole number ≥ 0"))
        else:
            out[str(level)] = count
    return out


def _with_profile(
    value: dict[str, Any], lines: dict[str, int], path: str, problems: list[Problem]
) -> dict[str, Any]:
    """The named profile's values first, then the keys written beside it."""
    name = value.get("profile", "default")
    if name not in PROFILES:
        problems.append(
            Problem(
                path,
                lines.get("thresholds.profile"),
                "thresholds.profile",
                f"unknown profile {name!r} (known: {', '.join(PROFILES)})",
            )
        )
        return {k: v for k, v in value.items() if k != "profile"}
    return {**PROFILES[str(name)][0], **value}


def _equipment(
    value: Any, lines: dict[str, int], path: str, problems: list[Problem]
) -> dict[str, list[str]]:
    from confprov.provision.survey import NEEDS

    out = default_equipment()
    if not isinstance(value, dict):
        problems.append(Problem(path, lines.get("equipment"), "equipment", "must be a mapping"))
        return out
    for level, needs in value.items():
        key = f"equipment.{level}"
        if level not in LEVELS:
            problems.append(
                Problem(path, lines.get(key), key, f"unknown level (known: {', '.join(LEVELS)})")
            )
            continue
        items = needs if isinstance(needs, list) else None
        bad = [n for n in items or [] if n not in NEEDS]
        if items is None or bad:
            what = f"unknown: {', '.join(map(str, bad))}; " if bad else ""
            problems.append(
                Problem(path, lines.get(key), key, f"{what}a list of: {', '.join(NEEDS)} (or [])")
            )
            continue
        out[str(level)] = [str(n) for n in items]
    return out


def _windows_connections(
    value: Any, lines: dict[str, int], path: str, problems: list[Problem]
) -> dict[str, str]:
    key = "windows_connections"
    if not isinstance(value, dict):
        problems.append(Problem(path, lines.get(key), key, "must be a mapping: site -> connection"))
        return {}
    out: dict[str, str] = {}
    for site, connection in value.items():
        if connection not in WINDOWS_CONNECTIONS:
            problems.append(
                Problem(
                    path,
                    lines.get(f"{key}.{site}"),
                    f"{key}.{site}",
                    f"must be one of {', '.join(WINDOWS_CONNECTIONS)}",
                )
            )
        else:
            out[str(site)] = str(connection)
    return out


def _check_values(config: Config, lines: dict[str, int], path: str) -> list[Problem]:
    problems: list[Problem] = []
    conf = config.conference

    def bad(key: str, message: str) -> None:
        problems.append(Problem(path, lines.get(key), key, message))

    if conf.transport not in TRANSPORTS:
        bad("conference.transport", f"must be one of {', '.join(TRANSPORTS)}")
    if not 0 < conf.port < 65536:
        bad("conference.port", "must be a port number 1-65535")
    if not 0 < conf.reflector_port < 65536:
        bad("conference.reflector_port", "must be a port number 1-65535")
    if conf.network:
        try:
            ipaddress.ip_network(conf.network, strict=False)
        except ValueError:
            bad("conference.network", f"not a network in CIDR form: {conf.network!r}")
    _check_windows(config.windows, bad)
    if config.lang not in LANGS:
        bad("lang", f"must be one of {', '.join(LANGS)}")
    if config.verify.max_parallel_probes < 0:
        bad("verify.max_parallel_probes", "must be 0 (derived from the uplink) or more")
    for key in ("loss_15s_pct", "burst_200ms_pct", "reorder_pct", "mos_min"):
        if getattr(config.thresholds, key) < 0:
            bad(f"thresholds.{key}", "must be 0 or more")
    problems.extend(_check_watch(config.watch, lines, path))
    for key in ("bitrate_kbps", "packet_bytes", "duration_s"):
        if getattr(config.media, key) <= 0:
            bad(f"media.{key}", "must be positive")
    return problems


def _check_windows(win: Windows, bad: Callable[[str, str], None]) -> None:
    for key, value, allowed in (
        ("connection", win.connection, WINDOWS_CONNECTIONS),
        ("scheme", win.scheme, ("https", "http")),
        ("auth", win.auth, WINDOWS_AUTH),
        ("cert_validation", win.cert_validation, ("validate", "ignore")),
    ):
        if value not in allowed:
            bad(f"windows.{key}", f"must be one of {', '.join(allowed)}")
    if not 0 <= win.port < 65536:
        bad("windows.port", "must be 0 (the connection's default) or a port number 1-65535")


# Top-level keys whose value is a mapping of their own, each with its parser.
_MAPPINGS: dict[str, Callable[[Any, dict[str, int], str, list[Problem]], Any]] = {
    "expected": _expected,
    "equipment": _equipment,
    "windows_connections": _windows_connections,
}


def _check_watch(watch: Watch, lines: dict[str, int], path: str) -> list[Problem]:
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(path, lines.get(f"watch.{key}"), f"watch.{key}", message))

    for key in ("gap_s", "clean_s", "window_s", "poll_s", "probe_rate", "sip_interval_s"):
        if getattr(watch, key) <= 0:
            bad(key, "must be positive")
    for key in ("router_interval_s", "router_parallel"):
        if getattr(watch, key) < 1:
            bad(key, "must be at least 1")
    for key in ("collector_port", "query_port", "router_port"):
        if not 0 < getattr(watch, key) < 65536:
            bad(key, "must be a port number 1-65535")
    if not PROBE_MIN <= watch.probe_bytes <= 1400:
        bad("probe_bytes", f"must be {PROBE_MIN}-1400 (one unfragmented packet)")
    if watch.gap_s <= 0:
        return problems
    if watch.poll_s > watch.gap_s:
        bad("poll_s", f"must not exceed watch.gap_s ({watch.gap_s:g}): outages would be missed")
    if watch.probe_rate * watch.gap_s < 3:
        bad("probe_rate", "too slow for watch.gap_s: at least 3 probes must fit in the gap")
    return problems


def load_config(workspace: Path) -> Config:
    path = workspace / CONFIG_NAME
    if not path.exists():
        raise InputError(
            [
                Problem(
                    str(path), None, None, "not found: run `confprov init DIR` to make a workspace"
                )
            ]
        )
    try:
        text = safefile.read_input(path, "workspace settings").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(str(path), None, None, f"not UTF-8: {exc}")]) from None
    return parse_config(text, str(path))
