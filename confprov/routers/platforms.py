"""What differs between router platforms: driver, syntax, errors, commit style, safe characters.

One table, so adding a platform is one entry here, one in confprov/domain.py (its name and text
rules, which registry ``check`` applies too), one template and one golden file (and, for what a
platform prints or accepts differently, a Dialect in configdiff.py). Only ``frr`` is exercised
against real routers (the lab); the others follow their vendors' documented CLI and are tested
against fake devices applying vendor semantics to recorded running configs
(tests/unit/routers/fakedevice.py, fixtures/) with hier_config as an oracle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from confprov import domain
from confprov.exceptions import InputError


@dataclass(frozen=True)
class Platform:
    name: str
    device_type: str  # netmiko's driver
    syntax: str  # "tree" (indented blocks), "set" (Junos set lines), "routeros" (/path verb args)
    show_running: str  # the command whose output is backed up and diffed
    # A line of device output matching this means the device refused a command. netmiko's own
    # default detects nothing, so a refused line would otherwise pass silently.
    error_pattern: str
    negate: str  # prefix that removes a line ("no ", "undo ", "delete "); "" for RouterOS
    exit_block: str  # leaves one level of a block ("exit", "quit"); "" for flat syntaxes
    commit: str  # "immediate" (the running config is live at once) or "confirmed" (Junos)
    revert: str  # how a failed push is undone, said to the operator
    qos: bool  # the platform marks DSCP in its own config
    acl: bool  # the platform holds a packet access list in its own config
    ntp: bool  # the platform's own config holds the NTP server
    # Lines of the running config that change without anyone configuring anything (timestamps):
    # they are neither backed up as a difference nor diffed.
    volatile: str = (
        r"^(Building configuration|Current configuration|! Last configuration change"
        r"|! NVRAM config last updated|! No configuration change since last restart)"
    )
    save: bool = True  # the running config must be saved to survive a reboot
    # The save as one plain command, when the platform needs no confirmation (saves netmiko's
    # save_config() its extra enable-mode round trip); "" uses netmiko's save_config().
    save_command: str = ""
    save_ok: str = r"\[OK\]|saved|successfully|bytes copied"  # what a good save prints
    # A config mode that reverts on its own unless confirmed (IOS: needs the block named in
    # ``prelude``, pushed first in plain config mode), and the command that confirms it.
    config_mode_command: str = ""
    confirm_command: str = ""
    prelude: str = ""
    # Junos: the config mode that locks the shared candidate (a refused change never stays in a
    # candidate another operator's commit would apply) and discards what is not committed.
    exclusive_command: str = ""
    lab: bool = False  # the lab has real routers of this platform

    @property
    def description_max(self) -> int:
        """From confprov/domain.py, where registry ``check`` reads it too."""
        return domain.rules(self.name).description_max

    @property
    def description_charset(self) -> str:
        """A regex character class body: what a description may hold (confprov/domain.py)."""
        return domain.rules(self.name).description_charset

    @property
    def error_re(self) -> re.Pattern[str]:
        return re.compile(self.error_pattern, re.MULTILINE)

    @property
    def volatile_re(self) -> re.Pattern[str]:
        return re.compile(self.volatile)


PLATFORMS: dict[str, Platform] = {
    "frr": Platform(
        name="frr",
        device_type="cisco_ios",  # vtysh speaks IOS's dialect; netmiko has no FRR driver
        syntax="tree",
        show_running="show running-config",
        error_pattern=r"^% (?!Warning)[^\n]*",
        negate="no ",
        exit_block="exit",
        commit="immediate",
        revert="confprov's diff-based revert (FRR has no confirmed commit)",
        qos=False,  # FRR routes; marking is the kernel's (nftables), not FRR's config
        acl=False,  # FRR's access-lists filter routes, not packets
        ntp=False,  # the Linux host's NTP, not FRR's
        volatile=r"^(Building configuration|Current configuration)",
        save_command="write memory",
        lab=True,
    ),
    "cisco_ios": Platform(
        name="cisco_ios",
        device_type="cisco_ios",
        syntax="tree",
        show_running="show running-config",
        error_pattern=(
            r"^% (?:Invalid|Unknown|Incomplete|Ambiguous|Bad|Unrecognized|Error|Duplicate)[^\n]*"
            r"|^%[^\n]*(?:not found|does not exist|failed|in use|being used|not configured)"
            r"[^\n]*"
        ),
        negate="no ",
        exit_block="exit",
        commit="immediate",
        revert=(
            "`configure terminal revert timer` (archive) reverts on its own if confprov cannot "
            "confirm; confprov's diff-based revert when a check fails"
        ),
        qos=True,
        acl=True,
        ntp=True,
        save_command="write memory",
        config_mode_command="configure terminal revert timer {minutes}",
        confirm_command="configure confirm",
        prelude="archive",
    ),
    "huawei_vrp": Platform(
        name="huawei_vrp",
        device_type="huawei",
        syntax="tree",
        show_running="display current-configuration",
        error_pattern=(
            r"^Error:[^\n]*|Unrecognized command[^\n]*|Wrong parameter[^\n]*"
            r"|Incomplete command[^\n]*|Too many parameters[^\n]*"
        ),
        negate="undo ",
        exit_block="quit",
        commit="immediate",
        revert="confprov's diff-based revert (VRP V5 has no confirmed commit)",
        qos=True,
        acl=True,
        ntp=True,
        volatile=r"^(!Software Version|!Last configuration was|#$)",
    ),
    "mikrotik_routeros": Platform(
        name="mikrotik_routeros",
        device_type="mikrotik_routeros",
        syntax="routeros",
        show_running="/export terse",
        error_pattern=(
            r"^(?:failure:|bad command name|syntax error|expected end of command|"
            r"input does not match any value|no such item|invalid value)[^\n]*"
        ),
        negate="",
        exit_block="",
        commit="immediate",
        revert="confprov's diff-based revert (RouterOS safe mode is not scriptable)",
        qos=True,
        acl=True,
        ntp=True,
        volatile=r"^# .*(by RouterOS|software id|model =|serial number)",
        save=False,  # RouterOS keeps every change
    ),
    "juniper_junos": Platform(
        name="juniper_junos",
        device_type="juniper_junos",
        syntax="set",
        show_running="show configuration | display set",
        error_pattern=(
            r"^(?:error:|syntax error|unknown command|missing argument|invalid value|"
            r"\s*\^\s*$)[^\n]*"
        ),
        negate="delete ",
        exit_block="",
        commit="confirmed",
        revert="`commit confirmed` (Junos rolls back on its own unless confprov confirms)",
        qos=True,
        acl=True,
        ntp=True,
        volatile=r"^(## Last commit|## Last changed)",
        save=False,  # the confirming commit is the save
        exclusive_command="configure exclusive",
    ),
}


def platform(name: str) -> Platform:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise InputError(
            f"unknown router platform {name!r} (known: {', '.join(PLATFORMS)})"
        ) from None
