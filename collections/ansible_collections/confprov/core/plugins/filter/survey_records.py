"""confprov.core.survey_records: every endpoint's survey record, for one save task on the
controller."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: survey_records
short_description: The site_survey role's records (host, site, site name, survey) of some hosts
version_added: "0.1.0"
description:
  - For each host, reads its site (C(confprov_site)), Vietnamese site name (C(confprov_site_name))
    and the C(survey) of the result it registered under O(result) (a confprov.core.endpoint_state
    call with survey true), so one run_once task can save every endpoint's survey instead of one
    task per endpoint. Hosts whose result has no survey (failed or skipped) are left out.
positional: _input, hostvars
options:
  _input:
    description: Host names (usually C(ansible_play_hosts)).
    type: list
    elements: str
    required: true
  hostvars: {description: C(hostvars)., type: dict, required: true}
  result:
    description: Name of the registered result holding C(survey).
    type: str
    required: true
"""

EXAMPLES = r"""
records: "{{ ansible_play_hosts | confprov.core.survey_records(hostvars, result='state') }}"
"""

RETURN = r"""
_value: {description: Host name to its record., type: dict}
"""


def survey_records(hosts: list[str], hostvars: Any, result: str) -> dict[str, dict[str, Any]]:
    out = {}
    for host in hosts:
        v = hostvars[host]
        read = v.get(result) or {}
        survey = read.get("survey") if isinstance(read, dict) else None
        if not isinstance(survey, dict):
            continue
        if "confprov_site" not in v:
            raise AnsibleFilterError(f"survey_records: host {host} has no confprov_site variable")
        out[host] = {
            "host": host,
            "site": v["confprov_site"],
            "site_name": v.get("confprov_site_name", ""),
            **survey,
        }
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"survey_records": survey_records}
