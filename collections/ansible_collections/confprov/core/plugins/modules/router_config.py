#!/usr/bin/python
"""confprov.core.router_config: plan, push, roll back or check many routers at once (netmiko)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: router_config
short_description: Push the conference's config to many site routers at once, with diff, backup, checks and revert
description:
  - Runs on the controller (C(ansible_connection=local)) and drives every router given in
    O(routers) over SSH with netmiko, up to O(workers) at a time, each with its own connect and
    command timeouts, so a slow or dead router never holds up the others.
  - Meant to run once per play (C(run_once=true)) with every router's variables, not once per
    router, since importing netmiko and starting a module cost more than a router push.
  - For each router it renders the platform's candidate config (route to the conference
    network, WAN interface description with the site's name, and where the platform has them
    DSCP marking, an access list and the NTP server), reads the running config, and sends only
    the lines that are missing. Before changing anything it keeps the running config in
    C(<workspace>/backups/<router>/<time>.cfg).
  - A line the router refuses, a failed check (the router must still answer and every intended
    line must be present) or a failed save reverts the router to its backup on its own, using
    the platform's confirmed commit where it has one (Junos C(commit confirmed), IOS
    C(configure terminal revert timer)) and confprov's diff-based revert elsewhere (FRR, VRP,
    RouterOS).
  - Host keys are checked against O(known_hosts) only; an unknown or changed key is refused.
version_added: "0.1.0"
author: confprov developers
options:
  action:
    description:
      - V(push) applies what is missing; V(rollback) restores a backup (O(backup), default the
        newest); V(check) only reports whether every intended line is present.
      - In check mode, V(push) and V(rollback) connect and read but change nothing; the result
        says what they would do (this is C(confprov routers plan)).
    type: str
    choices: [push, rollback, check]
    default: push
  routers:
    description: The routers, one mapping each (usually built by the C(confprov.core.router_targets) filter).
    type: list
    elements: dict
    required: true
    suboptions:
      host: {description: Inventory name., type: str, required: true}
      address: {description: Management address., type: str, required: true}
      platform:
        description: Router platform.
        type: str
        required: true
        choices: [frr, cisco_ios, huawei_vrp, mikrotik_routeros, juniper_junos]
      site_name: {description: The site's name (transliterated to ASCII for the description)., type: str, required: true}
      wan_interface: {description: "The WAN interface (described, and where marking is applied); empty: no interface lines.", type: str, required: true}
      wan_gateway: {description: "Next hop toward the conference network; empty: no static routes.", type: str, required: true}
      username: {description: SSH login (from the vault)., type: str, required: true}
      password: {description: SSH password (from the vault)., type: str, required: true, no_log: true}
      port: {description: SSH port., type: int, default: 22}
      extra_config:
        description: Extra lines for this router, in its platform's config syntax, added to the candidate.
        type: str
        default: ""
  conference:
    description: The conference side (C(confprov_conference)); V(network), V(server), V(port), V(transport), V(ntp_server), V(reflector_port) are used.
    type: dict
    required: true
  workspace:
    description: The confprov workspace (backups are kept under it).
    type: path
    required: true
  known_hosts:
    description: The only file host keys are checked against.
    type: path
    required: true
  backup:
    description: With O(action=rollback), the backup to restore (its name, e.g. V(20261126-101500)); default the newest.
    type: str
    default: ""
  workers:
    description: Routers handled at once.
    type: int
    default: 50
  connect_timeout:
    description: Seconds for TCP connect, SSH banner and login, each.
    type: float
    default: 10
  command_timeout:
    description: Seconds to wait for one command's output.
    type: float
    default: 30
  confirm_minutes:
    description: Minutes after which a router with a confirmed commit reverts on its own unless confirmed.
    type: int
    default: 5
  connect_attempts:
    description:
      - Attempts to open each router's session when it does not answer (exponential backoff
        between them), only ever before any line was sent to it; at most 5.
    type: int
    default: 3
  stop_file:
    description:
      - When this file appears (or the module gets SIGINT, SIGTERM or SIGHUP), no further router
        is started; the routers under way finish (pushed and confirmed, or reverted) and the
        others are reported C(interrupted), unchanged. C(confprov routers push) creates it on
        Ctrl-C.
    type: path
  progress_file:
    description:
      - A file to which each router's end is appended as one JSON line (V(host), V(status)), as
        it happens; C(confprov routers) shows a progress with a total from it.
    type: path
  session_log_dir:
    description: Folder for one netmiko session log per router (the password is filtered out); empty for none.
    type: path
  audio_ports:
    description: UDP port range of the conference's audio (marked DSCP EF).
    type: list
    elements: int
    default: [16384, 24575]
  video_ports:
    description: UDP port range of the conference's video (marked DSCP AF41).
    type: list
    elements: int
    default: [24576, 32767]
  fail_on_router_error:
    description:
      - Fail the task, naming each failed router and why, when any router failed. With V(false)
        the task succeeds and the failures are only in RV(routers) and RV(failed_routers).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Connects and reads each router, changes nothing, returns what would change (C(routers.<host>.diff)).
  diff_mode:
    support: full
    description: The C(+)/C(-) lines per router, with their blocks as context.
  idempotent:
    support: full
    description: Only missing lines are sent; a second run reports C(changed=false) and takes no backup.
  platform:
    platforms: [frr, cisco_ios, huawei_vrp, mikrotik_routeros, juniper_junos]
    description: Tested against real FRR routers (the confprov lab); the other platforms against golden files and recorded output only.
notes:
  - Needs the confprov Python package and netmiko on the controller (C(ansible_python_interpreter) = the venv's Python).
requirements: [confprov, netmiko >= 4.4]
"""

EXAMPLES = r"""
- name: Push the conference config to every router at once
  confprov.core.router_config:
    routers: "{{ ansible_play_hosts | confprov.core.router_targets(hostvars) }}"
    conference: "{{ confprov_conference }}"
    workspace: "{{ confprov_workspace }}"
    known_hosts: "{{ confprov_known_hosts }}"
  run_once: true
  register: pushed

- name: Roll every router back to a given backup
  confprov.core.router_config:
    action: rollback
    backup: "20261126-101500"
    routers: "{{ ansible_play_hosts | confprov.core.router_targets(hostvars) }}"
    conference: "{{ confprov_conference }}"
    workspace: "{{ confprov_workspace }}"
    known_hosts: "{{ confprov_known_hosts }}"
  run_once: true
"""

RETURN = r"""
routers:
  description: One result per router, by inventory name.
  returned: always
  type: dict
  sample:
    cam-khe-rt:
      status: changed
      changed: true
      failed: false
      diff: "+ ip route 198.18.32.0/24 198.18.8.1"
      commands: ["ip route 198.18.32.0/24 198.18.8.1"]
      backup: /srv/ws/backups/cam-khe-rt/20261126-101500.cfg
      reverted: false
      missing: []
      message: 3 line(s) added, 0 removed
      seconds: 0.74
failed_routers:
  description: Names of the routers that failed or did not answer.
  returned: always
  type: list
  elements: str
changed_routers:
  description: Names of the routers that changed (or, in check mode, would change).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

ROUTER_OPTIONS = {
    "host": {"type": "str", "required": True},
    "address": {"type": "str", "required": True},
    "platform": {
        "type": "str",
        "required": True,
        "choices": ["frr", "cisco_ios", "huawei_vrp", "mikrotik_routeros", "juniper_junos"],
    },
    "site_name": {"type": "str", "required": True},
    "wan_interface": {"type": "str", "required": True},
    "wan_gateway": {"type": "str", "required": True},
    "username": {"type": "str", "required": True},
    "password": {"type": "str", "required": True, "no_log": True},
    "port": {"type": "int", "default": 22},
    "extra_config": {"type": "str", "default": ""},
}


# The defaults are confprov.routers.settings.DEFAULTS' (a contract test holds them equal): Ansible
# reads this spec and DOCUMENTATION without importing confprov, so they are literals.
ARGUMENT_SPEC = {
    "action": {"type": "str", "default": "push", "choices": ["push", "rollback", "check"]},
    "routers": {"type": "list", "elements": "dict", "required": True, "options": ROUTER_OPTIONS},
    "conference": {"type": "dict", "required": True},
    "workspace": {"type": "path", "required": True},
    "known_hosts": {"type": "path", "required": True},
    "backup": {"type": "str", "default": ""},
    "workers": {"type": "int", "default": 50},
    "connect_timeout": {"type": "float", "default": 10},
    "command_timeout": {"type": "float", "default": 30},
    "confirm_minutes": {"type": "int", "default": 5},
    "connect_attempts": {"type": "int", "default": 3},
    "stop_file": {"type": "path"},
    "progress_file": {"type": "path"},
    "session_log_dir": {"type": "path"},
    "audio_ports": {"type": "list", "elements": "int", "default": [16384, 24575]},
    "video_ports": {"type": "list", "elements": "int", "default": [24576, 32767]},
    "fail_on_router_error": {"type": "bool", "default": True},
}


def main() -> None:
    """A thin adapter over confprov.routers.api: parameters in, the API's JSON out."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        from confprov.exceptions import ConfprovError
        from confprov.routers import api
    except ImportError as exc:
        module.fail_json(msg=f"confprov is not importable by {module._name}'s Python: {exc}")
    try:
        out = api.from_module(module.params, check_mode=module.check_mode)
    except ConfprovError as exc:
        module.fail_json(msg=str(exc))
    if out["failed_routers"] and module.params["fail_on_router_error"]:
        module.fail_json(**out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
