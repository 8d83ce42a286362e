"""The workspace's ``confprov.yml``: conference side, media, thresholds, client, package source.

Read strictly: an unknown key is an error (a typo would otherwise silently keep a default), and
every problem names the file, line and key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from confprov import safefile
from confprov.exceptions import InputError, Problem
from confprov.yamlutil import load_with_lines

CONFIG_NAME = "confprov.yml"
LEVELS = ("province", "district", "commune", "department")
TRANSPORTS = ("udp", "tcp", "tls")
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


@dataclass(frozen=True)
class Media:
    bitrate_kbps: int = 1500
    packet_bytes: int = 1200
    duration_s: int = 5


@dataclass(frozen=True)
class Thresholds:
    rtt_ms: float = 100.0
    jitter_ms: float = 30.0
    loss_pct: float = 1.0
    bandwidth_kbps: int = 1200
    clock_offset_ms: float = 500.0


@dataclass(frozen=True)
class Client:
    profile: str = "baresip"
    version: str = ""


@dataclass(frozen=True)
class PackageSource:
    url: str = ""
    kind: str = "apt"


@dataclass(frozen=True)
class Verify:
    # Probes at once; 0: as many as the conference uplink carries at the media bitrate.
    max_parallel_probes: int = 0


@dataclass(frozen=True)
class Config:
    conference: Conference
    province: str = ""
    registry: str = ""
    endpoint_user: str = "conf"
    ssh_private_key: str = ""  # relative to the workspace; empty: the SSH agent's or ssh's default
    media: Media = field(default_factory=Media)
    thresholds: Thresholds = field(default_factory=Thresholds)
    client: Client = field(default_factory=Client)
    package_source: PackageSource = field(default_factory=PackageSource)
    verify: Verify = field(default_factory=Verify)
    expected: dict[str, int] = field(default_factory=dict)
    lang: str = "vi"

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
}
_SCALARS = {
    "province": str,
    "registry": str,
    "endpoint_user": str,
    "ssh_private_key": str,
    "lang": str,
}


def _coerce(
    value: Any, want: type, *, path: str, line: int | None, key: str, problems: list[Problem]
) -> Any:
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
        want = {"str": str, "int": int, "float": float}[str(fields[key].type)]
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
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError([Problem(path, line, None, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise InputError([Problem(path, None, None, "must be a YAML mapping")])
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SECTIONS:
            kwargs[key] = _section(
                _SECTIONS[key], value, lines=lines, path=path, name=key, problems=problems
            )
        elif key in _SCALARS:
            kwargs[key] = _coerce(
                value, _SCALARS[key], path=path, line=lines.get(key), key=key, problems=problems
            )
        elif key == "expected":
            kwargs[key] = _expected(value, lines, path, problems)
        else:
            known = ", ".join([*_SECTIONS, *_SCALARS, "expected"])
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
    if config.lang not in LANGS:
        bad("lang", f"must be one of {', '.join(LANGS)}")
    if config.verify.max_parallel_probes < 0:
        bad("verify.max_parallel_probes", "must be 0 (derived from the uplink) or more")
    for key in ("bitrate_kbps", "packet_bytes", "duration_s"):
        if getattr(config.media, key) <= 0:
            bad(f"media.{key}", "must be positive")
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
