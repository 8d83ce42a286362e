"""confprov.core.not_ready: why an endpoint is not ready, judged by confprov's own verdict."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: not_ready
short_description: The failing checks of one endpoint's confprov_check result
description:
  - Judges the result of the C(confprov_check) module (role C(connection_check)) against the
    workspace's thresholds (C(confprov_thresholds)) exactly as C(confprov verify) does; the
    verdicts come from confprov's one judge (C(confprov.verify.evaluate)), never from a second
    copy of the rules here.
  - Returns one line per failing check (the check's name and its reason); an empty list
    means the endpoint is ready. playbooks/verify.yml fails each endpoint that is not ready
    with it, so the job's status (AWX, or plain C(ansible-playbook)'s exit code) means
    readiness.
  - Needs the C(confprov) Python package where the play runs (the execution environment
    has it).
version_added: "0.1.0"
requirements:
  - confprov (the Python package, on the controller; the filter applies confprov.verify.evaluate)
positional: _input, host, thresholds
options:
  _input:
    description: The registered result of the C(confprov_check) task (its C(checks) list).
    type: dict
    required: true
  host:
    description: The endpoint's inventory name (named in the reasons).
    type: str
    required: true
  thresholds:
    description: The readiness thresholds, C(confprov_thresholds) of the inventory (confprov.yml).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Fail where the endpoint is not ready
  ansible.builtin.assert:
    that: why | length == 0
    fail_msg: "{{ why | join('; ') }}"
  vars:
    why: >-
      {{ connection_check_result
         | confprov.core.not_ready(inventory_hostname, confprov_thresholds) }}
"""

RETURN = r"""
_value:
  description: One line per failing check; empty when the endpoint is ready.
  type: list
  elements: str
"""


def not_ready(result: dict[str, Any], host: str, thresholds: dict[str, Any]) -> list[str]:
    try:
        from confprov.config import Thresholds
        from confprov.verify.evaluate import endpoint_verdicts, host_failure
    except ImportError as exc:
        raise AnsibleFilterError(f"not_ready needs the confprov Python package: {exc}") from None
    try:
        limits = Thresholds(**dict(thresholds))
    except TypeError as exc:
        raise AnsibleFilterError(f"not_ready: thresholds: {exc}") from None
    if not isinstance(result, dict) or not result.get("checks"):
        # Judged as confprov verify judges an endpoint whose checks could not run.
        verdicts = [host_failure(host, "failed", "no check result from the endpoint")]
    else:
        verdicts = endpoint_verdicts(host, result, limits)
    return [f"{v.check}: {v.reason}" for v in verdicts if v.severity == "fail"]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"not_ready": not_ready}
