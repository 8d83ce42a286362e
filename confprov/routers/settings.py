"""The one settings object of a router run: workers, timeouts, the confirm window, media ports.

Every default lives here once. The CLI's options (confprov/routers/cli.py), the engine's
``Options`` and ``Timeouts``, ``check_routers`` and the candidate's port ranges derive from
:data:`DEFAULTS`; the role's ``defaults/main.yml`` and the ``router_config`` module's argument
spec are YAML and a literal Ansible reads without confprov, so a contract test holds them equal to
it (tests/unit/routers/test_routers_role.py) and fails when one drifts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from confprov.exceptions import InputError

MAX_CONNECT_ATTEMPTS = 5  # bounded: a dead router costs at most this many connect timeouts


@dataclass(frozen=True, kw_only=True)
class RouterSettings:
    """How a router run behaves (not which routers, nor what they get)."""

    workers: int = 50  # routers handled at once
    connect_timeout: float = 10.0  # TCP connect, SSH banner and login, each
    command_timeout: float = 30.0  # one command's output
    confirm_minutes: int = 5  # IOS revert timer / Junos commit confirmed
    # Attempts to open a router's session (tenacity, exponential backoff between them): a router
    # that did not answer is tried again, only ever before any line was sent to it.
    connect_attempts: int = 3
    # UDP port ranges of the conference's audio (DSCP EF) and video (AF41), low and high.
    audio_ports: tuple[int, int] = (16384, 24575)
    video_ports: tuple[int, int] = (24576, 32767)
    session_logs: bool = True  # one netmiko session log per router in the run folder
    # The operator's own lines per router host (or "all"), in the platform's syntax.
    extra_config: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.workers < 1 or self.connect_timeout <= 0 or self.command_timeout <= 0:
            raise InputError("--workers and the timeouts must be positive")
        if self.confirm_minutes < 1:
            raise InputError("--confirm-minutes must be at least 1")
        if not 1 <= self.connect_attempts <= MAX_CONNECT_ATTEMPTS:
            raise InputError(f"--connect-attempts must be 1 to {MAX_CONNECT_ATTEMPTS}")
        for name in ("audio_ports", "video_ports"):
            ports = getattr(self, name)
            if len(ports) != 2:
                raise InputError(f"{name}: give two ports, low and high")
            object.__setattr__(self, name, (int(ports[0]), int(ports[1])))

    @classmethod
    def from_role(cls, values: Mapping[str, Any], prefix: str = "") -> RouterSettings:
        """From the role's variables or the module's parameters (``prefix`` + field name)."""
        known = {f.name: values[prefix + f.name] for f in fields(cls) if prefix + f.name in values}
        return cls(**known)


DEFAULTS = RouterSettings()

# The role's variables (roles/router_config/defaults/main.yml) and the module's parameters that
# are settings: name in the role/module -> field here.
ROLE_PREFIX = "router_config_"
SHARED = (
    "workers",
    "connect_timeout",
    "command_timeout",
    "confirm_minutes",
    "connect_attempts",
    "audio_ports",
    "video_ports",
)
